"""Who owns what: people, teams, services and the repositories behind them."""

import datetime as dt
import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

from sredesk.versions import Versioned


def validate_timezone(value: str) -> None:
    """Refuse a time zone name that the IANA database does not know."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not an IANA time zone name (e.g. Europe/Berlin).") from exc


working_days_validator = RegexValidator(r"^[1-7]{0,7}$", "List ISO weekday digits, Monday=1 to Sunday=7, e.g. 12345.")
# A Slack member id as Slack shows it ("Copy member ID"): U (or W, Enterprise Grid) then upper-case letters and digits.
SLACK_MEMBER_ID = r"[UW][A-Z0-9]{2,31}"
slack_member_id_validator = RegexValidator(
    rf"^{SLACK_MEMBER_ID}\Z",
    "A Slack member id starts with U or W, then upper-case letters and digits (e.g. U024BE7LH): "
    "in Slack, your profile, then the ⋮ menu, then Copy member ID.",
)

# An emoji name as Slack sends it in reaction_added (no colons): lower-case letters, digits, _ + ' -.
slack_reaction_validator = RegexValidator(
    r"^[a-z0-9_+'-]{0,100}\Z", "An emoji name as Slack spells it, without colons: e.g. memo or white_check_mark."
)


class User(AbstractUser):
    """A person: signs in, owns post-mortems and action items, receives reminders.

    Working hours are wall-clock times in ``timezone`` on ``working_days``
    (ISO weekday digits). ``work_start == work_end`` means around the clock.
    """

    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    work_start = models.TimeField(default=dt.time(9, 0))
    work_end = models.TimeField(default=dt.time(17, 0))
    working_days = models.CharField(max_length=7, default="12345", blank=True, validators=[working_days_validator])
    slack_user_id = models.CharField(
        max_length=32,
        blank=True,
        validators=[slack_member_id_validator],
        help_text="Slack member id (U…/W…), used for direct messages.",
    )

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Team(models.Model):
    """A team that owns services and answers for their incidents."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    slack_channel = models.CharField(
        max_length=80, blank=True, help_text="Channel id (C…) or name (#sre-payments) for team notifications."
    )
    slack_incident_channels = models.BooleanField(
        "Slack channel per incident",
        default=False,
        help_text="On: each incident the team declares gets its own Slack channel (inc-<n>-<title>), with the "
        "commander, responders and paged person invited. Needs SLACK_BOT_TOKEN.",
    )
    slack_channel_archive_days = models.PositiveSmallIntegerField(
        "archive incident channels after (days)",
        default=7,
        validators=[MaxValueValidator(365)],
        help_text="An incident's channel is archived this many days after its post-mortem completes (or is "
        "declined; for an incident that needs none, after it is resolved).",
    )
    slack_timeline_reaction = models.CharField(
        max_length=100,
        blank=True,
        validators=[slack_reaction_validator],
        help_text="An emoji name (e.g. memo): a message in an incident channel given this reaction goes on the "
        "incident's timeline, as pinned messages do. Empty: pins only.",
    )
    members = models.ManyToManyField(User, through="Membership", related_name="teams")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def lead(self) -> User | None:
        """The team's lead, or None when the team has none.

        Read from the team's prefetched ``memberships`` when a list prefetched
        them (``prefetch_related(Prefetch("memberships", ....select_related("user")))``),
        so a list of teams shows its leads without a query per team; one query otherwise.
        """
        if "memberships" in getattr(self, "_prefetched_objects_cache", {}):
            return next((m.user for m in self.memberships.all() if m.role == Membership.Role.LEAD), None)
        membership = self.memberships.filter(role=Membership.Role.LEAD).select_related("user").first()
        return membership.user if membership else None


