"""Incidents whose post-mortem is complete: published, regression test seen passing, items closed."""

from .specs import CLOSED, DemoActionItem, DemoIncident, DemoPostMortem, DemoRegressionTest, days, hours, minutes

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
        severity=2,
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
)
