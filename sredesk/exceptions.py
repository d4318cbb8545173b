"""Domain exceptions shared by the apps, so the doors (API, web, admin) map them without importing services.

A service raises a subclass; the REST API answers ``StateConflict`` with 409
and any other ``ValidationError`` with 400 (``sredesk.api.errors``), a web form
shows the messages. Both are Django ``ValidationError`` so ``messages`` and
``message_dict`` work as everywhere else.
"""

from django.core.exceptions import ValidationError


class StateConflict(ValidationError):
    """The object's current state does not allow this move (e.g. acknowledge a resolved incident).

    ``code`` (optional) is the API's error code; ``invalid_transition`` by default.
    """
