"""Domain exceptions shared by the apps, so the doors (API, web, admin) map them without importing services.

A service raises a subclass; the REST API answers ``StateConflict`` with 409
and any other ``ValidationError`` with 400 (``sredesk.api.errors``), a web form
shows the messages. Both are Django ``ValidationError`` so ``messages`` and
``message_dict`` work as everywhere else.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError


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
