"""Date and time formats for the admin (and any ``|date`` without a format): ISO-like, with the zone named.

Django's English formats ("Dec. 4, 2026, 8:03 p.m.") leave the zone out, so an
operator could not tell a Berlin 09:00 from a UTC one. Times are shown in the
viewer's zone (``UserTimezoneMiddleware``), and ``T`` names it (CEST, UTC, +13).
The web UI formats its own times (``sredesk_ui.when``); these cover the rest.
"""

DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
