"""Incidents with a published post-mortem: a regression test linked (verified, only linked, or
failing again), or none at all, so reminders fire as soon as the product starts.
"""

from .specs import CLOSED, DemoActionItem, DemoIncident, DemoPostMortem, DemoRegressionTest, days, hours, minutes

INCIDENTS = (
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
)
