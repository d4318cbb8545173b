"""Every module that registers Slack handlers (``slackapp.registry``), imported once at start-up (apps.ready).

One import per line: add yours, touch nothing else here.
"""
# ruff: noqa: I001, F401

from . import commands
from . import commands_incident
from . import commands_postmortem
from . import mentions
from . import channels
