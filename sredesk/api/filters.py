"""django-filter building blocks for the API's FilterSets: strict, so a bad value is a 400 naming the parameter.

* ``MultiChoiceFilter``: ``?status=triggered&status=acknowledged`` or
  ``?status=triggered,acknowledged``; aliases (``open``, ``SEV1``) expand first.
* ``RefFilter``: an object by id or by its slug / username; an unknown one is an error, not an empty page.
* ``InstantFilter``: ISO 8601 (``2024-05-01T10:00:00.000Z``, ``+02:00``, or a
  date); a time without an offset is read as UTC.
* ``StrictBooleanFilter``: true/false/1/0/yes/no; anything else is an error
  (django-filter's own BooleanFilter silently ignores ``?overdue=maybe``).
"""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, time

import django_filters
from django import forms
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from sredesk.inputs import InputError, is_ascii_int

MAX_ID_DIGITS = 18  # fits a bigint


class _CSVMultipleWidget(forms.SelectMultiple):
    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return [part.strip() for value in values if value for part in str(value).split(",") if part.strip()]


class _AliasMultipleChoiceField(forms.MultipleChoiceField):
    widget = _CSVMultipleWidget

    def __init__(self, *args, aliases: Callable[[str], list[str] | None] | None = None, **kwargs):
        self.aliases = aliases
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        values = super().to_python(value)
        if self.aliases is None:
            return values
        out: list[str] = []
        for v in values:
            expanded = self.aliases(v)
            out.extend(expanded if expanded is not None else [v])
        return list(dict.fromkeys(out))


class MultiChoiceFilter(django_filters.MultipleChoiceFilter):
    """Any of several values (repeated or comma-separated); ``aliases(value)`` may expand a value to several."""

    field_class = _AliasMultipleChoiceField

    def __init__(self, *args, aliases=None, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, aliases=aliases, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


def multi_choice(
    field_name: str, choices: Iterable[tuple[str, str]], help_text: str, aliases=None, documented: Iterable[str] = ()
) -> MultiChoiceFilter:
    """A MultiChoiceFilter whose OpenAPI enum lists the choices plus documented aliases."""
    choices = list(choices)
    enum = [value for value, _ in choices] + [a for a in documented if a not in dict(choices)]
    return extend_schema_field({"type": "string", "enum": enum})(
        MultiChoiceFilter(field_name=field_name, choices=choices, aliases=aliases, help_text=help_text)
    )


IdParser = Callable[[str], int]
"""Reads an id written another way (a public id, ``INC-42``) as its number; raises ``InputError`` for anything else."""


def ref_lookup(queryset: QuerySet, slug_field: str | None, value: str, parse: IdParser | None = None) -> Model:
    """The object of ``queryset`` that ``value`` names: its id (digits, or what ``parse`` reads, e.g. INC-42) or
    its ``slug_field`` (slug, username, name). The one rule for filters and writes (``sredesk.api.fields.RefField``).

    Raises ``forms.ValidationError`` (message with params) when it names none.
    """
    value = value.strip()
    name = queryset.model._meta.verbose_name
    if parse is not None and not is_ascii_int(value):
        try:
            value = str(parse(value))
        except InputError as exc:
            raise forms.ValidationError(exc.message) from None
    if is_ascii_int(value):
        if len(value) > MAX_ID_DIGITS:
            raise forms.ValidationError("No %(name)s with so long an id.", params={"name": name})
        obj = queryset.filter(pk=int(value)).first()
    elif slug_field is None:
        raise forms.ValidationError("Give the %(name)s's id.", params={"name": name})
    else:
        obj = queryset.filter(**{slug_field: value}).first()
    if obj is None:
        # Input goes in params, never into the format string (django-filter %-formats messages).
        raise forms.ValidationError(
            "No %(name)s with id or %(field)s %(value)r.",
            params={"name": name, "field": slug_field or "number", "value": value[:80]},
        )
    return obj


class _RefField(forms.CharField):
    def __init__(self, *args, model: type[Model], slug_field: str | None, parse: IdParser | None = None, **kwargs):
        self.model, self.slug_field, self.parse = model, slug_field, parse
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        return ref_lookup(self.model._default_manager.all(), self.slug_field, value, self.parse)


class RefFilter(django_filters.Filter):
    """One object given by id or by ``slug_field``; filters ``field_name`` (or calls ``method``)."""

    field_class = _RefField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{self.field_name: value})


def ref(
    field_name: str,
    model: type[Model],
    slug_field: str | None,
    help_text: str,
    method: str | None = None,
    parse: IdParser | None = None,
) -> RefFilter:
    """An object by id (also as ``parse`` reads it, e.g. INC-42) or by ``slug_field``."""
    kwargs = {"method": method} if method else {}
    return extend_schema_field({"type": "string"})(
        RefFilter(field_name=field_name, model=model, slug_field=slug_field, parse=parse, help_text=help_text, **kwargs)
    )


class _InstantField(forms.CharField):
    default_error_messages = {
        "invalid": "Give an ISO 8601 time such as 2024-05-01T10:00:00Z (or +02:00, or a date).",
        "range": "Out of range.",
    }

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        value = value.strip()
        try:
            parsed = parse_datetime(value)
            if parsed is None:
                day = parse_date(value)
                parsed = datetime.combine(day, time.min) if day else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            if timezone.is_naive(parsed):
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(self.error_messages["range"], code="range") from None


class InstantFilter(django_filters.Filter):
    field_class = _InstantField


def instant(field_name: str, lookup_expr: str, help_text: str) -> InstantFilter:
    return extend_schema_field({"type": "string", "format": "date-time"})(
        InstantFilter(field_name=field_name, lookup_expr=lookup_expr, help_text=help_text)
    )


def instant_range(field_name: str, label: str) -> tuple[InstantFilter, InstantFilter]:
    """(``<x>_after`` (inclusive), ``<x>_before`` (exclusive)) over ``field_name``."""
    return (
        instant(field_name, "gte", f"{label} at or after this time (ISO 8601; no offset means UTC)."),
        instant(field_name, "lt", f"{label} before this time (ISO 8601; no offset means UTC)."),
    )


TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off"}


class _StrictBooleanField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        low = value.strip().lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
        raise forms.ValidationError("Give true or false.")


class StrictBooleanFilter(django_filters.Filter):
    field_class = _StrictBooleanField


def boolean(help_text: str, method: str | None = None, field_name: str | None = None) -> StrictBooleanFilter:
    kwargs = {"method": method} if method else {"field_name": field_name}
    return extend_schema_field({"type": "boolean"})(StrictBooleanFilter(help_text=help_text, **kwargs))


def search(help_text: str, method: str = "filter_search") -> django_filters.CharFilter:
    return django_filters.CharFilter(method=method, max_length=200, help_text=help_text)


def any_icontains(fields: Iterable[str], value: str) -> Q:
    q = Q()
    for field in fields:
        q |= Q(**{f"{field}__icontains": value})
    return q


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped when the query string names none of the FilterSet's parameters.

    Building a FilterSet deep-copies every filter; on an unfiltered page (a
    dashboard polling, a client walking cursors) that was a sixth of the request.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
