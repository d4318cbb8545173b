"""``field__any=values``: membership in a Python collection as ONE parameter, whatever its size.

Django's ``__in`` binds one parameter per value, so a statement built from a
collection that grows with the data (every due post-mortem, every selected row)
grows with it, and PostgreSQL refuses a statement past 65,535 parameters
(``number of parameters must be between 0 and 65535``); before that limit each
size is a new statement text to parse, plan and prepare. ``__any`` sends the
collection as one array: ``column = ANY(%s::<type>[])`` on PostgreSQL. SQLite
has no arrays, so there it is the same ``IN (...)`` as ``__in`` (SQLite allows
32,766 parameters); callers whose collections can be large pass them in chunks
(``chunks``) so that both databases stay bounded.

Registered on every field when the ``postmortems`` app is ready.
"""

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

from django.db.models import Field, ForeignObject, Lookup


class Any(Lookup):
    """``column = ANY(array)`` (PostgreSQL) or ``column IN (...)`` (SQLite); an empty collection matches nothing."""

    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self) -> list:
        field = getattr(self.lhs, "output_field", None)
        values = [getattr(v, "pk", v) for v in self.rhs]  # model instances by their key, as ``__in`` takes them
        return [field.get_prep_value(v) for v in values] if field is not None else values

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(v, connection, prepared=True) for v in self.rhs]
        if not values:
            return "1 = 0", []
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::{field.rel_db_type(connection)}[])", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


Field.register_lookup(Any)
ForeignObject.register_lookup(Any)  # relations keep their own lookup table: ``postmortem__any`` too


def chunks(values: Iterable, size: int) -> Iterator[Sequence]:
    """``values`` in lists of at most ``size`` (the last one shorter); nothing for an empty iterable."""
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk
