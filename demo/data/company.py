"""The demo company: teams, people, repositories and services. All made up (``example.com``)."""

from .specs import DemoHandover, DemoIntegration, DemoPerson, DemoService, DemoTeam

DEMO_LOGIN_USERNAME = "demo"
DEMO_LOGIN_PASSWORD = "demo"

# The demo login is the only one who can sign in, so it gets work of its own when it is created: ``/me/`` then
# shows an incident to command, a late draft, a published post-mortem owing a regression test (its reminders
# reach the login) and action items, handed over by the SRE Platform lead.
DEMO_LOGIN_HANDOVER = DemoHandover(
    team="sre-platform",
    commands=("GitHub: power disruption in the primary data center",),
    postmortems=(
        "PagerDuty: DNS change breaks name resolution in the container cluster",
        "Travis CI: stray environment variable makes tests truncate the production database",
    ),
    action_items=("Test set-up refuses to run against a non-test database", "Make staging DNS match production"),
)

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

# Services whose CI does not report test runs to sredesk: a linked regression test is enough there,
# so linking one in the web UI stops that post-mortem's reminders (the Google routing incident shows it).
SERVICES_WITHOUT_CI_REPORTS = frozenset({"network-routing", "datacenter"})

# An Alertmanager webhook to try alert ingestion against (its token is printed once, when it is created).
INTEGRATIONS = (DemoIntegration("Demo Alertmanager", "alertmanager", "container-platform"),)
