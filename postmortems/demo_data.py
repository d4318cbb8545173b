"""Demo data for ``manage.py load_demo``: a small fictional company and its incidents.

The company (teams, people, services, repositories on ``example.com``) is
made up. Each incident is a replay, on that company's services, of one real
public post-mortem from Dan Luu's list (github.com/danluu/post-mortems): the
company, the kind of failure, the category and the public write-up's URL
(``PostMortem.source_url``) carry over; every sentence here is our own
retelling, and severities, times, people, numbers and action items are
invented for the demo. The list has no licence, so we link to each write-up
rather than reproduce it, and each incident says whose post-mortem it
follows.

Times are relative to the moment the loader runs (``ago`` and the offsets
after it), so a fresh demo always looks current. Post-mortem due dates follow
``settings.POSTMORTEM_DUE_DAYS`` from the incident's resolution, the same
rule the product uses.

This module is plain data; the loader lives in
``postmortems/management/commands/load_demo.py``.
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


DEMO_LOGIN_USERNAME = "demo"
DEMO_LOGIN_PASSWORD = "demo"

TEAMS = (
    DemoTeam("sre-platform", "SRE Platform", "#sre-platform"),
    DemoTeam("network-edge", "Network Edge", "#net-edge"),
    DemoTeam("data-storage", "Data Storage", "#data-storage"),
    DemoTeam("payments", "Payments", "#payments"),
    DemoTeam("product-web", "Product Web", "#product-web"),
)

PEOPLE = (
    DemoPerson("amara", "Amara", "Okafor", "Africa/Lagos", "sre-platform", "lead"),
    DemoPerson("jonas", "Jonas", "Weber", "Europe/Berlin", "sre-platform"),
    DemoPerson("priya", "Priya", "Raman", "Asia/Kolkata", "sre-platform"),
    DemoPerson("diego", "Diego", "Alvarez", "America/Mexico_City", "network-edge", "lead"),
    DemoPerson("hana", "Hana", "Sato", "Asia/Tokyo", "network-edge"),
    DemoPerson("liam", "Liam", "O'Brien", "Europe/Dublin", "network-edge"),
    DemoPerson("fatima", "Fatima", "Zahra", "Africa/Casablanca", "data-storage", "lead"),
    DemoPerson("mateus", "Mateus", "Costa", "America/Sao_Paulo", "data-storage"),
    DemoPerson("ingrid", "Ingrid", "Larsen", "Europe/Oslo", "data-storage"),
    DemoPerson("chen", "Chen", "Wei", "Asia/Shanghai", "payments", "lead"),
    DemoPerson("sofia", "Sofia", "Rossi", "Europe/Rome", "payments"),
    DemoPerson("noah", "Noah", "Williams", "America/New_York", "product-web", "lead"),
    DemoPerson("aisha", "Aisha", "Khan", "Europe/London", "product-web"),
    DemoPerson("tomas", "Tomás", "Novák", "Europe/Prague", "product-web"),
)

REPOSITORY_BASE_URL = "https://git.example.com/"
REPOSITORIES = (
    "acme/auth",
    "acme/batch-jobs",
    "acme/blob-store",
    "acme/cert-service",
    "acme/ci-runners",
    "acme/db-migrations",
    "acme/edge-proxy",
    "acme/network-config",
    "acme/package-mirror",
    "acme/payments",
    "acme/platform-k8s",
    "acme/recommendations",
    "acme/storefront",
    "acme/uploads",
)

# Catalog links are built from the slug (see the loader); ``gaps`` leaves some out.
SERVICES = (
    DemoService(
        "edge-proxy",
        "Edge proxy",
        "network-edge",
        1,
        "TLS termination and HTTP routing in every point of presence.",
        ("acme/edge-proxy",),
    ),
    DemoService(
        "network-routing",
        "Network routing",
        "network-edge",
        1,
        "BGP announcements and backbone routing between our sites.",
        ("acme/network-config",),
    ),
    DemoService(
        "perimeter-firewall",
        "Perimeter firewall",
        "network-edge",
        1,
        "Firewalls in front of the public sites.",
        ("acme/network-config",),
    ),
    DemoService(
        "dns-resolvers",
        "DNS resolvers",
        "network-edge",
        1,
        "Recursive resolvers used by every host and container.",
        ("acme/network-config",),
    ),
    DemoService(
        "container-platform",
        "Container platform",
        "sre-platform",
        1,
        "The Kubernetes clusters most services run on.",
        ("acme/platform-k8s",),
    ),
    DemoService(
        "cert-service",
        "Certificate service",
        "sre-platform",
        1,
        "Issues and renews TLS and code-signing certificates.",
        ("acme/cert-service",),
    ),
    DemoService(
        "ci-runners",
        "CI runners",
        "sre-platform",
        2,
        "Build and test machines for every repository.",
        ("acme/ci-runners",),
    ),
    DemoService(
        "package-mirror",
        "Package mirror",
        "sre-platform",
        2,
        "Internal mirror of public package registries, served through the CDN.",
        ("acme/package-mirror",),
    ),
    DemoService(
        "datacenter", "Data center facilities", "sre-platform", 2, "Power, cooling and racks in our two data centers."
    ),
    DemoService(
        "legacy-batch",
        "Legacy batch jobs",
        None,
        3,
        "Old cron jobs on shared hosts (storage clean-up, exports). Nobody has claimed them yet.",
        ("acme/batch-jobs",),
        gaps=("runbook", "dashboard", "alerts"),
    ),
    DemoService(
        "core-postgres",
        "Core PostgreSQL",
        "data-storage",
        1,
        "The main PostgreSQL cluster: orders, payments, billing.",
        ("acme/db-migrations",),
    ),
    DemoService(
        "accounts-mysql",
        "Accounts MySQL",
        "data-storage",
        1,
        "MySQL cluster for accounts and sessions, replicated across both sites.",
        ("acme/db-migrations",),
    ),
    DemoService(
        "blob-storage",
        "Blob storage",
        "data-storage",
        2,
        "File servers for uploads, images and exports.",
        ("acme/blob-store",),
    ),
    DemoService(
        "payments-api", "Payments API", "payments", 1, "Card and bank payments for checkout.", ("acme/payments",)
    ),
    DemoService(
        "billing-jobs",
        "Billing jobs",
        "payments",
        2,
        "Nightly invoicing and retry of failed charges.",
        ("acme/payments",),
        gaps=("runbook",),
    ),
    DemoService(
        "auth", "Sign-in and API tokens", "product-web", 1, "Login, sessions and personal API tokens.", ("acme/auth",)
    ),
    DemoService(
        "storefront",
        "Storefront web",
        "product-web",
        1,
        "The public shop: pages, search, reviews, checkout front end.",
        ("acme/storefront",),
    ),
    DemoService(
        "uploads-api", "Uploads API", "product-web", 2, "Accepts photos and files from the apps.", ("acme/uploads",)
    ),
    DemoService(
        "recommendations",
        "Recommendations",
        "product-web",
        3,
        '"You might also like" suggestions on product pages.',
        ("acme/recommendations",),
    ),
)

CLOSED = "done"

INCIDENTS = (
    # --- complete: published, regression test seen passing, action items closed -------------
    DemoIncident(
        title="Cloudflare: edge routers crash on a bad filter rule",
        company="Cloudflare",
        category="Config Errors",
        source_url="https://web.archive.org/web/20211006135542/https://blog.cloudflare.com/todays-outage-post-mortem-82515/",
        severity=1,
        primary_service="edge-proxy",
        services=("edge-proxy", "storefront", "payments-api"),
        commander="diego",
        summary="Every edge router went down after one traffic-filtering rule was pushed to all of them, "
        "and every public site with it.",
        ago=days(60) + hours(3),
        detected=minutes(3),
        acknowledged=minutes(6),
        mitigated=minutes(55),
        resolved=minutes(70),
        postmortem=DemoPostMortem(
            status="complete",
            owner="liam",
            published_ago=days(52),
            completed_ago=days(40),
            summary="A rule written to drop a flood of attack packets matched on a packet length the router "
            "software could not cope with. It went to every point of presence in one push, and the routers "
            "crashed one after another until no public traffic got through.",
            impact="All sites behind the edge were unreachable for about an hour. Checkout, sign-in and the "
            "public API failed with connection errors everywhere.",
            trigger="A new filter rule deployed to every edge router in a single step.",
            root_cause="The router software crashes on a rule with an out-of-range length, and our rule tooling "
            "accepted any value. Deploying everywhere at once gave the crash no chance to stay local.",
            detection="External probes paged within three minutes; the on-call engineer was already looking at "
            "the attack.",
            resolution="Removed the rule from the central configuration and power-cycled the routers that did "
            "not recover, two of them with the help of remote hands.",
            went_well="Once we knew which rule it was, taking it out was quick.",
            went_wrong="Some routers needed a physical restart, and two sites had no out-of-band console.",
            got_lucky="The attack that prompted the rule died down by itself while the routers were down.",
            action_items=(
                DemoActionItem(
                    "Validate filter-rule fields against router limits before deploy", "prevent", "liam", 1, CLOSED, -45
                ),
                DemoActionItem(
                    "Roll filter rules to one point of presence first, then the rest",
                    "prevent",
                    "diego",
                    1,
                    CLOSED,
                    -44,
                ),
                DemoActionItem(
                    "Out-of-band console access in every point of presence", "mitigate", "hana", 2, CLOSED, -41
                ),
            ),
            regression_test=DemoRegressionTest(
                "acme/network-config",
                "tests/test_router_rules.py::test_rule_with_out_of_range_length_is_rejected",
                412,
            ),
        ),
    ),
    DemoIncident(
        title="Azure: certificates dated 29 February of a non-leap year stop VM start-up",
        company="Azure",
        category="Time",
        source_url="https://azure.microsoft.com/en-us/blog/summary-of-windows-azure-service-disruption-on-feb-29th-2012/",
        severity=1,
        primary_service="cert-service",
        services=("cert-service", "container-platform"),
        commander="amara",
        summary="Hosts could not start new workloads because the certificates they were issued carried an "
        "expiry date that does not exist.",
        ago=days(45) + hours(7),
        detected=minutes(25),
        acknowledged=minutes(30),
        mitigated=hours(6),
        resolved=hours(11),
        postmortem=DemoPostMortem(
            status="complete",
            owner="jonas",
            published_ago=days(38),
            completed_ago=days(25),
            summary='The certificate service worked out "one year from today" by adding one to the year. On '
            "29 February that produced an expiry of 29 February the next year, a date that does not exist, so "
            "every consumer rejected the certificate and hosts needing a fresh one could not start workloads.",
            impact="For most of a day no new virtual machine or container could start in any region. Running "
            "workloads carried on, but deploys and autoscaling stopped.",
            trigger="The date became 29 February.",
            root_cause="Hand-written date arithmetic in the issuer instead of a calendar library, and no test "
            "that ran it on a leap day.",
            detection="Start-up failures grew slowly as old certificates ran out, so the error-rate alert fired "
            "about 25 minutes in.",
            resolution="Fixed the issuer, then re-issued certificates to every host that had received a bad one.",
            went_well="Running workloads were never touched.",
            went_wrong="The first fix went to all regions at once and carried an incompatible component, which "
            "made the outage longer.",
            got_lucky="It began at midnight UTC, a quiet hour for our largest regions.",
            action_items=(
                DemoActionItem(
                    "Replace hand-written date arithmetic with a calendar library", "prevent", "jonas", 1, CLOSED, -35
                ),
                DemoActionItem("Leap-day and month-end cases in the issuer's tests", "detect", "priya", 2, CLOSED, -33),
                DemoActionItem(
                    "Roll out certificate-service changes region by region", "process", "amara", 2, CLOSED, -28
                ),
            ),
            regression_test=DemoRegressionTest(
                "acme/cert-service",
                "git.example.com/acme/cert-service/issuer::TestExpiryIsARealDate/leap_day",
                87,
            ),
        ),
    ),
    DemoIncident(
        title="Strava: uploads fail once activity ids pass the 32-bit limit",
        company="Strava",
        category="Uncategorized",
        source_url="https://engineering.strava.com/the-upload-outage-of-july-29-2014/",
        severity=2,
        primary_service="uploads-api",
        services=("uploads-api",),
        commander="noah",
        summary="Every new upload was refused after the primary key of the uploads table ran past the largest "
        "signed 32-bit integer.",
        ago=days(38) + hours(2),
        detected=minutes(40),
        acknowledged=minutes(45),
        mitigated=hours(3),
        resolved=hours(5),
        postmortem=DemoPostMortem(
            status="complete",
            owner="tomas",
            published_ago=days(30),
            completed_ago=days(20),
            summary="The uploads table used a signed 32-bit integer for its id. When the sequence went past "
            "2,147,483,647 every insert failed, and nobody could upload anything.",
            impact="No upload succeeded for about three hours. The apps kept retrying and queued files on "
            "people's phones.",
            trigger="Ordinary growth: the id sequence reached the column's maximum.",
            root_cause="The column type was picked years ago and never revisited, and nothing watched how close "
            "sequences were to their limits.",
            detection="The uploads error-rate alert; the database error named the overflow straight away.",
            resolution="Switched inserts to a new table with a 64-bit key in stages, then backfilled the old rows.",
            went_well="The apps held on to queued uploads, so nothing people uploaded was lost.",
            went_wrong="Widening the column in place would have locked the table for hours, so the fix was a "
            "multi-step migration done under pressure.",
            got_lucky="It broke on a weekday morning with the storage team at their desks.",
            action_items=(
                DemoActionItem(
                    "Alert when a sequence passes 70% of its type's range", "detect", "mateus", 1, CLOSED, -25
                ),
                DemoActionItem("Migration lint: 64-bit keys for every new table", "prevent", "tomas", 2, CLOSED, -22),
            ),
            regression_test=DemoRegressionTest(
                "acme/uploads",
                "com.acme.uploads.UploadIdTest#acceptsIdsBeyondInt32",
                2231,
            ),
        ),
    ),
    DemoIncident(
        title="Tarsnap: runaway clean-up log fills the disk and halts storage writes",
        company="Tarsnap",
        category="Uncategorized",
        source_url="https://mail.tarsnap.com/tarsnap-announce/msg00035.html",
        severity=2,
        primary_service="legacy-batch",
        services=("legacy-batch", "blob-storage"),
        owning_team="sre-platform",
        commander="amara",
        summary="A clean-up job's log grew until the shared disk was full, and the storage service stopped "
        "accepting writes.",
        ago=days(33) + hours(9),
        detected=minutes(50),
        acknowledged=minutes(55),
        mitigated=minutes(80),
        resolved=hours(2),
        postmortem=DemoPostMortem(
            status="complete",
            owner="priya",
            published_ago=days(27),
            completed_ago=days(18),
            summary="The job that frees unused blocks in object storage met blocks it could never free. It "
            "retried them forever and wrote a log line for every attempt; the log filled the disk it shares "
            "with the storage service, whose own writes then failed.",
            impact="Writes to blob storage failed for about an hour; reads carried on.",
            trigger="A set of blocks that the storage back end refused to delete.",
            root_cause="Unbounded retries and an unrotated log on a disk shared with a production service. The "
            "job has no owner in the catalog, so nobody had looked at it in years.",
            detection="Users reported failed writes before anything paged: the host had no disk-usage alert.",
            resolution="Deleted the log file, restarted the storage service and paused the job.",
            went_well="Once someone logged in to the host, the cause was obvious.",
            went_wrong="The service has no owner, dashboard or alerts in the catalog, and the page went to the "
            "wrong team first.",
            got_lucky="The failed writes corrupted nothing.",
            action_items=(
                DemoActionItem("Cap the sweeper's retries and rotate its log", "prevent", "priya", 1, CLOSED, -24),
                DemoActionItem("Disk-usage alert on every batch host", "detect", "jonas", 2, CLOSED, -23),
                DemoActionItem(
                    "Give the legacy batch jobs an owning team",
                    "process",
                    "amara",
                    2,
                    "wont_do",
                    -20,
                    wont_do_reason="The jobs are being retired this quarter; until then SRE Platform "
                    "takes their incidents by hand.",
                ),
            ),
            regression_test=DemoRegressionTest(
                "acme/batch-jobs",
                "tests/test_block_sweeper.py::test_unfreeable_blocks_stop_after_max_retries",
                58,
            ),
        ),
    ),
    DemoIncident(
        title="GoCardless: quick migration queued behind a slow query blocks the payments table",
        company="GoCardless",
        category="Conflicts",
        source_url="https://gocardless.com/blog/zero-downtime-postgres-migrations-the-hard-parts/",
        severity=3,
        primary_service="core-postgres",
        services=("core-postgres", "payments-api", "billing-jobs"),
        commander="chen",
        summary="Every query on the payments table stalled for a few seconds during a schema migration.",
        ago=days(28) + hours(5),
        detected=minutes(1),
        acknowledged=None,  # it recovered by itself before anyone acknowledged the page
        mitigated=minutes(1),
        resolved=minutes(30),
        postmortem=DemoPostMortem(
            status="complete",
            owner="sofia",
            published_ago=days(22),
            completed_ago=days(12),
            summary="A migration needed a short exclusive lock on the payments table. It queued behind a long "
            "report query, and every ordinary query then queued behind the migration, so for a moment nothing "
            "could read or write payments.",
            impact="Payment API requests hung for about 15 seconds and a handful timed out.",
            trigger="A schema migration started while a reporting query held the table.",
            root_cause="The migration asked for its lock without a lock timeout, so it waited as long as it took "
            "and blocked everything behind it.",
            detection="The payments API latency alert.",
            resolution="The report finished, the migration ran, and the queue drained by itself.",
            went_well="The stall was short and cleared on its own.",
            went_wrong="Our migration tooling set no lock timeout, and nobody checked for long queries before "
            "starting.",
            got_lucky="The report was nearly done; a longer one would have meant minutes of downtime.",
            action_items=(
                DemoActionItem(
                    "Set a lock timeout in every migration and retry when it expires",
                    "prevent",
                    "sofia",
                    1,
                    CLOSED,
                    -18,
                ),
                DemoActionItem("Send reporting queries to a replica", "mitigate", "fatima", 3, CLOSED, -14),
            ),
            regression_test=DemoRegressionTest(
                "acme/db-migrations",
                "tests/test_migration_safety.py::test_lock_timeout_is_set[payments]",
                319,
            ),
        ),
    ),
    # --- published, a regression test linked (verified, only linked, or failing again) -------
    DemoIncident(
        title="Cloudflare: leap second makes the DNS resolver picker panic",
        company="Cloudflare",
        category="Time",
        source_url="https://web.archive.org/web/20211104160742/https://blog.cloudflare.com/how-and-why-the-leap-second-affected-cloudflare-dns/",
        severity=2,
        primary_service="dns-resolvers",
        services=("dns-resolvers", "edge-proxy"),
        commander="diego",
        summary="Some DNS lookups failed after a leap second, because the code choosing an upstream resolver "
        "saw time run backwards.",
        ago=days(24) + hours(1),
        detected=minutes(12),
        acknowledged=minutes(15),
        mitigated=minutes(70),
        resolved=minutes(90),
        postmortem=DemoPostMortem(
            status="published",
            owner="hana",
            published_ago=days(15),
            summary="The resolver picker timed upstream servers by subtracting two wall-clock readings. When "
            "the leap second was inserted the clock stepped back, one duration came out negative, and the "
            "weighted random choice fed with it panicked. Lookups that had to follow a CNAME failed on the hosts "
            "that hit it.",
            impact="About 1% of lookups needing a CNAME failed for around an hour.",
            trigger="A leap second inserted at midnight UTC.",
            root_cause="Durations measured with the wall clock, on the belief that it never goes backwards.",
            detection="The resolvers' error-budget burn alert.",
            resolution="Made the picker clamp negative durations and read a monotonic clock, then rolled it out.",
            went_well="The crash traces pointed at the exact line.",
            went_wrong="The leap second was announced months ahead, and nobody reviewed our time handling.",
            got_lucky="It landed on a holiday night with little traffic.",
            action_items=(
                DemoActionItem(
                    "Use the monotonic clock for every duration measurement", "prevent", "hana", 1, CLOSED, -10
                ),
                DemoActionItem(
                    "Checklist for known calendar events: leap seconds, DST, leap days",
                    "process",
                    "diego",
                    3,
                    "open",
                    20,
                ),
            ),
            regression_test=DemoRegressionTest(
                "acme/network-config",
                "git.example.com/acme/network-config/resolver::TestPickerSurvivesClockStepBack",
                455,
            ),
        ),
    ),
    DemoIncident(
        title="Heroku: foreign key narrower than its primary key stops new authorizations",
        company="Heroku",
        category="Database",
        source_url="https://status.heroku.com/incidents/2558",
        severity=1,
        primary_service="auth",
        services=("auth", "container-platform"),
        commander="noah",
        summary="Creating sign-in tokens and deploying both failed, because a new authorization id no longer "
        "fitted a 32-bit foreign-key column.",
        ago=days(21) + hours(4),
        detected=minutes(8),
        acknowledged=minutes(10),
        mitigated=hours(4),
        resolved=hours(6),
        postmortem=DemoPostMortem(
            status="published",
            owner="aisha",
            published_ago=days(14),
            summary="The authorizations table had a 64-bit primary key, but a table pointing at it stored the id "
            "in a 32-bit column. Once ids went past the 32-bit range, creating an authorization failed, and "
            "with it every deploy. We then took the API down entirely to apply the fix.",
            impact="New sign-ins, new API tokens and all deploys failed for about six hours. Existing sessions "
            "worked until the API was switched off for the fix.",
            trigger="Normal growth took authorization ids past 2,147,483,647.",
            root_cause="A foreign-key column typed smaller than the key it references, and no check that the "
            "two types agree.",
            detection="Support tickets, then the alert on failed token creation.",
            resolution="Widened the referencing column to 64 bits.",
            went_well="The database error made the diagnosis a matter of minutes.",
            went_wrong="The widening rewrote a large table; we took the whole API down for it instead of a "
            "staged change.",
            got_lucky="Existing sessions stayed valid, so most people noticed nothing until the full shutdown.",
            action_items=(
                DemoActionItem(
                    "Schema check: foreign keys must match the referenced column's type",
                    "prevent",
                    "aisha",
                    1,
                    "in_progress",
                    3,
                ),
                DemoActionItem("Runbook for widening a column online", "mitigate", "fatima", 2, "open", 10),
                DemoActionItem("Status-page template for a full API outage", "process", "noah", 3, CLOSED, -5),
            ),
            regression_test=DemoRegressionTest(
                "acme/auth",
                "tests/test_schema.py::test_foreign_keys_match_referenced_column_type",
                1204,
                state="linked",
                linked_after=days(6),
            ),
        ),
    ),
    DemoIncident(
        title="crates.io: deploy breaks every package download URL",
        company="rust-lang",
        category="Config Errors",
        source_url="https://blog.rust-lang.org/inside-rust/2023/07/21/crates-io-postmortem.html",
        severity=2,
        primary_service="package-mirror",
        services=("package-mirror", "ci-runners"),
        commander="amara",
        summary="All package downloads from the mirror failed for about a quarter of an hour after a deploy "
        "started building wrong download links.",
        ago=days(18) + hours(6),
        detected=minutes(4),
        acknowledged=minutes(5),
        mitigated=minutes(13),
        resolved=minutes(25),
        postmortem=DemoPostMortem(
            status="published",
            owner="jonas",
            published_ago=days(10),
            summary="A change to how the mirror builds download links left out part of the path. Every "
            "download pointed at a file that did not exist, and clients retried, multiplying the load.",
            impact="Every download failed for 13 minutes, millions of requests counting retries, and CI builds "
            "across the company failed with them.",
            trigger="A routine deploy of the mirror.",
            root_cause="Link generation was only unit-tested on the string it returns; nothing fetched a real "
            "file through a generated link before release.",
            detection="The error-rate alert, followed by a wave of CI failures.",
            resolution="Rolled the deploy back.",
            went_well="Rolling back was one click and took two minutes.",
            went_wrong="Client retries multiplied the load, and the canary saw too little traffic to catch it.",
            got_lucky="The CDN kept serving the most popular packages from cache for part of the window.",
            action_items=(
                DemoActionItem("End-to-end download check in the deploy pipeline", "detect", "jonas", 1, CLOSED, -4),
                DemoActionItem("Canary deploys get real download traffic", "prevent", "priya", 2, "open", -2),
            ),
            regression_test=DemoRegressionTest(
                "acme/package-mirror",
                "src/downloadUrl.test.ts::download url › keeps the version in the path",
                733,
                state="failing",
            ),
        ),
    ),
    # --- published with NO regression test: reminders fire as soon as the product starts ---
    DemoIncident(
        title="Google: generated network config withdraws every public IP range",
        company="Google",
        category="Config Errors",
        source_url="https://status.cloud.google.com/incident/compute/16007",
        severity=1,
        primary_service="network-routing",
        services=("network-routing", "edge-proxy", "storefront", "payments-api"),
        commander="diego",
        summary="None of our public IP ranges was announced to the internet any more, so nothing could reach "
        "us from outside.",
        ago=days(16) + hours(8),
        detected=minutes(6),
        acknowledged=minutes(8),
        mitigated=minutes(18),
        resolved=minutes(40),
        postmortem=DemoPostMortem(
            status="published",
            owner="liam",
            published_ago=days(9),
            summary="Removing an unused IP block tripped a bug in the tool that generates our routing "
            "configuration: it produced a configuration with no public prefixes at all. A canary check noticed "
            "something was wrong, but its failure did not stop the rollout, and the empty configuration reached "
            "every site.",
            impact="All inbound traffic from the internet was lost for 18 minutes.",
            trigger="An operator removed an unused IP block from the network configuration.",
            root_cause="The generator mishandled the removal and emitted an empty prefix list; the rollout "
            "ignored the canary's error instead of stopping.",
            detection="External probes and customer reports within six minutes.",
            resolution="Restored the last known-good routing configuration.",
            went_well="The revert was fast once the bad configuration was found.",
            went_wrong="The canary failed open, and the staged rollout moved too fast for anyone to react.",
            got_lucky="Internal traffic was unaffected, so our own tools kept working.",
            action_items=(
                DemoActionItem(
                    "Refuse a routing config that withdraws more than 10% of prefixes", "prevent", "liam", 1, "open", -1
                ),
                DemoActionItem("Canary errors stop the rollout (fail closed)", "prevent", "diego", 1, "in_progress", 4),
            ),
        ),
    ),
    DemoIncident(
        title="PagerDuty: DNS change breaks name resolution in the container cluster",
        company="PagerDuty",
        category="Config Errors",
        source_url="https://status.pagerduty.com/incidents/vbp7ht2647l8",
        severity=1,
        primary_service="container-platform",
        services=("container-platform", "dns-resolvers", "payments-api", "storefront"),
        commander="amara",
        summary="Every workload in the container cluster lost DNS after a configuration change.",
        ago=days(13) + hours(2),
        detected=minutes(2),
        acknowledged=minutes(4),
        mitigated=hours(2),
        resolved=hours(3),
        postmortem=DemoPostMortem(
            status="published",
            owner="priya",
            published_ago=days(6),
            summary="A DNS configuration change for the container platform had a defect that staging did not "
            "show. Right after the deploy, nothing in the cluster could resolve names, including the tooling we "
            "would normally use to roll the change back.",
            impact="Every service hosted on the cluster failed or degraded for about two hours.",
            trigger="Deploying a DNS configuration change to the cluster.",
            root_cause="Staging's DNS set-up differs from production's, so the defect only showed in production; "
            "and the deploy pipeline itself needs cluster DNS.",
            detection="Immediate: every service alerted at once.",
            resolution="Rolled back by hand from a machine outside the cluster, since the normal pipeline was down.",
            went_well="The deploy log pointed at the change within minutes.",
            went_wrong="Rolling back depended on the very thing that was broken.",
            got_lucky="Alerting runs outside the cluster, so it still paged us.",
            action_items=(
                DemoActionItem("Make staging DNS match production", "prevent", "priya", 1, "open", 6),
                DemoActionItem(
                    "Break-glass deploy path that does not need cluster DNS", "mitigate", "jonas", 1, "open", 12
                ),
            ),
        ),
    ),
    DemoIncident(
        title="GitHub: 43-second network partition causes a cross-site database failover",
        company="GitHub",
        category="Conflicts",
        source_url="https://blog.github.com/2018-10-30-oct21-post-incident-analysis/",
        severity=1,
        primary_service="accounts-mysql",
        services=("accounts-mysql", "auth", "storefront"),
        commander="fatima",
        summary="A short network partition promoted a database primary in the other site; writes missing from "
        "the new primary took a day to reconcile.",
        ago=days(11) + hours(3),
        detected=minutes(1),
        acknowledged=minutes(3),
        mitigated=hours(20),
        resolved=hours(24),
        postmortem=DemoPostMortem(
            status="published",
            owner="ingrid",
            published_ago=days(4),
            summary="The link between our two sites dropped for 43 seconds during planned maintenance. The "
            "failover tooling promoted a replica in the far site that had not yet received the last seconds of "
            "writes. When the link came back, each site held writes the other lacked, and the applications were "
            "talking to a primary an ocean away.",
            impact="Degraded service and stale data for about 24 hours while writes were restored and "
            "reconciled; in the end no data was lost.",
            trigger="Replacing faulty optical equipment on the link between the sites.",
            root_cause="The failover tooling could promote across sites without weighing replication lag.",
            detection="Alerts within a minute.",
            resolution="Restored from backups, replayed the missing writes and moved the primary back.",
            went_well="We put data integrity before speed and lost no writes.",
            went_wrong="Restoring from backups took many hours.",
            got_lucky="The partition came at a quiet hour.",
            action_items=(
                DemoActionItem("Forbid automatic promotion across sites", "prevent", "ingrid", 1, "open", 5),
                DemoActionItem("Rehearse restore-and-replay every quarter", "process", "mateus", 2, "open", 30),
            ),
        ),
    ),
    DemoIncident(
        title="Mozilla: expired intermediate certificate disables every extension",
        company="Mozilla",
        category="Time",
        source_url="https://web.archive.org/web/20250303152906/https://hacks.mozilla.org/2019/07/add-ons-outage-post-mortem-result/",
        severity=2,
        primary_service="cert-service",
        services=("cert-service", "package-mirror"),
        commander="amara",
        summary="An intermediate certificate in the signing chain expired, and clients refused every signed extension.",
        ago=days(9) + hours(5),
        detected=minutes(30),
        acknowledged=minutes(40),
        mitigated=hours(9),
        resolved=hours(20),
        postmortem=DemoPostMortem(
            status="published",
            owner="priya",
            published_ago=days(2),
            summary="Clients check that each extension is signed through a chain ending at our root. An "
            "intermediate certificate in that chain reached its expiry date, and from then on clients treated "
            "every extension as unsigned and switched it off.",
            impact="Nearly all installed extensions were disabled for 9 to 20 hours, and some settings kept by "
            "extensions were lost.",
            trigger="The intermediate certificate's expiry time passed.",
            root_cause="No inventory of certificates and their expiry dates, and nobody clearly owned the "
            "signing chain any more.",
            detection="Users told us on social media before any alert fired.",
            resolution="Pushed a new intermediate certificate through a privileged update channel, then re-signed.",
            went_well="The privileged update channel existed and worked.",
            went_wrong="Nothing warned of the expiry, and users with that update channel turned off waited much "
            "longer.",
            got_lucky="It happened on a weekend.",
            action_items=(
                DemoActionItem(
                    "Inventory every certificate and alert 30 days before expiry", "detect", "priya", 1, "open", 3
                ),
                DemoActionItem("Name an owner for the signing chain", "process", "amara", 2, CLOSED, -1),
            ),
        ),
    ),
    DemoIncident(
        title="Stack Exchange: regex backtracking on one post takes the site down",
        company="Stack Exchange",
        category="Uncategorized",
        source_url="http://web.archive.org/web/20160720200842/https://stackstatus.net/post/147710624694/outage-postmortem-july-20-2016",
        severity=2,
        primary_service="storefront",
        services=("storefront",),
        commander="noah",
        summary="One product review full of whitespace made a trimming regex take seconds per page view, and "
        "the load balancer pulled every web server.",
        ago=days(8) + hours(4),
        detected=minutes(5),
        acknowledged=minutes(7),
        mitigated=minutes(30),
        resolved=minutes(34),
        postmortem=DemoPostMortem(
            status="published",
            owner="tomas",
            published_ago=days(1),
            summary="The regular expression that strips trailing whitespace backtracked in quadratic time on a "
            "review containing tens of thousands of spaces. The review sat on the page the load balancer uses "
            "as its health check, so every web server looked unhealthy and was taken out.",
            impact="The storefront returned errors for about 30 minutes.",
            trigger="Someone posted a review with a very long run of whitespace.",
            root_cause="A backtracking regex applied to user input, and a health check that renders a page with "
            "user content.",
            detection="The availability alert, within five minutes.",
            resolution="Edited the review, then replaced the regex with a plain string trim.",
            went_well="Profiling one web server found the hot regex in minutes.",
            went_wrong="The health check depended on what users write.",
            got_lucky="We found the review quickly; any page could have been the one.",
            action_items=(
                DemoActionItem(
                    "Replace regex trims of user input with linear-time code", "prevent", "tomas", 1, "open", 7
                ),
                DemoActionItem("Health check that renders no user content", "mitigate", "aisha", 2, "open", 14),
            ),
        ),
    ),
    DemoIncident(
        title="Sentry: PostgreSQL transaction id wraparound stops all writes",
        company="Sentry",
        category="Uncategorized",
        source_url="https://blog.sentry.io/2015/07/23/transaction-id-wraparound-in-postgres",
        severity=2,
        primary_service="core-postgres",
        services=("core-postgres", "payments-api", "billing-jobs"),
        commander="fatima",
        summary="The main database refused writes to protect itself from transaction id wraparound.",
        ago=days(7) + hours(6),
        detected=minutes(10),
        acknowledged=minutes(12),
        mitigated=hours(8),
        resolved=hours(9),
        postmortem=DemoPostMortem(
            status="published",
            owner="mateus",
            published_ago=hours(3),
            summary="PostgreSQL numbers transactions with 32-bit ids and must freeze old rows with vacuum before "
            "the counter wraps around. Vacuum on our busiest table fell behind the write rate, and the database "
            "stopped accepting writes until a full vacuum had finished.",
            impact="Writes failed for the better part of a working day; reads kept working.",
            trigger="A sustained burst of writes to one large table.",
            root_cause="Autovacuum settings sized for a much smaller database, and no alert on transaction id age.",
            detection="Write errors. The database had been logging warnings for days, but nobody was reading them.",
            resolution="Ran a manual vacuum and emptied a disposable table to make it finish sooner.",
            went_well="Reads kept working, so the site stayed partly useful.",
            went_wrong="Days of warnings in the logs went unnoticed.",
            got_lucky="The biggest table held data we could afford to throw away.",
            action_items=(
                DemoActionItem("Alert on the age of the oldest transaction id", "detect", "mateus", 1, "open", 2),
                DemoActionItem("Tune autovacuum on the largest tables", "prevent", "fatima", 2, "open", 10),
            ),
        ),
    ),
    # --- in review ----------------------------------------------------------------------------
    DemoIncident(
        title="AWS: backup generator fails under load during a storm power cut",
        company="Amazon",
        category="Hardware/Power Failures",
        source_url="https://aws.amazon.com/message/67457/",
        severity=2,
        primary_service="datacenter",
        services=("datacenter", "container-platform", "core-postgres"),
        commander="amara",
        summary="A storm cut utility power; one backup generator could not carry its load, and a room of servers "
        "went dark.",
        ago=days(6) + hours(2),
        detected=minutes(3),
        acknowledged=minutes(5),
        mitigated=hours(2),
        resolved=hours(5),
        postmortem=DemoPostMortem(
            status="in_review",
            owner="jonas",
            summary="Severe weather cut utility power to one data center. All generators started, but one could "
            "not deliver stable power once loaded, and the servers on its circuit went down when their batteries "
            "ran out.",
            impact="About a fifth of the hosts in that site were down for two hours; services that ran in only "
            "one site degraded.",
            trigger="Loss of utility power during a storm.",
            root_cause="A generator that had passed a load test weeks earlier and weekly start tests still failed "
            "under real load; the cause is being investigated with the vendor.",
            detection="Host-down alerts within three minutes.",
            resolution="Utility power returned and hosts were brought back in dependency order.",
            went_well="Services running in both sites stayed up.",
            went_wrong="Several tier-1 services live in one site only, and the restart order after power came "
            "back was improvised.",
            action_items=(
                DemoActionItem("Run every tier-1 service in both sites", "prevent", "amara", 1, "open", 30),
                DemoActionItem("Write down the power-restoration order", "process", "priya", 2, "open", 10),
            ),
        ),
    ),
    DemoIncident(
        title="GitHub: final table rename of a schema migration deadlocks read replicas",
        company="GitHub",
        category="Database",
        source_url="https://github.blog/2021-12-01-github-availability-report-november-2021/",
        severity=2,
        primary_service="accounts-mysql",
        services=("accounts-mysql", "auth", "storefront"),
        commander="fatima",
        summary="The rename that ends a large schema migration sent many read replicas into deadlock and crash "
        "recovery, and the rest could not carry the load.",
        ago=days(5) + hours(1),
        detected=minutes(4),
        acknowledged=minutes(6),
        mitigated=minutes(90),
        resolved=hours(3),
        postmortem=DemoPostMortem(
            status="in_review",
            owner="ingrid",
            summary="Online migrations of big tables run for weeks and finish by renaming the new table into "
            "place. During that rename a large share of our read replicas hit a deadlock and went into crash "
            "recovery. Their traffic moved to the remaining replicas, which were overloaded in turn.",
            impact="Pages that read from replicas were slow or failing for about 90 minutes.",
            trigger="The final rename step of a long-running migration.",
            root_cause="A deadlock in the database engine under this access pattern, and no spare replica "
            "capacity to absorb losing many replicas at once.",
            detection="Replica health alerts.",
            resolution="Paused migrations, added replicas and shed internal analytics traffic.",
            went_well="Shedding internal read traffic freed capacity fast.",
            went_wrong="Recovered replicas rejoined and failed again, and it took a while to see the loop.",
            action_items=(
                DemoActionItem("Keep 30% spare read-replica capacity", "mitigate", "mateus", 1, "open", 14),
                DemoActionItem(
                    "Pause migrations automatically when replica health drops", "prevent", "ingrid", 2, "open", 21
                ),
            ),
        ),
    ),
    DemoIncident(
        title="npm: CDN restart sends registry requests to the wrong back end",
        company="NPM",
        category="Config Errors",
        source_url="https://blog.npmjs.org/post/74949623024/2014-01-28-outage-postmortem.html",
        severity=3,
        primary_service="package-mirror",
        services=("package-mirror", "edge-proxy"),
        commander="diego",
        summary="Some package metadata requests reached the file store instead of the metadata database after "
        "a CDN configuration change.",
        ago=days(4) + hours(7),
        detected=minutes(15),
        acknowledged=minutes(20),
        mitigated=minutes(55),
        resolved=minutes(75),
        postmortem=DemoPostMortem(
            status="in_review",
            owner="hana",
            summary="Our CDN rules picked a back end and then restarted request processing so that other rules "
            "would run again. The restart silently put the back end back to the first one in the list, the file "
            "store, which cannot answer metadata requests.",
            impact="A share of package metadata requests failed for under an hour, and installs failed now and then.",
            trigger="A CDN configuration change that added a restart.",
            root_cause="Restarting request processing resets the chosen back end, which we did not know.",
            detection="Reports from developers and a rise in 404 responses.",
            resolution="Moved the back-end choice after the restart.",
            went_well="The CDN's change history made the culprit easy to find.",
            went_wrong="No test covers routing decisions in the CDN configuration.",
            action_items=(
                DemoActionItem("Routing tests for the CDN configuration in CI", "prevent", "hana", 2, "open", 12),
            ),
        ),
    ),
    # --- drafts: two late (they owe a regression test already), one not due yet --------------
    DemoIncident(
        title="Travis CI: stray environment variable makes tests truncate the production database",
        company="TravisCI",
        category="Config Errors",
        source_url="https://www.traviscistatus.com/incidents/z2b3lz2kwcfp",
        severity=1,
        primary_service="ci-runners",
        services=("ci-runners", "core-postgres"),
        commander="amara",
        summary="A test run emptied the tables of the CI service's production database.",
        ago=days(12) + hours(2),
        detected=minutes(20),
        acknowledged=minutes(25),
        mitigated=hours(3),
        resolved=hours(6),
        postmortem=DemoPostMortem(
            status="draft",
            owner="jonas",
            summary="An engineer's shell still had an environment variable pointing at the production database. "
            "Running the test suite, whose set-up empties every table, truncated production instead.",
            impact="Build history and repository settings were gone until the restore finished; new builds "
            "failed meanwhile. (Numbers still to be confirmed.)",
            trigger="Running the tests on a laptop with production credentials in the environment.",
            action_items=(
                DemoActionItem(
                    "Test set-up refuses to run against a non-test database", "prevent", "jonas", 1, "open", -3
                ),
            ),
        ),
    ),
    DemoIncident(
        title="Stack Overflow: firewall change blocks all inbound web traffic",
        company="Stack Overflow",
        category="Config Errors",
        source_url="https://web.archive.org/web/20201020103424/https://stackstatus.net/post/96025967369/outage-post-mortem-august-25th-2014",
        severity=2,
        primary_service="perimeter-firewall",
        services=("perimeter-firewall", "storefront"),
        commander="diego",
        summary="A firewall rule change shut out all inbound traffic to the public sites.",
        ago=days(15) + hours(5),
        detected=minutes(3),
        acknowledged=minutes(5),
        mitigated=minutes(35),
        resolved=minutes(60),
        postmortem=DemoPostMortem(
            status="draft",
            owner="liam",
            summary="A firewall change meant to tighten a single rule blocked every inbound web connection to "
            "the public sites.",
            impact="The public sites were unreachable for about half an hour.",
            trigger="A firewall configuration change.",
            action_items=(
                DemoActionItem(
                    "Review firewall changes with a diff of the ports they affect", "process", "liam", 2, "open", 5
                ),
            ),
        ),
    ),
    DemoIncident(
        title="PythonAnywhere: failed storage volume takes hosted sites down",
        company="PythonAnywhere",
        category="Hardware/Power Failures",
        source_url="https://blog.pythonanywhere.com/189/",
        severity=3,
        primary_service="blob-storage",
        services=("blob-storage", "uploads-api"),
        commander="fatima",
        summary="One storage volume failed, and what depended on it failed too, then the trouble spread further.",
        ago=days(2) + hours(3),
        detected=minutes(10),
        acknowledged=minutes(15),
        mitigated=hours(4),
        resolved=hours(7),
        postmortem=DemoPostMortem(
            status="draft",
            owner="mateus",
            summary="A storage volume on one of the file servers failed. Services reading from it hung, and the "
            "hang spread to services whose data sat on other volumes of the same servers.",
            impact="Uploads, and pages serving files from blob storage, failed for several hours.",
            trigger="A hardware failure of one storage volume.",
            action_items=(
                DemoActionItem("Measure how long a volume rebuild takes", "detect", "mateus", 3, "open", 14),
            ),
        ),
    ),
    # --- still open: no post-mortem yet ------------------------------------------------------------
    DemoIncident(
        title="GitHub: power disruption in the primary data center",
        company="GitHub",
        category="Hardware/Power Failures",
        source_url="https://github.com/blog/2106-january-28th-incident-report",
        severity=2,
        primary_service="datacenter",
        services=("datacenter", "storefront", "accounts-mysql"),
        commander="amara",
        summary="Power dipped in the primary data center; about a quarter of the hosts rebooted and some are "
        "still coming back.",
        ago=hours(3),
        detected=minutes(2),
        acknowledged=minutes(5),
        mitigated=minutes(80),
        resolved=None,
    ),
    DemoIncident(
        title="Spotify: retries without backoff cascade into a wider outage",
        company="Spotify",
        category="Uncategorized",
        source_url="https://labs.spotify.com/2013/06/04/incident-management-at-spotify/",
        severity=3,
        primary_service="recommendations",
        services=("recommendations", "storefront"),
        commander="noah",
        summary="A slow dependency made the recommendations service retry at once and without limit, which "
        "overloaded the dependency further.",
        ago=minutes(40),
        detected=minutes(6),
        acknowledged=minutes(9),
        mitigated=None,
        resolved=None,
    ),
)

# Services whose CI does not report test runs to sredesk: a linked regression test is enough there,
# so linking one in the web UI stops that post-mortem's reminders (the Google routing incident shows it).
SERVICES_WITHOUT_CI_REPORTS = frozenset({"network-routing", "datacenter"})
