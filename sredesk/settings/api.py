"""The REST API at /api/v1/: Django REST framework's defaults (authentication, permissions, filters, keyset
pagination, JSON only, the error shape) and drf-spectacular's OpenAPI schema settings.
"""

from .base import env

# --- REST API (/api/v1/) -------------------------------------------------------------------
# Token before session: a request that carries a token is judged by it alone, so a stale
# browser cookie never makes it need CSRF (BR-26); session-only writes still need CSRF.
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sredesk.api.auth.UserTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sredesk.api.permissions.ReadAllWriteOwners"],
    "DEFAULT_FILTER_BACKENDS": [
        "sredesk.api.filters.FilterBackend",
        "sredesk.api.ordering.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "sredesk.api.pagination.KeysetPagination",
    "PAGE_SIZE": env.int("SREDESK_API_PAGE_SIZE", default=50),
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["sredesk.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "sredesk.api.schema.SredeskAutoSchema",
    "EXCEPTION_HANDLER": "sredesk.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "sredesk API",
    "DESCRIPTION": (
        "Incidents, post-mortems, action items and the regression tests that keep each failure from coming back. "
        "Authenticate with `Authorization: Token <key>` (`manage.py api_token <username>`) or a browser session "
        "(writes then need the CSRF token). Lists page with cursors (`next`/`previous` links, `page_size`). "
        'Every 4xx answers `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.models.Incident.Status",
        "AlertStatusEnum": "incidents.models.Alert.Status",
        "PostMortemStatusEnum": "postmortems.models.PostMortem.Status",
        "ActionItemStatusEnum": "postmortems.models.ActionItem.Status",
        "DeliveryStatusEnum": "notifications.models.DeliveryBase.Status",
        "ActionItemKindEnum": "postmortems.models.ActionItem.Kind",
        "ReminderKindEnum": "postmortems.models.Reminder.Kind",
        "IntegrationKindEnum": "incidents.models.Integration.Kind",
        "TimelineEventKindEnum": "incidents.models.TimelineEvent.Kind",
        "MembershipRoleEnum": "ownership.models.Membership.Role",
        "ResponsibilityRoleEnum": "ownership.models.Responsibility.Role",
        "OverrideKindEnum": "oncall.models.Override.Kind",
        "SeverityEnum": ["SEV1", "SEV2", "SEV3", "SEV4"],
        "PriorityEnum": ["P1", "P2", "P3", "P4"],
    },
}
