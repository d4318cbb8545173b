"""Incidents whose post-mortem is not published yet (in review, drafts late or not) and open incidents."""

from .specs import DemoActionItem, DemoIncident, DemoPostMortem, days, hours, minutes

INCIDENTS = (
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
        severity=2,
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
        severity=2,
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
