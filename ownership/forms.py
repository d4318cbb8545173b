"""The profile form: what a person sets for themselves. The checks live in ``ownership.profile``.

The browser is told the same shapes the server checks (``pattern``, ``type=time``),
so it never blocks a value the server would take, nor lets one through that the
server refuses without saying why on the field.
"""

import zoneinfo
from functools import cache

from django import forms

from .models import SLACK_MEMBER_ID, User
from .profile import WEEKDAY_NAMES


@cache
def zone_names() -> list[str]:
    """Every IANA zone name the server knows, for the browser's suggestions."""
    return sorted(zoneinfo.available_timezones())


def _max_length(field: str) -> int:
    return User._meta.get_field(field).max_length


class ProfileForm(forms.Form):
    """Name, email, time zone, working hours and Slack id; ``person_profile_update`` decides what is valid."""

    first_name = forms.CharField(required=False, max_length=_max_length("first_name"))
    last_name = forms.CharField(required=False, max_length=_max_length("last_name"))
    email = forms.CharField(
        required=False,
        max_length=_max_length("email"),
        widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "email"}),
        help_text="Reminders come by email too when this sredesk has a mail server.",
    )
    timezone = forms.CharField(
        label="Time zone",
        max_length=_max_length("timezone"),
        widget=forms.TextInput(attrs={"list": "zone-names", "autocomplete": "off", "spellcheck": "false"}),
        help_text="An IANA name, e.g. Europe/Berlin or America/New_York. Every time on every page is shown in it.",
    )
    work_start = forms.CharField(
        label="Working hours start", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    work_end = forms.CharField(
        label="Working hours end",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Reminders wait for your hours. The same start and end: around the clock.",
    )
    working_days = forms.MultipleChoiceField(
        required=False,
        choices=[(str(n), name) for n, name in enumerate(WEEKDAY_NAMES, start=1)],
        widget=forms.CheckboxSelectMultiple,
        help_text="No day ticked: reminders reach you any day.",
    )
    slack_user_id = forms.CharField(
        label="Slack member id",
        required=False,
        max_length=_max_length("slack_user_id"),
        widget=forms.TextInput(
            attrs={
                "pattern": rf"\s*{SLACK_MEMBER_ID}\s*",
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "U024BE7LH",
            }
        ),
        help_text="In Slack: your profile → ⋮ → Copy member ID. Without it, reminders go to your team's channel.",
    )

    @classmethod
    def for_person(cls, person: User, data=None) -> "ProfileForm":
        initial = {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "timezone": person.timezone,
            "work_start": person.work_start,
            "work_end": person.work_end,
            "working_days": list(person.working_days),
            "slack_user_id": person.slack_user_id,
        }
        return cls(data=data, initial=initial)
