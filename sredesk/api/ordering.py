"""``?ordering=``: a whitelist per view, always ending in ``id`` so every row has one position."""

from dataclasses import dataclass

from django.db.models import F
from rest_framework import exceptions


@dataclass(frozen=True)
class OrderKey:
    field: str  # model field name (a concrete, non-relational column)
    descending: bool
    nullable: bool

    @property
    def term(self) -> str:
        return f"-{self.field}" if self.descending else self.field

    def expression(self, reverse: bool = False):
        """NULLs last in the requested order on every database (so first when walking backwards).

        A non-null key gets a plain ASC/DESC, which a b-tree index serves in
        either direction (an explicit NULLS LAST on DESC would force a sort).
        """
        nulls = {}
        if self.nullable:
            nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
        if self.descending != reverse:
            return F(self.field).desc(**nulls)
        return F(self.field).asc(**nulls)


class StrictOrderingFilter:
    """``?ordering=-severity,detected_at`` over the view's ``ordering_fields`` whitelist; anything else is a 400.

    The view's ``ordering`` is the default. ``id`` always ends the ordering
    (same direction as the first key), so every row has a unique position.
    """

    param = "ordering"

    @staticmethod
    def _allowed(view) -> tuple[str, ...]:
        return tuple(getattr(view, "ordering_fields", ()))

    def keys(self, request, view) -> list[OrderKey]:
        """The ordering as keys, tie-breaker included. Raises ValidationError for a term not on the whitelist.

        Worked out once per request (the filter, the paginator's checks and its page all ask).
        """
        cached = getattr(request, "_sredesk_order_keys", None)
        if cached is None:
            cached = request._sredesk_order_keys = self._keys(request, view)
        return cached

    def _keys(self, request, view) -> list[OrderKey]:
        model = view.get_queryset().model
        raw = request.query_params.get(self.param)
        if raw is None or not raw.strip():
            terms = list(view.ordering)
        else:
            allowed = self._allowed(view)
            terms, bad = [], []
            for term in raw.split(","):
                term = term.strip()
                if term.lstrip("-") in allowed:
                    if term.lstrip("-") not in [t.lstrip("-") for t in terms]:
                        terms.append(term)
                else:
                    bad.append(term)
            if bad or not terms:
                shown = ", ".join(repr(b[:40]) for b in bad) or "nothing"
                raise exceptions.ValidationError(
                    {self.param: [f"Cannot order by {shown}. Allowed: {', '.join(allowed)} (prefix - to reverse)."]}
                )
        if "id" not in [t.lstrip("-") for t in terms]:
            terms.append("-id" if terms[0].startswith("-") else "id")
        keys = []
        for term in terms:
            name = term.lstrip("-")
            field = model._meta.get_field(name)
            keys.append(OrderKey(field=name, descending=term.startswith("-"), nullable=bool(field.null)))
        return keys

    def filter_queryset(self, request, queryset, view):
        return queryset.order_by(*(key.expression() for key in self.keys(request, view)))

    def get_schema_operation_parameters(self, view):
        allowed = self._allowed(view)
        choices = "|".join(allowed)
        return [
            {
                "name": self.param,
                "required": False,
                "in": "query",
                "description": (
                    f"Comma-separated fields to order by, `-` to reverse. Allowed: {', '.join(allowed)}. "
                    f"Default: {','.join(view.ordering)}. `id` always breaks ties."
                ),
                "schema": {"type": "string", "pattern": f"^-?({choices})(,-?({choices}))*$"},
            }
        ]
