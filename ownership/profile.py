"""A person's own settings (time zone, working hours, Slack id, email), set by themselves on every door.

``person_profile_update`` is the one write of the profile page (``/me/profile/``)
and ``PATCH /api/v1/me/``; the admin's user form runs the same model validators.
Every value is checked where it enters, before anything is stored:

* ``timezone``: an IANA name the zone database knows (``Europe/Berlin``), never an abbreviation (CEST);
  this and the two shapes below are the model fields' own validators, which the admin runs too;
* ``work_start`` / ``work_end``: ``HH:MM`` in ASCII digits, 00:00 to 23:59 (equal means around the clock);
* ``working_days``: ISO weekday digits, Monday=1 to Sunday=7, each at most once (stored sorted);
* ``slack_user_id``: a Slack member id as Slack shows it (``U`` or ``W`` then upper-case letters and digits,
  e.g. ``U024BE7LH``; Slack's *Copy member ID*), or empty;
* ``email``: an address Django's validator accepts, or empty;
* every text: no NUL or lone surrogate, within its column's length (``sredesk.inputs``).
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from notifications.base import slack_enabled
from notifications.problems import open_slack_problems
from notifications.reach import Reach, person_reach
from sredesk.inputs import InputError, check_text

from .hours import next_working_time
from .models import Team, User

PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "timezone",
    "work_start",
    "work_end",
    "working_days",
    "slack_user_id",
)
CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(:00)?", re.ASCII)
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def clock_time(value, *, field: str) -> dt.time:
    """A wall-clock time from ``HH:MM`` (ASCII digits; ``:00`` seconds allowed) or a ``time``; InputError else."""
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    match = CLOCK_TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InputError(field, "Give a time as HH:MM with ASCII digits, 00:00 to 23:59 (e.g. 09:30).")
    return dt.time(int(match[1]), int(match[2]))


def working_days(value, *, field: str = "working_days") -> str:
    """ISO weekday digits (a string like ``12345``, or a list of digits/ints) as a sorted string; InputError else."""
    items = list(value) if isinstance(value, list | tuple) else list(value) if isinstance(value, str) else None
    if items is None or not all(str(d) in "1234567" and len(str(d)) == 1 for d in items):
        raise InputError(field, "List weekdays as digits, Monday=1 to Sunday=7 (e.g. 12345).")
    digits = [str(d) for d in items]
    if len(set(digits)) != len(digits):
        raise InputError(field, "Name each weekday once.")
    return "".join(sorted(digits))


def _checked(field: str, value):
    """One profile value, checked and normalised; raises InputError naming ``field``.

    Text is checked by ``sredesk.inputs`` (NUL, lone surrogates, length), then by
    the model field's own validators (zone name, Slack id shape, email), the ones
    the admin's form runs too.
    """
    if field in ("work_start", "work_end"):
        return clock_time(value, field=field)
    if field == "working_days":
        return working_days(value, field=field)
    if not isinstance(value, str):
        raise InputError(field, "Give text.")
    model_field = User._meta.get_field(field)
    value = check_text(value.strip(), field=field, max_length=model_field.max_length)
    if value:
        try:
            model_field.run_validators(value)
        except ValidationError as exc:
            raise InputError(field, exc.messages[0]) from None
    elif field == "timezone":
        raise InputError(field, "Give a time zone (e.g. Europe/Berlin).")
    return value


@transaction.atomic
def person_profile_update(*, user_id: int, **changes) -> User:
    """Set some of ``PROFILE_FIELDS`` on the person ``user_id``; the others stay as they are.

    Every value is checked first (see the module docstring) and nothing is
    stored unless all are good: raises ValidationError with one message per
    bad field (an unknown field included). Only changed fields are written,
    so two tabs editing different fields do not undo each other.
    """
    errors: dict[str, list[str]] = {}
    clean = {}
    for field, value in changes.items():
        if field not in PROFILE_FIELDS:
            errors[field] = [f"Not a profile field; known: {', '.join(PROFILE_FIELDS)}."]
            continue
        try:
            clean[field] = _checked(field, value)
        except InputError as exc:
            errors[field] = [exc.message]
    if errors:
        raise ValidationError(errors)
    person = User.objects.select_for_update().get(pk=user_id)
    changed = [field for field, value in clean.items() if getattr(person, field) != value]
    for field in changed:
        setattr(person, field, clean[field])
    if changed:
        person.save(update_fields=changed)
    return person


def working_hours_text(person: User) -> str:
    """``Mon–Fri 09:00–17:00 (Europe/Berlin)``, or ``around the clock``, in words for the profile."""
    numbers = sorted({int(d) for d in person.working_days if d in "1234567"})
    if not numbers:
        return f"any day, any time: no working days are set ({person.timezone})"
    runs, start = [], 0
    for i in range(1, len(numbers) + 1):
        if i == len(numbers) or numbers[i] != numbers[i - 1] + 1:
            first, last = WEEKDAY_NAMES[numbers[start] - 1], WEEKDAY_NAMES[numbers[i - 1] - 1]
            runs.append(first if i - start == 1 else f"{first}–{last}")
            start = i
    when = (
        "around the clock"
        if person.work_start == person.work_end
        else f"{person.work_start:%H:%M}–{person.work_end:%H:%M}"
    )
    return f"{', '.join(runs)} {when} ({person.timezone})"


@dataclass(frozen=True)
class Reachability:
    """Whether and how reminders reach a person, for their profile (``person_reachability``).

    ``reach``: the channels (``notifications.reach``). ``hours``: their working hours in words.
    ``next_opening``: when a reminder due ``now`` goes out (``now`` itself inside their hours).
    ``team_channels``: the Slack channels of their teams, told instead when Slack cannot reach them directly.
    ``slack_problems``: Slack errors about them a person must fix (``notifications.problems``), in plain words.
    """

    reach: Reach
    hours: str
    now: dt.datetime
    next_opening: dt.datetime
    team_channels: tuple[str, ...]
    slack_problems: tuple[str, ...] = ()

    @property
    def in_hours(self) -> bool:
        return self.next_opening <= self.now


def person_reachability(person: User, *, now: dt.datetime) -> Reachability:
    """How reminders reach ``person`` at ``now``: the same rules the reminder sweep plans by, read, not repeated."""
    reach = person_reach(person)
    channels = ()
    if reach.team_channel_instead:
        teams = Team.objects.filter(memberships__user=person).exclude(slack_channel="")
        channels = tuple(teams.values_list("slack_channel", flat=True))
    return Reachability(
        reach=reach,
        hours=working_hours_text(person),
        now=now,
        next_opening=next_working_time(person, now),
        team_channels=channels,
        slack_problems=tuple(p.words for p in open_slack_problems(person=person)) if slack_enabled() else (),
    )
