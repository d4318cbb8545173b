"""The three Slack doors: ``POST /slack/commands``, ``/slack/interactivity``, ``/slack/events``; and the link page.

Each door reads the raw body within ``SREDESK_SLACK_MAX_BODY_BYTES``
(``sredesk.bodies``), verifies Slack's signature over those exact bytes
(``signing``), then parses and answers (``inbound.receive``) within Slack's
3 s. No signing secret configured: 404 with a sentence (sredesk runs
without Slack). These doors take the short path past the browser middleware
(``sredesk.middleware``) and are CSRF-exempt: Slack signs, it has no cookie.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from sredesk import bodies, dbtrouble
from sredesk.inputs import InputError, is_ascii_int

from . import inbound, payloads, signing
from .identity import LinkTokenInvalid, link_token_preview, link_token_redeem

logger = logging.getLogger(__name__)

PARSERS = {
    "commands": payloads.parse_command,
    "interactivity": payloads.parse_interactivity,
    "events": payloads.parse_event,
}


def _door(request: HttpRequest, door: str) -> HttpResponse:
    if not signing.secrets_configured():
        return JsonResponse(
            {"error": "Slack is not set up on this sredesk: set SLACK_SIGNING_SECRET (see docs/slack-app.md)."},
            status=404,
        )
    try:
        body = bodies.read_bytes(request, setting="SREDESK_SLACK_MAX_BODY_BYTES")
    except bodies.BodyError as exc:
        return bodies.error_response(request, exc)
    meta = request.META  # (request.headers would build a dict of every header, per request)
    problem = signing.verify(body, meta.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"), meta.get("HTTP_X_SLACK_SIGNATURE"))
    if problem is not None:
        logger.info("slack %s refused: %s", door, problem.message)
        return JsonResponse({"error": problem.message}, status=problem.status)
    try:
        parsed = PARSERS[door](body)
    except InputError as exc:
        return JsonResponse({"error": exc.message, "field": exc.field}, status=400)
    retry = meta.get("HTTP_X_SLACK_RETRY_NUM", "")
    try:
        return inbound.receive(parsed, retry_num=int(retry) if is_ascii_int(retry) and len(retry) < 6 else 0)
    except Exception as exc:
        if not dbtrouble.is_database_trouble(exc) or parsed.kind == "event":
            raise  # an event gets the 503 (sredesk.middleware): Slack delivers it again later
        return inbound.database_trouble(parsed, exc)


@csrf_exempt
@require_POST
def commands(request: HttpRequest) -> HttpResponse:
    """Slash commands (``/sredesk ...``, form-encoded). Answers the ephemeral ack, or the sync handler's reply."""
    return _door(request, "commands")


@csrf_exempt
@require_POST
def interactivity(request: HttpRequest) -> HttpResponse:
    """Buttons, menus, modal submissions and ``block_suggestion`` (form field ``payload`` holding JSON)."""
    return _door(request, "interactivity")


@csrf_exempt
@require_POST
def events(request: HttpRequest) -> HttpResponse:
    """The Events API (JSON): answers ``url_verification``'s challenge; events are recorded and queued."""
    return _door(request, "events")


@login_required
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time "link your Slack account" page. GET shows which Slack account of which workspace the link
    ties, and asks to confirm; the POST (CSRF-protected, as every browser form) stores the Slack id on the viewer,
    unless Slack's confirmed email for that account is not the viewer's (``identity.link_token_redeem``)."""
    if request.method == "POST":
        try:
            slack_user_id = link_token_redeem(token=token, person=request.user)
        except LinkTokenInvalid as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"Your Slack account ({slack_user_id}) is linked. Go back to Slack and run the command again."
            )
        return redirect("ownership:profile")
    context = {"command": settings.SREDESK_SLACK_COMMAND}
    try:
        context["link"] = link_token_preview(token=token, person=request.user)
    except LinkTokenInvalid as exc:
        context["invalid"] = exc.message
    return render(request, "slackapp/link.html", context)
