"""Domain exceptions shared by the apps, so the doors (API, web, admin) map them without importing services.

A service raises a subclass; the REST API answers ``StateConflict`` with 409
and any other ``ValidationError`` with 400 (``sredesk.api.errors``), a web form
shows the messages. Both are Django ``ValidationError`` so ``messages`` and
``message_dict`` work as everywhere else.
"""

import datetime as dt
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.utils import timezone


class StateConflict(ValidationError):
    """The object's current state does not allow this move (e.g. acknowledge a resolved incident).

    ``code`` (optional) is the API's error code; ``invalid_transition`` by default.
    """


class PermissionDenied(DjangoPermissionDenied):
    """The acting person may not make this write (``ownership.permissions``).

    A Django ``PermissionDenied``, so every door answers it without a mapping
    of its own: the API with 403 ``permission_denied``, a web view with the
    403 page, and the transaction the service ran in is rolled back (nothing
    is written). ``field`` names the input that was refused when one was
    (``commander`` when a declarer may not appoint one), else None.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class TooSoon(Exception):
    """A limited action asked for again before it is allowed: nothing was done.

    ``retry_at`` (aware, UTC) is the first instant it is allowed again; ``message`` a plain sentence for the
    API (a web view words it for its reader). The REST API answers 429 ``too_soon`` with ``Retry-After``
    (whole seconds, ``sredesk.api.errors``).
    """

    def __init__(self, message: str, *, retry_at: dt.datetime):
        super().__init__(message)
        self.message = message
        self.retry_at = retry_at

    def wait_seconds(self, now: dt.datetime | None = None) -> int:
        """Whole seconds from ``now`` (default: the current time) until it is allowed again, at least 1."""
        return max(1, math.ceil((self.retry_at - (now or timezone.now())).total_seconds()))
