"""What a test needs from the machine (PostgreSQL, Redis, the shared real payloads, Chromium, Prometheus).

Without it the test skips, saying what is missing; with SREDESK_REQUIRE_SERVICES=1
(CI) it fails instead, because there it must run.
"""

import pytest
from django.conf import settings


def service_missing(reason: str) -> None:
    """Skip, or fail when SREDESK_REQUIRE_SERVICES says the service must be there (CI)."""
    if settings.SREDESK_REQUIRE_SERVICES:
        pytest.fail(f"{reason} (SREDESK_REQUIRE_SERVICES=1: this must run)")
    pytest.skip(reason)
