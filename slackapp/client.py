"""Talking back to Slack: the Web API client, and replies through a request's ``response_url``.

Both go through slack_sdk at the configured addresses: the Web API at
``SREDESK_SLACK_API_URL`` (tests point it at ``tests/fakes.FakeSlack``), and
``response_url`` only when it starts with one of
``SREDESK_SLACK_RESPONSE_URL_PREFIXES`` (default ``https://hooks.slack.com/``):
a forged or odd URL in a request must not make sredesk post anywhere else.
"""

import logging
from typing import Any

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

logger = logging.getLogger(__name__)


def slack_client(*, timeout: float | None = None) -> WebClient:
    """The bot's WebClient (``SLACK_BOT_TOKEN``), ``timeout`` seconds per call (default SREDESK_SLACK_TIMEOUT_SECONDS).

    No SDK-level retries: a call Slack took but whose answer was lost would be
    made twice; callers decide whether a retry is safe.
    """
    return WebClient(
        token=settings.SLACK_BOT_TOKEN or None,
        base_url=settings.SREDESK_SLACK_API_URL,
        timeout=int(timeout or settings.SREDESK_SLACK_TIMEOUT_SECONDS) or 1,
        retry_handlers=[],
    )


def response_url_allowed(url: str) -> bool:
    """Whether sredesk may post to ``url``: it starts with a prefix in ``SREDESK_SLACK_RESPONSE_URL_PREFIXES``."""
    return bool(url) and any(url.startswith(p) for p in settings.SREDESK_SLACK_RESPONSE_URL_PREFIXES if p)


def post_response_url(url: str, body: dict[str, Any], *, inbound_id: int | None = None) -> bool:
    """POST ``body`` (JSON) to a request's ``response_url``; True when Slack answered 200.

    A URL outside the allowed prefixes is not called (logged). Errors are
    logged with the inbound request id, never raised: a lost reply must not
    undo the work the reply describes.
    """
    if not response_url_allowed(url):
        logger.warning("slack response_url refused (not an allowed prefix)", extra={"slack_inbound": inbound_id})
        return False
    try:
        response = WebhookClient(url, timeout=settings.SREDESK_SLACK_TIMEOUT_SECONDS).send_dict(body)
    except Exception as exc:
        logger.warning("slack response_url failed: %s", exc, extra={"slack_inbound": inbound_id})
        return False
    if response.status_code != 200:
        logger.warning(
            "slack response_url answered %s: %s",
            response.status_code,
            response.body[:200],
            extra={"slack_inbound": inbound_id},
        )
        return False
    return True
