"""Alert webhooks: ``POST /hooks/<integration id>/`` from Alertmanager, Grafana, PagerDuty or the generic format.

Thin on purpose: find the integration, bound and read the raw body,
authenticate, parse (``incidents.alert_formats``), and hand the parsed
delivery to ``incidents.ingest``, which applies it and its receipt in one
transaction. Answers are JSON: ``{"outcome", "alerts": {...}, "incidents": [...]}``
on success, ``{"error", "field"}`` otherwise.

Authentication: ``Authorization: Bearer <token>`` (or ``?token=``), compared by
hash. An integration with a signing secret (PagerDuty, Grafana) requires the
sender's HMAC signature over the raw bytes instead: bad -> 403, malformed ->
400, as PagerDuty's Go client recommends so the sender stops retrying.
"""

import json
import logging
import time

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.http.request import HttpHeaders
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sredesk import sql

from . import alert_formats, ingest
from .models import Integration, WebhookDelivery

logger = logging.getLogger(__name__)

PARSERS = {
    Integration.Kind.ALERTMANAGER: alert_formats.parse_alertmanager,
    Integration.Kind.GRAFANA: alert_formats.parse_grafana,
    Integration.Kind.GENERIC: alert_formats.parse_generic,
}
# Grafana's default header is X-Grafana-Alert-Signature (grafana/alerting http/hmac.go); the name is
# configurable per contact point and FORMATS.md documents X-Grafana-Alerting-Signature: accept both.
GRAFANA_SIGNATURE_HEADERS = ("X-Grafana-Alert-Signature", "X-Grafana-Alerting-Signature")
# Grafana sends no timestamp unless a timestamp header is configured; configure this name to use one.
GRAFANA_TIMESTAMP_HEADER = "X-Grafana-Alert-Timestamp"
GRAFANA_TIMESTAMP_TOLERANCE_SECONDS = 300
# Headers kept on the receipt (never Authorization: it carries the token).
KEPT_HEADERS = (
    "Content-Type",
    "User-Agent",
    "X-Webhook-Id",
    "X-Webhook-Subscription",
    "X-PagerDuty-Signature",
    *GRAFANA_SIGNATURE_HEADERS,
    GRAFANA_TIMESTAMP_HEADER,
    "X-Forwarded-For",
)
# The same, as WSGI names: read from request.META, without building request.headers (all of META) per delivery.
KEPT_META = tuple((name, HttpHeaders.to_wsgi_name(name)) for name in KEPT_HEADERS)


def _error(status: int, message: str, field: str = "") -> JsonResponse:
    return JsonResponse({"error": message, "field": field}, status=status)


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.GET.get("token", "")


def _authenticate(integration: Integration, request: HttpRequest, body: bytes) -> JsonResponse | None:
    """None when the request may proceed, else the error response (401, 403 or 400)."""
    if integration.has_signing_secret and integration.kind in (Integration.Kind.PAGERDUTY, Integration.Kind.GRAFANA):
        secret = integration.signing_secret
        if integration.kind == Integration.Kind.PAGERDUTY:
            header = request.headers.get("X-PagerDuty-Signature", "")
            if not header:
                return _error(401, "X-PagerDuty-Signature is required for this integration", "X-PagerDuty-Signature")
            if not any(part.strip().lower().startswith("v1=") for part in header.split(",")):
                return _error(400, "X-PagerDuty-Signature is malformed (expected v1=<hex>)", "X-PagerDuty-Signature")
            if not alert_formats.verify_pagerduty_signature(body, header, [secret]):
                return _error(403, "X-PagerDuty-Signature does not match the body", "X-PagerDuty-Signature")
            return None
        name = next((h for h in GRAFANA_SIGNATURE_HEADERS if h in request.headers), GRAFANA_SIGNATURE_HEADERS[0])
        header = request.headers.get(name, "")
        if not header:
            return _error(401, f"{name} is required for this integration", name)
        timestamp = request.headers.get(GRAFANA_TIMESTAMP_HEADER)
        if timestamp is not None:
            try:
                stale = abs(time.time() - int(timestamp)) > GRAFANA_TIMESTAMP_TOLERANCE_SECONDS
            except ValueError:
                return _error(400, f"{GRAFANA_TIMESTAMP_HEADER} is not unix seconds", GRAFANA_TIMESTAMP_HEADER)
            if stale:
                return _error(403, f"{GRAFANA_TIMESTAMP_HEADER} is too old or in the future", GRAFANA_TIMESTAMP_HEADER)
        if not alert_formats.verify_grafana_signature(body, header, secret, timestamp):
            return _error(403, f"{name} does not match the body", name)
        return None
    if not integration.check_token(_bearer_token(request)):
        return _error(401, "missing or wrong token (Authorization: Bearer <token>)", "Authorization")
    return None


