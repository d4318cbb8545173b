"""docs/slack-app.md's manifest is what a team pastes into Slack: its scopes must be the ones the code needs, and
its URLs the ones sredesk answers."""

import re
from pathlib import Path
from urllib.parse import urlparse

import yaml
from django.conf import settings
from django.urls import resolve

from notifications.slack_api import METHOD_SCOPES, RECEIVED_SCOPES, SCOPES_NEEDED
from slackapp import registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "slack-app.md"
# The scope each subscribed event needs (https://api.slack.com/events).
EVENT_SCOPES = {"pin_added": "pins:read", "reaction_added": "reactions:read", "app_mention": "app_mentions:read"}


def manifest() -> dict:
    [block] = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    return yaml.safe_load(block)


def test_manifest_scopes_are_the_scopes_the_code_needs():
    assert set(manifest()["oauth_config"]["scopes"]["bot"]) == SCOPES_NEEDED
    assert "user" not in manifest()["oauth_config"]["scopes"]  # no user token


def test_every_scope_is_explained_in_the_doc():
    table = DOC.read_text().split("## What each scope is for", 1)[1]
    assert {m for m in re.findall(r"^\| `([a-z_:.]+)` \|", table, flags=re.M)} == SCOPES_NEEDED


def test_manifest_urls_are_sredesks_slack_doors():
    settings = manifest()["settings"]
    urls = {
        "commands": manifest()["features"]["slash_commands"][0]["url"],
        "interactivity": settings["interactivity"]["request_url"],
        "options": settings["interactivity"]["message_menu_options_url"],
        "events": settings["event_subscriptions"]["request_url"],
    }
    paths = {name: urlparse(url).path for name, url in urls.items()}
    assert paths == {
        "commands": "/slack/commands",
        "interactivity": "/slack/interactivity",
        "options": "/slack/interactivity",
        "events": "/slack/events",
    }
    for path in paths.values():
        assert resolve(path).func is not None  # sredesk answers there


def test_subscribed_events_are_the_handled_ones_with_their_scopes():
    events = manifest()["settings"]["event_subscriptions"]["bot_events"]
    handled = {n for n in registry.names("event") if not registry.find("event", n).func.__module__.startswith("tests.")}
    assert set(events) == handled  # every @event handler of sredesk, and nothing Slack would send in vain
    assert {EVENT_SCOPES[e] for e in events} <= SCOPES_NEEDED
    assert "commands" in RECEIVED_SCOPES and set(METHOD_SCOPES) >= {"conversations.create", "bookmarks.add"}


def test_manifest_command_is_the_configured_one():
    [command] = manifest()["features"]["slash_commands"]
    assert command["command"] == settings.SREDESK_SLACK_COMMAND
