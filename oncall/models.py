"""On-call schedules: a team's schedule in an IANA zone, its layers (rotations), their members, and overrides.

Every rule about *who is on call when* is in ``oncall.rotation`` (the final
schedule, one function); these models hold only what people configured.
Times stored here are aware UTC instants (members' and overrides' windows);
wall-clock rules (hand-off time, anchor date, restrictions) are local to the
schedule's zone and expanded there.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from ownership.models import Team, validate_timezone, working_days_validator


class Schedule(models.Model):
    """A team's on-call schedule: layers in ``timezone`` (IANA), overrides on top."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="schedules")
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone], help_text="IANA zone, e.g. Europe/Berlin."
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    calendar_token_hash = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="SHA-256 of the iCal feed's token (the token is shown once; a new one revokes the old).",
    )  # fmt: skip

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar_token_hash"], condition=~Q(calendar_token_hash=""), name="schedule_calendar_token"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ScheduleGapState(models.Model):
    """How much of the next 14 days a schedule's final schedule names nobody, as the last gap sweep computed it.

    Written by ``oncall.gaps.gaps_report`` (beat ``oncall.schedules_sweep``, every 5 minutes) for every schedule
    it asked, read by ``/metrics`` in one query whatever the number of schedules: so every web process reports the
    same figure, at most one sweep period old. A schedule made since the last sweep has no row yet.
    """

    schedule = models.OneToOneField(Schedule, on_delete=models.CASCADE, primary_key=True, related_name="gap_state")
    gap_seconds = models.FloatField(help_text="Seconds of [computed_at, computed_at + 14 days) with nobody on call.")
    computed_at = models.DateTimeField(help_text="The instant the sweep computed it at (UTC).")

    def __str__(self) -> str:
        return f"{self.schedule_id}: {self.gap_seconds:.0f} s of gaps at {self.computed_at:%Y-%m-%d %H:%M}"


class Layer(models.Model):
    """A rotation: members take turns of ``turn_length`` ``turn_unit`` each, handing off at ``handoff_time`` local.

    Turn 0 begins on ``anchor_date`` at ``handoff_time`` in the schedule's zone; turn k begins at
    that wall-clock reading plus k turns of wall-clock time (a weekly turn always hands off on the
    anchor's weekday at ``handoff_time``, DST or not). With a restriction (``restrict_start`` and
    ``restrict_end`` set) the layer covers only those local hours on ``restrict_days`` (ISO weekday
    digits; start after end is a window past midnight; start equal to end is the whole day). Where
    several layers have someone on call, the highest ``priority`` wins (ties: the older layer).
    """

    class Unit(models.TextChoices):
        HOURS = "hours", "hours"
        DAYS = "days", "days"
        WEEKS = "weeks", "weeks"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=120)
    priority = models.PositiveSmallIntegerField(default=0, help_text="Higher wins where layers overlap.")
    turn_unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.WEEKS)
    turn_length = models.PositiveSmallIntegerField(default=1, help_text="Turn length, in turn units (1 to 1000).")
    handoff_time = models.TimeField(
        "hand-off time", default=dt.time(9, 0), help_text="Local wall-clock time of each hand-off."
    )
    anchor_date = models.DateField(help_text="Local date on which the first turn begins (at the hand-off time).")
    restrict_days = models.CharField(
        max_length=7, default="1234567", blank=True, validators=[working_days_validator],
        help_text="With a restriction: ISO weekday digits on which the layer covers (Monday=1).",
    )  # fmt: skip
    restrict_start = models.TimeField(null=True, blank=True, help_text="Restriction: local start (e.g. 09:00).")
    restrict_end = models.TimeField(null=True, blank=True, help_text="Restriction: local end (e.g. 18:00).")

    class Meta:
        ordering = ["schedule", "-priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(turn_length__gte=1, turn_length__lte=1000), name="layer_turn_length_1_to_1000"
            ),
            models.CheckConstraint(
                condition=Q(restrict_start__isnull=True, restrict_end__isnull=True)
                | Q(restrict_start__isnull=False, restrict_end__isnull=False),
                name="layer_restriction_start_and_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.name}"

    @property
    def restricted(self) -> bool:
        return self.restrict_start is not None


class LayerMember(models.Model):
    """One place in a layer's order, effective from ``active_from`` until ``active_until`` (aware UTC, open end).

    Members in effect at an instant, ordered by (``position``, id), take turns. A change is a new
    row or an end set on one: the past keeps the order it had (services refuse past instants).
    """

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="layer_memberships")
    position = models.PositiveIntegerField(default=0)
    active_from = models.DateTimeField()
    active_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["layer", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(active_until__isnull=True) | Q(active_until__gt=F("active_from")),
                name="layermember_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.layer} (#{self.position})"


class Override(models.Model):
    """A person takes the schedule for [start, end), or is removed from its layers for that window (aware UTC).

    ``take``: the person is on call whatever the layers say (the latest override wins where two
    overlap). ``remove``: where a layer would name the person, that layer names nobody, so a lower
    layer shows through, or the window is a gap.
    """

    class Kind(models.TextChoices):
        TAKE = "take", "takes the window"
        REMOVE = "remove", "is removed from the window"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TAKE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="oncall_overrides")
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["schedule", "start", "id"]
        indexes = [models.Index(fields=["schedule", "end", "start"], name="override_schedule_window")]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="override_end_after_start")]

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display()} {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M} UTC"


