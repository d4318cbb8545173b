"""The REST kit every endpoint under ``/api/v1/`` shares, one module per seam.

* ``errors``: one error shape, ``{"error": {"code", "message", "fields": {"<field>": ["..."]}}}``,
  for every 4xx (``exception_handler``), including Django ``ValidationError``
  from the services (400, ``message_dict`` -> ``fields``), a domain
  ``sredesk.exceptions.StateConflict`` such as ``InvalidTransition`` (409),
  ``Http404``/``DoesNotExist`` (404) and ``PermissionDenied`` (403).
* ``auth``: a per-user token (``Authorization: Token <key>``, or ``Bearer``)
  first, then the browser session. A request carrying a token is judged by
  the token alone, so a stale session cookie never makes it need a CSRF token
  (BR-26); a session-only write still needs one.
* ``permissions``: every signed-in user reads; a write needs the domain's one
  write rule, ``ownership.permissions.may_write(user, obj)`` (which the
  services enforce too): checked here first so a non-writer gets 403 before
  the body is read.
* ``fields``: aware datetimes, choices by label or number, input serializers
  that refuse unknown fields.
* ``filters`` (django-filter building blocks), ``ordering`` (a whitelist) and
  ``viewsets`` (``QueryValidationMixin``): a bad query string is one 400
  naming every bad parameter at once.
* ``pagination`` (``KeysetPagination``): cursors over the whole ordering tuple,
  which always ends in the unique ``id``. DRF's own CursorPagination keys on
  the first ordering field plus an offset, which skips or repeats rows when
  many share a timestamp and rows come and go between pages (BR-24).
* ``parsers``: JSON bodies bounded in size and depth (``sredesk.inputs.load_json``).
* ``schema`` (OpenAPI additions) and ``urls`` (the router at ``/api/v1/``).

Import from the seam's module (``from sredesk.api.fields import ...``); this
package re-exports nothing.
"""
