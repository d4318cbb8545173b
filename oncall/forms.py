"""The override form of the schedule page: wall-clock times in the schedule's zone, read as instants there."""

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms

from ownership.hours import first_reading
from ownership.models import User

from .models import Override

WALL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


class WallTimeField(forms.CharField):
    """A wall-clock time without a zone (``2026-03-11T18:00``), as a naive datetime; the form names the zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def clean(self, value):
        value = super().clean(value)
        for fmt in WALL_FORMATS:
            try:
                return dt.datetime.strptime(value.strip(), fmt)
            except ValueError:
                continue
        raise forms.ValidationError("Give a date and time, e.g. 2026-03-11T18:00.")


class OverrideForm(forms.Form):
    """Who, take or remove, from and until (local to the schedule). ``oncall.services.override_create`` decides."""

    user = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True).order_by("username"), label="Person")
    kind = forms.ChoiceField(choices=Override.Kind.choices, initial=Override.Kind.TAKE)
    start = WallTimeField(max_length=32)
    end = WallTimeField(max_length=32)
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(zone)
        for name in ("start", "end"):
            self.fields[name].help_text = f"Wall-clock time in {zone}, the schedule's zone."

    def instant(self, name: str) -> dt.datetime:
        """The field's wall time as the first instant the schedule zone's clock reads it (or later), aware UTC."""
        return first_reading(self.cleaned_data[name], self.zone)


class InstantField(forms.CharField):
    """An ISO 8601 instant with an offset (``2026-03-11T17:00:00+00:00``), as an aware datetime; naive is refused."""

    def clean(self, value):
        value = super().clean(value)
        try:
            instant = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise forms.ValidationError("Give an ISO 8601 time with an offset.") from None
        if instant.tzinfo is None:
            raise forms.ValidationError("Give an ISO 8601 time with an offset.")
        return instant


class SwapAskForm(forms.Form):
    """Ask for a swap of one of your shifts: its instants come from the page's shift (hidden), a note is optional."""

    start = InstantField(max_length=40, widget=forms.HiddenInput)
    end = InstantField(max_length=40, widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=500)