def _enabled_integration(public_id) -> Integration | None:
    """The enabled integration with this public id, or None.

    Every delivery starts here, so it skips the ORM's query compilation and
    doubles as the connection's health check (``sredesk.sql.select_first``).
    The default service is loaded only when an alert is routed to it.
    """
    key = Integration._meta.get_field("public_id").get_db_prep_value(public_id, connection)
    found = sql.select_first(Integration, "public_id = %s AND enabled", [key])
    return found[0] if found else None


@csrf_exempt
@require_POST
def alert_webhook(request: HttpRequest, integration_id) -> JsonResponse:
    """Receive one alert delivery for the integration ``integration_id`` (its public UUID)."""
    integration = _enabled_integration(integration_id)
    if integration is None:
        return _error(404, "no enabled integration with this id", "integration_id")

    limit = settings.SREDESK_WEBHOOK_MAX_BYTES
    too_big = f"request body is larger than SREDESK_WEBHOOK_MAX_BYTES ({limit} bytes)"
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "Content-Length is not a number", "Content-Length")
    if declared > limit:
        return _error(413, too_big, "body")
    body = request.read(limit + 1)  # raw bytes, read at most once: signatures and re-parsing need them as sent
    if len(body) > limit:
        return _error(413, too_big, "body")

    try:
        refused = _authenticate(integration, request, body)
    except InvalidToken:
        logger.error(
            "Signing secret cannot be decrypted: SREDESK_ENCRYPTION_KEY changed?",
            extra={"integration_id": integration.pk},
        )
        # 503, not 4xx: the sender should retry once the key is put back.
        return _error(503, "this integration's signing secret cannot be read; the operator must fix it")
    if refused is not None:
        logger.warning(
            "Alert webhook refused",
            extra={"integration_id": integration.pk, "status": refused.status_code},
        )
        return refused

    delivery = WebhookDelivery(
        integration=integration,
        body=body,
        headers={name: request.META[key] for name, key in KEPT_META if key in request.META},
    )
    try:
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise alert_formats.PayloadError(alert_formats.ROOT, f"body is not valid JSON: {exc}") from exc
        if integration.kind == Integration.Kind.PAGERDUTY:
            event = alert_formats.parse_pagerduty(payload)
            result = ingest.ingest_pagerduty_event(integration=integration, event=event, delivery=delivery)
        else:
            batch = PARSERS[integration.kind](payload)
            result = ingest.ingest_alert_batch(integration=integration, batch=batch, delivery=delivery)
    except alert_formats.PayloadError as exc:
        delivery.pk = None
        delivery.outcome = WebhookDelivery.Outcome.REJECTED
        delivery.error = str(exc)
        delivery.result = {"error": exc.message, "field": exc.field}
        delivery.save()
        logger.info(
            "Alert webhook payload rejected",
            extra={"integration_id": integration.pk, "field": exc.field, "reason": exc.message},
        )
        return _error(400, exc.message, exc.field)
    except Exception as exc:
        # Keep the raw bytes of a delivery we failed on, so it can be replayed once the bug is fixed.
        delivery.pk = None
        delivery.outcome = WebhookDelivery.Outcome.ERROR
        delivery.error = f"{type(exc).__name__}: {exc}"
        try:
            delivery.save()
        except Exception:
            logger.exception("Could not keep the receipt of a failed alert delivery")
        raise
    return JsonResponse(result.as_dict(), status=200)


# Included from sredesk/urls.py at /hooks/.
urlpatterns = [
    path("<uuid:integration_id>/", alert_webhook, name="alert-webhook"),
]
