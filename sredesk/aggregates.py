"""SQL expressions for durations and percentiles, the same answer on PostgreSQL and the embedded SQLite.

* :class:`Seconds` is ``end - start`` of two aware datetime columns, in
  seconds (a float; NULL when either is NULL). PostgreSQL: ``EXTRACT(EPOCH
  FROM end - start)``; SQLite (which stores datetimes as ISO text):
  ``(julianday(end) - julianday(start)) * 86400``, exact to the millisecond
  (SQLite reads three digits of fractional seconds), so results are rounded
  to milliseconds by :func:`round_seconds` before anyone sees them.
* :class:`Percentile` is the continuous percentile (linear interpolation
  between the two nearest ranks, as PostgreSQL's ``percentile_cont``) of an
  expression within each group, NULLs ignored: PostgreSQL's ordered-set
  aggregate ``percentile_cont(f) WITHIN GROUP (ORDER BY x)``; on SQLite an
  aggregate of the same definition registered on every connection
  (:func:`register_sqlite_functions`, connected by ``reports.apps``). Both
  run inside the query: a report asks one query per kind of figure, however
  many teams, services or rows there are.
"""

from django.db.models import Aggregate, FloatField, Func

SQLITE_PERCENTILE = "sredesk_percentile_cont"


class Seconds(Func):
    """``end - start`` in seconds (float), NULL when either is NULL. ``Seconds("detected_at", "acknowledged_at")``."""

    output_field = FloatField()
    arity = 2

    def __init__(self, start, end, **extra) -> None:
        super().__init__(start, end, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        start, start_params = compiler.compile(self.source_expressions[0])
        end, end_params = compiler.compile(self.source_expressions[1])
        return (
            f"CAST(EXTRACT(EPOCH FROM ({end}) - ({start})) AS double precision)",
            (*end_params, *start_params),
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        start, start_params = compiler.compile(self.source_expressions[0])
        end, end_params = compiler.compile(self.source_expressions[1])
        return f"((julianday({end}) - julianday({start})) * 86400.0)", (*end_params, *start_params)


class Percentile(Aggregate):
    """The ``fraction`` (0..1) continuous percentile of ``expression`` in each group; NULL for no rows.

    ``filter=Q(...)`` narrows the rows, as for any aggregate."""

    name = "Percentile"
    output_field = FloatField()
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra) -> None:
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"a percentile's fraction lies in 0..1, got {fraction}")
        self.fraction = fraction
        super().__init__(expression, **extra)

    def _with_template(self, template: str) -> "Percentile":
        clone = self.copy()
        clone.template = template  # Aggregate.as_sql wraps self.template in FILTER (...) when filtered
        return clone

    def as_sql(self, compiler, connection, **extra_context):
        clone = self._with_template(f"percentile_cont({self.fraction!r}) WITHIN GROUP (ORDER BY %(expressions)s)")
        return super(Percentile, clone).as_sql(compiler, connection, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        clone = self._with_template(f"{SQLITE_PERCENTILE}(%(expressions)s, {self.fraction!r})")
        return super(Percentile, clone).as_sql(compiler, connection, **extra_context)


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's ``percentile_cont`` of ``values`` (any order), in Python: None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _SQLitePercentile:
    """SQLite aggregate ``sredesk_percentile_cont(x, fraction)``: NULL ``x`` ignored, as PostgreSQL does."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        return percentile_cont(self.values, self.fraction)


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: give a new SQLite connection the percentile aggregate."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_PERCENTILE, 2, _SQLitePercentile)


def round_seconds(value: float | None) -> float | None:
    """A duration from SQL, rounded to the millisecond (SQLite's resolution), or None."""
    return None if value is None else round(float(value), 3)
