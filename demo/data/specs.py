"""The shapes of the demo data: one frozen dataclass per kind of row, and offset helpers.

Times are relative to the moment the loader runs (``ago`` and the offsets
after it), so a fresh demo always looks current.
"""

from dataclasses import dataclass, field
from datetime import timedelta


def minutes(n: float) -> timedelta:
    """``n`` minutes, for readable offsets in the tables below."""
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    """``n`` hours."""
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    """``n`` days."""
    return timedelta(days=n)


@dataclass(frozen=True)
class DemoTeam:
    """A team, keyed by ``slug``."""

    slug: str
    name: str
    slack_channel: str


@dataclass(frozen=True)
class DemoPerson:
    """A person, keyed by ``username``; ``role`` in ``team`` is ``lead`` or ``member``."""

    username: str
    first_name: str
    last_name: str
    timezone: str
    team: str
    role: str = "member"


@dataclass(frozen=True)
class DemoService:
    """A service, keyed by ``slug``. ``gaps`` names the catalog links left empty on purpose.

    ``team`` None leaves the service without an owner (itself a catalog gap).
    """

    slug: str
    name: str
    team: str | None
    tier: int
    description: str
    repositories: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoIntegration:
    """An alert integration, keyed by ``name``: ``kind`` (an ``Integration.Kind`` value), alerts go to ``service``."""

    name: str
    kind: str
    service: str


@dataclass(frozen=True)
class DemoActionItem:
    """An action item, keyed by ``title`` within its post-mortem. ``due_in_days`` < 0 is overdue."""

    title: str
    kind: str
    owner: str
    priority: int = 2
    status: str = "open"
    due_in_days: int | None = None
    wont_do_reason: str = ""


@dataclass(frozen=True)
class DemoRegressionTest:
    """A regression test linked ``linked_after`` the post-mortem's publication, in ``state``."""

    repository: str
    test_id: str
    change: int
    state: str = "verified"
    linked_after: timedelta = field(default_factory=lambda: hours(20))


@dataclass(frozen=True)
class DemoPostMortem:
    """A post-mortem. ``published_ago`` / ``completed_ago`` are before the load time."""

    status: str
    owner: str
    summary: str
    impact: str = ""
    trigger: str = ""
    root_cause: str = ""
    detection: str = ""
    resolution: str = ""
    went_well: str = ""
    went_wrong: str = ""
    got_lucky: str = ""
    published_ago: timedelta | None = None
    completed_ago: timedelta | None = None
    action_items: tuple[DemoActionItem, ...] = ()
    regression_test: DemoRegressionTest | None = None


@dataclass(frozen=True)
class DemoIncident:
    """An incident, keyed by ``title``, modelled on ``company``'s public post-mortem at ``source_url``.

    Impact began ``ago`` before the load; the other timestamps are offsets
    from that start (None: not reached, or skipped as the lifecycle allows:
    an incident can recover before anyone acknowledges it). They must be in
    lifecycle order, so the timeline reads as valid transitions; the status
    is the last one reached.
    """

    title: str
    company: str
    category: str
    source_url: str
    severity: int
    primary_service: str
    services: tuple[str, ...]
    commander: str
    summary: str
    ago: timedelta
    detected: timedelta
    acknowledged: timedelta | None
    mitigated: timedelta | None
    resolved: timedelta | None
    owning_team: str | None = None
    postmortem: DemoPostMortem | None = None


CLOSED = "done"  # an action item's status when its work is finished


@dataclass(frozen=True)
class DemoHandover:
    """What the demo login is given when it is created: a place in ``team``, and work its lead hands over.

    ``commands``: titles of incidents it becomes the commander of; ``postmortems``:
    titles of incidents whose post-mortem it comes to own; ``action_items``: titles
    of action items it comes to own.
    """

    team: str
    commands: tuple[str, ...] = ()
    postmortems: tuple[str, ...] = ()
    action_items: tuple[str, ...] = ()