class Membership(models.Model):
    """A person's place in a team. A team has at most one lead."""

    class Role(models.TextChoices):
        LEAD = "lead", "Lead"
        MEMBER = "member", "Member"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique_person_per_team"),
            models.UniqueConstraint(
                fields=["team"], condition=models.Q(role="lead"), name="membership_one_lead_per_team"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class Repository(models.Model):
    """A source repository whose CI reports test runs to sredesk."""

    name = models.CharField(max_length=200, unique=True, help_text="e.g. acme/payments")
    url = models.URLField(max_length=500, blank=True)
    default_branch = models.CharField(max_length=200, default="main")
    extra_counted_branches = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated branches whose CI runs count besides the default branch (e.g. release).",
    )
    ci_token_hash = models.CharField(
        max_length=64, blank=True, editable=False, help_text="SHA-256 of the CI upload token (the token is shown once)."
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "repositories"

    def __str__(self) -> str:
        return self.name

    def counts_branch(self, branch: str) -> bool:
        """Whether a CI run on ``branch`` decides regression-test states (default branch, or listed)."""
        extra = {b.strip() for b in self.extra_counted_branches.split(",") if b.strip()}
        return branch == self.default_branch or branch in extra


class Service(Versioned):
    """Something that is run and can break, owned by one team.

    Tier 1 is the most critical. A service without an owning team, runbook,
    dashboard or alerts is a catalog gap.
    """

    class Tier(models.IntegerChoices):
        TIER1 = 1, "Tier 1 (critical)"
        TIER2 = 2, "Tier 2"
        TIER3 = 3, "Tier 3"
        TIER4 = 4, "Tier 4 (best effort)"

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="services")
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.TIER2)
    runbook_url = models.URLField(max_length=500, blank=True)
    dashboard_url = models.URLField(max_length=500, blank=True)
    alerts_url = models.URLField(max_length=500, blank=True)
    repositories = models.ManyToManyField(Repository, blank=True, related_name="services")
    escalation_policy = models.ForeignKey(
        "oncall.EscalationPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="services",
        help_text="Pages while an incident of this service (its primary service) is unacknowledged.",
    )  # fmt: skip
    ci_reports_tests = models.BooleanField(
        "CI reports test runs",
        default=True,
        help_text=(
            "On: a post-mortem completes only once CI has seen its regression test pass. "
            "Off (this service's CI does not report to sredesk): a linked regression test is enough."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(tier__gte=1, tier__lte=4), name="service_tier_1_to_4"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def catalog_gaps(self) -> list[str]:
        """What the catalog is missing for this service, e.g. ["owner", "runbook"]."""
        gaps = []
        if self.team_id is None:
            gaps.append("owner")
        for field, label in (("dashboard_url", "dashboard"), ("alerts_url", "alerts"), ("runbook_url", "runbook")):
            if not getattr(self, field):
                gaps.append(label)
        return gaps


class Responsibility(models.Model):
    """Who answers for a service in one role: a person, a team (its lead speaks for it), or an on-call schedule
    (whoever its final schedule names at the time: ``oncall.paging``)."""

    class Role(models.TextChoices):
        PAGED = "paged", "Is paged"
        TRIAGES = "triages", "Triages"
        FIXES = "fixes", "Fixes"
        ESCALATION = "escalation", "Escalation contact"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="responsibilities")
    role = models.CharField(max_length=16, choices=Role.choices)
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="responsibilities")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True, related_name="responsibilities")
    schedule = models.ForeignKey(
        "oncall.Schedule", on_delete=models.PROTECT, null=True, blank=True, related_name="responsibilities",
        help_text="An on-call schedule: whoever is on call when asked (instead of a person or a team).",
    )  # fmt: skip

    class Meta:
        verbose_name_plural = "responsibilities"
        constraints = [
            models.UniqueConstraint(fields=["service", "role"], name="responsibility_one_per_role"),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, team__isnull=True, schedule__isnull=True)
                | models.Q(user__isnull=True, team__isnull=False, schedule__isnull=True)
                | models.Q(user__isnull=True, team__isnull=True, schedule__isnull=False),
                name="responsibility_person_team_or_schedule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.get_role_display()} = {self.user or self.team or self.schedule}"

    @property
    def person(self) -> User | None:
        """The fixed person to contact: the user, else the team's lead; None for a schedule, whose person depends
        on the time (ask ``oncall.paging``)."""
        return self.user or (self.team.lead if self.team else None)


class ApiToken(models.Model):
    """A person's REST API token: shown once when issued, stored only as its SHA-256 (``sredesk.tokens``).

    One per person; issuing a new one replaces the old, deleting it revokes it.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="api_token")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"API token of {self.user}"
