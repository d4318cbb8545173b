"""The incident list's filter bar: the REST API's ``IncidentFilter`` (``incidents/api/filters.py``), shown as HTML.

Same parameters and the same validation as ``/api/v1/incidents/`` (``status``,
``severity``, ``service``, ``team``, ``commander``, ``search``, the
``*_after`` / ``*_before`` time ranges...), so a filtered page's URL reads like
the API call. Two differences, both about people at a browser: statuses and
severities are checkboxes and services and teams are menus; and a time typed
without an offset (what a ``datetime-local`` or ``date`` input sends) is read
in the viewer's own time zone, where the API reads it as UTC.
"""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ownership.models import Service, Team

from .api.filters import IncidentFilter
from .models import Incident, Severity

TIME_FILTERS = (
    "detected_after",
    "detected_before",
    "started_after",
    "started_before",
    "resolved_after",
    "resolved_before",
)


class CommaCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes that also read the API's comma-separated form (``?status=triggered,acknowledged``)."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return [part.strip() for value in values if value for part in str(value).split(",") if part.strip()]


def local_instant(raw: str) -> dt.datetime | None:
    """An aware time for ``raw`` when it has no offset (a local date or date-time), read in the active zone.

    None when ``raw`` is empty, unreadable or carries its own offset (the API
    filter then decides, or reports the error).
    """
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        parsed = parse_datetime(raw)
        if parsed is None:
            day = parse_date(raw)
            parsed = dt.datetime.combine(day, dt.time.min) if day else None
    except ValueError:
        return None
    if parsed is None or timezone.is_aware(parsed):
        return None
    try:
        return timezone.make_aware(parsed)
    except (OverflowError, ValueError):
        return None


class IncidentListFilter(IncidentFilter):
    """``IncidentFilter`` with HTML widgets and local wall-clock times (see the module docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        fields = self.form.fields
        fields["status"].widget = CommaCheckboxes(choices=Incident.Status.choices)
        fields["severity"].widget = CommaCheckboxes(choices=[(str(v), label) for v, label in Severity.choices])
        fields["service"].widget = forms.Select(
            choices=[("", "Any service"), *Service.objects.order_by("name").values_list("slug", "name")]
        )
        fields["team"].widget = forms.Select(
            choices=[("", "Any team"), *Team.objects.order_by("name").values_list("slug", "name")]
        )
        for name in ("detected_after", "detected_before"):
            fields[name].widget = forms.DateTimeInput(attrs={"type": "datetime-local"})
        fields["search"].widget = forms.TextInput(attrs={"type": "search", "placeholder": "Title, summary or INC-42"})

    def filter_queryset(self, queryset):
        for name in TIME_FILTERS:
            local = local_instant(self.data.get(name, "")) if name in self.form.cleaned_data else None
            if local is not None:
                self.form.cleaned_data[name] = local
        return super().filter_queryset(queryset)
