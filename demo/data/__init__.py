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
``settings.SREDESK_POSTMORTEM_DUE_DAYS`` from the incident's resolution, the same
rule the product uses: each incident is played through the product's services
(``demo.stories``), so an incident has a post-mortem only when its severity
needs one (``SREDESK_POSTMORTEM_SEVERITIES``, SEV1 and SEV2 by default).

Plain data, split by theme: ``specs`` (the shapes), ``company`` (teams,
people, services, an alert integration), and the incidents by how far their post-mortem got
(``complete``, ``published``, ``unfinished``). The loader is ``demo.loader``.
"""

from . import complete, published, unfinished
from .company import (
    DEMO_LOGIN_HANDOVER,
    DEMO_LOGIN_PASSWORD,
    DEMO_LOGIN_USERNAME,
    INTEGRATIONS,
    PEOPLE,
    REPOSITORIES,
    REPOSITORY_BASE_URL,
    SERVICES,
    SERVICES_WITHOUT_CI_REPORTS,
    TEAMS,
)
from .specs import (
    DemoActionItem,
    DemoHandover,
    DemoIncident,
    DemoIntegration,
    DemoPerson,
    DemoPostMortem,
    DemoRegressionTest,
    DemoService,
    DemoTeam,
)

# Loaded in this order, so incident numbers (INC-n) follow it: finished stories first, open incidents last.
INCIDENTS = complete.INCIDENTS + published.INCIDENTS + unfinished.INCIDENTS

__all__ = [
    "DEMO_LOGIN_HANDOVER",
    "DEMO_LOGIN_PASSWORD",
    "DEMO_LOGIN_USERNAME",
    "INCIDENTS",
    "INTEGRATIONS",
    "PEOPLE",
    "REPOSITORIES",
    "REPOSITORY_BASE_URL",
    "SERVICES",
    "SERVICES_WITHOUT_CI_REPORTS",
    "TEAMS",
    "DemoActionItem",
    "DemoHandover",
    "DemoIncident",
    "DemoIntegration",
    "DemoPerson",
    "DemoPostMortem",
    "DemoRegressionTest",
    "DemoService",
    "DemoTeam",
]
