"""Hand-written SQL, only where a benchmark shows it pays; every helper names the benchmark that justifies it.

* ``select`` and ``select_first``: the alert webhook's integration lookup and
  its candidate alerts. ``bench/ingest.py``: the webhook runs a handful of
  statements per delivery, thousands of times a second, and compiling them
  through the ORM took longer than PostgreSQL took to run them;
  ``select_first`` also stands in for the connection health check (one round
  trip fewer per request).
* ``insert``, the one bulk-insert helper: the webhook's alerts and receipts
  (``bench/ingest.py``), a CI upload's results, tens of thousands at once
  (``bench/junit.py``, through COPY), and the reminder ledger's reminders and
  deliveries (``bench/sweep.py``: a model instance per row dominated
  planning; ON CONFLICT DO NOTHING RETURNING keeps two sweeps from planning
  one step twice).
* ``adapted_values``, ``rows_json`` and ``to_python``: values for and from the
  webhook's own statements in ``incidents/ingest/`` (``bench/ingest.py``).

They keep the ORM's meaning (field names, value adaptation, converters,
model instances) and skip only the compilation. Elsewhere the only
hand-written statements are ``slos.tallies``' one statement for many SLOs
(its docstring says why; ``bench/slo.py``) and ``/readyz``'s ``SELECT 1``. Person-made incident
moves, timeline entries and post-mortem drafts use the ORM
(``bench/ingest.py`` showed no gain from writing them by hand).

They work on PostgreSQL and SQLite (3.35+, for ``RETURNING``). Values always
travel as parameters; only our own table and column names are formatted in.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections, models
from django.db.models import Field, Model


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _field(model: type[Model], name: str) -> Field:
    """A concrete field by name or attname (``incident`` or ``incident_id``)."""
    for field in model._meta.concrete_fields:
        if name in (field.name, field.attname):
            return field
    raise LookupError(f"{model.__name__} has no concrete field {name!r}")


@cache
def _reader(model: type[Model], names: tuple[str, ...], vendor: str):
    """(attnames, column list SQL, [(column expression, converters)]) to read ``names`` of ``model``; cached."""
    wanted = {_field(model, name) for name in names}
    # In the model's own order: Model.from_db() takes the values of a partial row in that order.
    fields = [field for field in model._meta.concrete_fields if not names or field in wanted]
    converters = []
    for field in fields:
        column = field.get_col(model._meta.db_table)
        functions = [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]
        converters.append((column, functions))
    columns = ", ".join(_quote(field.column) for field in fields)
    return [field.attname for field in fields], columns, converters


def select(model: type[Model], where: str, params: Sequence, *, fields: Sequence[str] = (), tail: str = "") -> list:
    """``SELECT <fields> FROM <model's table> WHERE <where> <tail>`` as model instances (the rest deferred).

    ``where``/``tail`` are SQL with ``%s`` placeholders for ``params``. Values
    are converted as the ORM converts them (JSON decoded, SQLite times parsed).
    Benchmark: ``bench/ingest.py`` (the webhook's candidate alerts).
    """
    db = connections[DEFAULT_DB_ALIAS]  # once: every attribute of the ``connection`` proxy is a lookup
    attnames, columns, converters = _reader(model, tuple(fields), db.vendor)
    sql = f"SELECT {columns} FROM {_quote(model._meta.db_table)} WHERE {where} {tail}"  # noqa: S608
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found = []
    for row in rows:
        values = list(row)
        for i, (column, functions) in enumerate(converters):
            for function in functions:
                values[i] = function(values[i], column, db)
        found.append(model.from_db(db.alias, attnames, values))
    return found


def select_first(model: type[Model], where: str, params: Sequence, **options) -> list:
    """``select`` as the request's first statement, standing in for Django's connection health check.

    With ``CONN_HEALTH_CHECKS``, Django sends ``SELECT 1`` before a request's
    first query on a reused connection, so that a connection the server has
    dropped is replaced rather than failing the request. A read is harmless to
    run twice, so this one is the check: when it fails (InterfaceError,
    OperationalError) and the connection is found unusable, the connection is
    closed and the read runs once more on a new one; any other error is
    raised. One round trip fewer per request; meant for an endpoint that
    machines call thousands of times a second (the alert webhook). Outside a
    request's first query it is ``select``. Benchmark: ``bench/ingest.py``.
    """
    db = connections[DEFAULT_DB_ALIAS]
    if db.connection is None or db.in_atomic_block or not db.health_check_enabled or db.health_check_done:
        return select(model, where, params, **options)
    db.health_check_done = True
    try:
        return select(model, where, params, **options)
    except (InterfaceError, OperationalError):
        if db.is_usable():  # the connection is fine: a real error (a timeout, a lock), not a dropped connection
            raise
        db.close()
        return select(model, where, params, **options)


# Fields whose Python value is already what the database driver takes (ORM adaptation is the identity).
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.FloatField,
    models.BooleanField,
    models.ForeignKey,
)
_PLAIN_TYPES = (str, int, float, bool)
# What rows as one JSON document (PostgreSQL's jsonb_to_recordset) can carry: not raw bytes.
_JSON_SAFE = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.ForeignKey,
    models.DateTimeField,
    models.JSONField,
    models.BooleanField,
)


def rows_json(rows: Sequence[Mapping[str, object]]) -> str:
    """Rows as one JSON array for ``jsonb_to_recordset``: times in full ISO 8601 (microseconds kept, unlike
    DjangoJSONEncoder), JSON values nested as they are. For ``insert`` and the webhook's slot statement
    (``incidents.ingest.matching``; benchmark: ``bench/ingest.py``)."""
    return json.dumps(rows, default=_iso_time, separators=(",", ":"))


def _iso_time(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot travel in a JSON row")


@dataclass(frozen=True)
class _Writer:
    """How to insert some fields of a model: adapters per column and the statement in each form."""

    adapters: list  # (name, plain, get_db_prep_save) per column
    values_head: str  # INSERT INTO t (columns) VALUES
    one_row: str  # (%s, %s, ...)
    tail: str  # RETURNING ..., or ""
    json_keys: list | None  # (name, column) per column, when the rows can travel as JSON (PostgreSQL)
    json_sql: str
    copy_sql: str  # COPY t (columns) FROM STDIN (PostgreSQL)


@cache
def _writer(
    model: type[Model], names: tuple[str, ...], returning: tuple[str, ...], vendor: str, ignore_conflicts: bool = False
) -> _Writer:
    fields = [_field(model, name) for name in names]
    columns = ", ".join(_quote(f.column) for f in fields)
    head = f"INSERT INTO {_quote(model._meta.db_table)} ({columns}) "
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if returning:
        tail += " RETURNING " + ", ".join(_quote(_field(model, name).column) for name in returning)
    json_keys, json_sql = None, ""
    if vendor == "postgresql" and all(isinstance(field, _JSON_SAFE) for field in fields):
        spec = ", ".join(f"{_quote(f.column)} {f.db_type(connection)}" for f in fields)
        json_keys = [(name, field.column) for name, field in zip(names, fields, strict=True)]
        json_sql = f"{head}SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS v ({spec}){tail}"  # noqa: S608
    return _Writer(
        adapters=[
            (name, isinstance(f, _PLAIN_FIELDS), f.get_db_prep_save) for name, f in zip(names, fields, strict=True)
        ],
        values_head=f"{head}VALUES ",
        one_row="(" + ", ".join(["%s"] * len(fields)) + ")",
        tail=tail,
        json_keys=json_keys,
        json_sql=json_sql,
        copy_sql=f"COPY {_quote(model._meta.db_table)} ({columns}) FROM STDIN",
    )


# From this many rows without RETURNING, PostgreSQL gets them through COPY.
MANY_ROWS = 200
# At most this many parameters in one VALUES statement (SQLite allows 32,766, PostgreSQL 65,535).
MAX_PARAMS = 30_000


def insert(
    model: type[Model],
    rows: Sequence[Mapping[str, object]],
    *,
    returning: str | tuple[str, ...] = "",
    ignore_conflicts: bool = False,
) -> list:
    """INSERT ``rows`` (field name -> Python value, the same keys in every row); one round trip on PostgreSQL.

    Values are stored as the ORM stores them (``get_db_prep_save``, or the
    same value as JSON); give every NOT NULL column, since model defaults
    are not applied. ``returning`` is a field name (returns that column of
    each row, in insertion order, as Django's own bulk_create relies on) or
    a tuple of names (returns a tuple per row); without it, returns [].
    ``ignore_conflicts`` adds ``ON CONFLICT DO NOTHING``: a row that would
    break a unique constraint is skipped, and RETURNING gives only the rows
    this statement inserted (match them by their returned columns, not by
    position). No signals are sent.

    The statement's form: on PostgreSQL, rows whose columns can travel as
    JSON are ONE parameter read by ``jsonb_to_recordset`` (the same text for
    any number of rows: prepared once, and parsed once by psycopg, which
    re-parses any statement with more than 50 parameters); many rows without
    RETURNING or conflicts to ignore go through ``COPY ... FROM STDIN``.
    Otherwise, and on SQLite, VALUES lists of at most ``MAX_PARAMS``
    parameters each (one round trip per list).

    Benchmarks: ``bench/ingest.py`` (alerts, receipts), ``bench/junit.py``
    (test results), ``bench/sweep.py`` (reminders and their deliveries).
    """
    if not rows:
        return []
    db = connections[DEFAULT_DB_ALIAS]
    names = (returning,) if isinstance(returning, str) and returning else tuple(returning or ())
    writer = _writer(model, tuple(rows[0]), names, db.vendor, ignore_conflicts)
    many = db.vendor == "postgresql" and not names and not ignore_conflicts and len(rows) >= MANY_ROWS
    found: list[tuple] = []
    with db.cursor() as cursor:
        if writer.json_keys is not None and not many:
            document = rows_json([{column: row[name] for name, column in writer.json_keys} for row in rows])
            cursor.execute(writer.json_sql, [document])
            found = cursor.fetchall() if names else []
        elif many:
            with cursor.copy(writer.copy_sql) as copy:  # psycopg's COPY: the fastest way in for many rows
                for row in rows:
                    copy.write_row(_adapted(writer, row, db))
        else:
            size = max(1, MAX_PARAMS // len(writer.adapters))
            for start in range(0, len(rows), size):
                chunk = rows[start : start + size]
                params = [value for row in chunk for value in _adapted(writer, row, db)]
                cursor.execute(writer.values_head + ", ".join([writer.one_row] * len(chunk)) + writer.tail, params)
                found += cursor.fetchall() if names else []
    if isinstance(returning, str):
        return [value for (value,) in found]
    return [tuple(row) for row in found]


def adapted_values(model: type[Model], row: Mapping[str, object]) -> list:
    """``row``'s values (field name -> Python value) in its key order, as the ORM hands them to the driver.

    For a statement written by hand that writes a row among other things (``incidents.ingest.matching``'s
    one-statement path); ``insert`` covers the plain INSERT. Benchmark: ``bench/ingest.py``.
    """
    db = connections[DEFAULT_DB_ALIAS]
    return _adapted(_writer(model, tuple(row), (), db.vendor), row, db)


def _adapted(writer: _Writer, row: Mapping[str, object], db) -> list:
    """One row's values as the ORM hands them to the driver (strings, numbers, booleans and ids as they are)."""
    values = []
    for name, plain, adapt in writer.adapters:
        value = row[name]
        values.append(value if value is None or (plain and value.__class__ in _PLAIN_TYPES) else adapt(value, db))
    return values


def to_python(model: type[Model], field: str, value):
    """A value of ``model.field`` read by hand-written SQL (an aggregate, say), converted as the ORM converts it.

    For the webhook's settle statement (``incidents.ingest.grouping``); benchmark: ``bench/ingest.py``.
    """
    _, _, [(column, functions)] = _reader(model, (field,), connection.vendor)
    for function in functions:
        value = function(value, column, connection)
    return value