class Swap(models.Model):
    """A swap: ``asked_by`` asks someone to take [start, end) of their time on call (aware UTC); whoever takes it
    gets a take override for the window (``override``, origin "swap" in the final schedule).

    States: ``asked`` -> ``taken`` (by ``taken_by``, with its override) | ``cancelled`` (by the asker or the
    schedule's team) | ``expired`` (its window began untaken). Only an asked swap moves, under a row lock
    (``oncall.swaps``); the constraints keep a taken swap with its taker and override.
    """

    class State(models.TextChoices):
        ASKED = "asked", "asked"
        TAKEN = "taken", "taken"
        CANCELLED = "cancelled", "cancelled"
        EXPIRED = "expired", "expired"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="swaps")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="swaps_asked")
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ASKED)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="swaps_taken"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    override = models.OneToOneField(Override, on_delete=models.SET_NULL, null=True, blank=True, related_name="swap")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["schedule", "start", "id"]
        indexes = [models.Index(fields=["schedule", "state", "start"], name="swap_schedule_state_start")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="swap_end_after_start"),
            models.CheckConstraint(
                condition=~Q(state="taken") | Q(taken_by__isnull=False, taken_at__isnull=False),
                name="swap_taken_has_taker",
            ),
            models.CheckConstraint(
                condition=Q(state="taken") | Q(taken_by__isnull=True, override__isnull=True),
                name="swap_only_taken_has_taker",
            ),
        ]

    def __str__(self) -> str:
        window = f"{self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M} UTC"
        return f"swap {self.pk}: {self.asked_by} {window} ({self.state})"


class HandoffNote(models.Model):
    """The outgoing person's note for whoever takes over from them next on ``schedule``.

    Written while its author is on call, or within a day of going on call (``oncall.handoffs.handoff_note_add``);
    ``handoff_at`` is the end of that shift as the final schedule said then. The incoming person's hand-off
    notice carries the author's notes still pending at the hand-off and marks them ``handed_over_at``.
    """

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="handoff_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handoff_notes")
    text = models.TextField(max_length=4000)
    handoff_at = models.DateTimeField(
        "hand-off", help_text="The hand-off the note was written for (UTC), as then scheduled."
    )
    handed_over_at = models.DateTimeField(null=True, blank=True, help_text="When a hand-off notice carried it.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["schedule", "created_at", "id"]
        indexes = [models.Index(fields=["schedule", "author", "handed_over_at"], name="handoffnote_pending")]
        verbose_name = "hand-off note"  # the UI's word, in the admin too

    def __str__(self) -> str:
        return f"note by {self.author} for the hand-off of {self.handoff_at:%Y-%m-%d %H:%M} UTC"


class PersonCalendar(models.Model):
    """A person's own iCal feed of their shifts across every schedule, behind a token (only its SHA-256 kept;
    a new token revokes the old, and deleting the row stops the feed)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_calendar")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"calendar feed of {self.user}"


class EscalationPolicy(models.Model):
    """Who is paged, in order, while an incident on a service using it stays unacknowledged (``oncall.escalation``).

    Steps run in ``position`` order, each waiting its ``wait_minutes`` before the next; after the last the
    policy starts again, ``repeat`` more times.
    """

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="escalation_policies")
    name = models.CharField(max_length=120, unique=True)
    repeat = models.PositiveSmallIntegerField(default=0, help_text="Passes after the first (0 to 9).")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"
        constraints = [models.CheckConstraint(condition=Q(repeat__lte=9), name="escalation_repeat_at_most_9")]

    def __str__(self) -> str:
        return self.name


class EscalationStep(models.Model):
    """One step: page its targets, then wait ``wait_minutes`` (unacknowledged) before the next step."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    wait_minutes = models.PositiveIntegerField(default=15, help_text="Minutes before the next step (1 to 1440).")

    class Meta:
        ordering = ["policy", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="escalation_step_position"),
            models.CheckConstraint(condition=Q(wait_minutes__gte=1, wait_minutes__lte=1440), name="escalation_wait"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} step {self.position + 1}"


class EscalationTarget(models.Model):
    """Whom a step pages: a person, whoever a schedule's final schedule names then, or a team's channel."""

    step = models.ForeignKey(EscalationStep, on_delete=models.CASCADE, related_name="targets")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, schedule__isnull=True, team__isnull=True)
                | Q(user__isnull=True, schedule__isnull=False, team__isnull=True)
                | Q(user__isnull=True, schedule__isnull=True, team__isnull=False),
                name="escalation_target_one_kind",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user or (f"on call of {self.schedule}" if self.schedule_id else f"channel of {self.team}"))

    @property
    def key(self) -> str:
        """``user:<id>``, ``schedule:<id>`` or ``team:<id>``: the target's part of a page's unique key."""
        if self.user_id:
            return f"user:{self.user_id}"
        return f"schedule:{self.schedule_id}" if self.schedule_id else f"team:{self.team_id}"


class Page(models.Model):
    """One page of one step (in one pass) to one target for one incident: recorded once, by its unique key.

    Written with its notification (``notifications.notify``, keyed on the page) and its timeline entry in one
    transaction, so a page is either wholly planned or not at all; the notification layer's workers deliver it
    (claims, retries, re-queue of a dead worker's rows). ``person`` is whom it reached (a schedule's on-call at
    the time; null for a team channel or a gap in the schedule, which pages the schedule team's channel).
    """

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="pages")
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.SET_NULL, null=True, related_name="pages")
    step = models.PositiveSmallIntegerField(help_text="Step position (0 is the first).")
    repeat = models.PositiveSmallIntegerField(help_text="Pass (0 is the first).")
    target = models.CharField(max_length=40, help_text="user:<id>, schedule:<id> or team:<id>.")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="pages")  # fmt: skip
    due_at = models.DateTimeField(help_text="When the step was due (detected + the waits before it).")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["incident", "due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "step", "repeat", "target"], name="page_once_per_key"),
        ]

    def __str__(self) -> str:
        return f"page {self.incident_id} step {self.step + 1} pass {self.repeat + 1} {self.target}"
