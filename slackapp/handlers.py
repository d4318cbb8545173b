"""Every module that registers Slack handlers (``slackapp.registry``), imported once at start-up (apps.ready).

One import per line: add yours, touch nothing else here.
"""

from . import commands  # noqa: F401
