"""Hand-written SQL for the hot paths where compiling an ORM query costs more than running it.

The alert webhook runs a handful of statements per delivery, thousands of
times a second (``bench/ingest.py``); there, building the SQL through the ORM
took longer than PostgreSQL took to run it. These two helpers keep the ORM's
meaning (field names, value adaptation, converters, model instances) and skip
only the compilation. Everything else in sredesk uses the ORM.

Both work on PostgreSQL and SQLite (3.35+, for ``RETURNING``). Values always
travel as parameters; only our own table and column names are formatted in.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
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


# Fields whose Python value is already what the database driver takes (ORM adaptation is the identity).
_PLAIN_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.ForeignKey)
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
    DjangoJSONEncoder), JSON values nested as they are."""
    return json.dumps(rows, default=_iso_time, separators=(",", ":"))


def _iso_time(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot travel in a JSON row")


@cache
def _writer(model: type[Model], names: tuple[str, ...], returning: str, vendor: str):
    """How to insert ``names`` of ``model``, cached: (mode, columns, statement parts).

    On PostgreSQL, when every column can travel as JSON, the rows are ONE
    parameter read by ``jsonb_to_recordset``: the statement text is the same
    for any number of rows, so PostgreSQL prepares it once and psycopg parses
    it once (it re-parses any statement with more than 50 parameters). Else a
    VALUES list with one placeholder per value.
    """
    fields = [_field(model, name) for name in names]
    columns = ", ".join(_quote(f.column) for f in fields)
    head = f"INSERT INTO {_quote(model._meta.db_table)} ({columns}) "
    tail = f" RETURNING {_quote(_field(model, returning).column)}" if returning else ""
    if vendor == "postgresql" and all(isinstance(field, _JSON_SAFE) for field in fields):
        spec = ", ".join(f"{_quote(f.column)} {f.db_type(connection)}" for f in fields)
        keys = [(name, field.column) for name, field in zip(names, fields, strict=True)]
        return "json", keys, f"{head}SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS v ({spec}){tail}"  # noqa: S608
    plain = [isinstance(field, _PLAIN_FIELDS) for field in fields]
    adapters = [field.get_db_prep_save for field in fields]
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return "values", list(zip(names, plain, adapters, strict=True)), (f"{head}VALUES ", one, tail)


def insert(model: type[Model], rows: Sequence[Mapping[str, object]], *, returning: str = "") -> list:
    """INSERT ``rows`` (field name -> Python value, the same keys in every row) in one statement.

    Values are stored as the ORM stores them (``get_db_prep_save``, or the
    same value as JSON on PostgreSQL); give every NOT NULL column, since model
    defaults are not applied. Returns the ``returning`` column of each row in
    insertion order (as Django's own bulk_create relies on), or [] without
    ``returning``. No signals are sent.
    """
    if not rows:
        return []
    db = connections[DEFAULT_DB_ALIAS]
    mode, columns, statement = _writer(model, tuple(rows[0]), returning, db.vendor)
    if mode == "json":
        sql, params = statement, [rows_json([{column: row[name] for name, column in columns} for row in rows])]
    else:
        head, one, tail = statement
        sql, params = head + ", ".join([one] * len(rows)) + tail, []
        for row in rows:
            for name, plain, adapt in columns:
                value = row[name]
                if value is None or (plain and value.__class__ in (str, int)):
                    params.append(value)
                else:
                    params.append(adapt(value, db))
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return [value for (value,) in cursor.fetchall()] if returning else []


def to_python(model: type[Model], field: str, value):
    """A value of ``model.field`` read by hand-written SQL (an aggregate, say), converted as the ORM converts it."""
    _, _, [(column, functions)] = _reader(model, (field,), connection.vendor)
    for function in functions:
        value = function(value, column, connection)
    return value


def for_update() -> str:
    """``FOR UPDATE`` where the database has row locks; SQLite locks the whole file for a write transaction."""
    return "FOR UPDATE" if connection.features.has_select_for_update else ""
