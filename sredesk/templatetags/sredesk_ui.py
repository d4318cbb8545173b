"""Template helpers for the web UI: times in the viewer's zone with the date and the zone named, durations, percentages.

Every time the UI shows goes through ``when``: the date is always there (a
timeline crosses midnight; BR-22), the wall-clock time is the viewer's own
(``sredesk.middleware.UserTimezoneMiddleware`` activates ``User.timezone``),
and the zone is named, with the absolute UTC instant in the ``datetime``
attribute for machines.
"""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from sredesk import inputs

register = template.Library()

FORMATS = {  # the styles of ``when``
    "full": "%Y-%m-%d %H:%M",
    "date": "%Y-%m-%d",
}


def zone_label(value: dt.datetime) -> str:
    """The zone's abbreviation at that instant (CEST, UTC, +13)."""
    return value.tzname() or str(value.tzinfo)


def when_text(value: dt.datetime) -> str:
    """``2024-05-02 01:50 CEST``: an aware time in the active (viewer's) zone, as plain text for messages."""
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d %H:%M} {zone_label(local)}"


@register.filter
def when(value: dt.datetime | dt.date | None, style: str = "full") -> str:
    """``2024-05-02 01:50 CEST`` in the viewer's zone, as a ``<time>`` element ("—" for None).

    ``style`` is ``full`` (default: the date, the time to the minute, the zone)
    or ``date`` (a date in the viewer's zone, no zone shown); any other raises
    ``TemplateSyntaxError`` when the template renders. A plain ``date`` renders
    as a date. The exact instant, to the second in UTC, is in the ``title``.
    """
    if style not in FORMATS:
        raise template.TemplateSyntaxError(f"when: unknown style {style!r}; use 'full' or 'date'")
    if value is None or value == "":
        return "—"
    if not isinstance(value, dt.datetime):
        return format_html('<time datetime="{}">{}</time>', value.isoformat(), value.strftime(FORMATS["date"]))
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    text = local.strftime(FORMATS[style])
    if style != "date":
        text = f"{text} {zone_label(local)}"
    zone = timezone.get_current_timezone_name()
    utc = value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if timezone.is_aware(value) else ""
    return format_html('<time datetime="{}" title="{} ({})">{}</time>', value.isoformat(), utc, zone, text)


@register.filter
def duration(seconds: float | int | dt.timedelta | None) -> str:
    """A humanised duration: ``45 s``, ``12 m``, ``3 h 5 m``, ``2 d 4 h`` ("—" for None, never negative)."""
    if seconds is None or seconds == "":
        return "—"
    if isinstance(seconds, dt.timedelta):
        seconds = seconds.total_seconds()
    seconds = max(round(float(seconds)), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} m" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} m {secs} s" if secs and minutes < 10 else f"{minutes} m"
    return f"{secs} s"


@register.filter
def percent(value: float | None, digits: int = 2) -> str:
    """A fraction as a percentage (``0.99951`` -> ``99.95 %``; an overspent budget ``-35.412`` -> ``−3541.20 %``,
    the minus sign as ``duration``'s callers write it, never ``−0.0 %``); "—" when unknown (None).

    The one format of percentages: the pages' filter (also ``slos_ui``'s), the burn-down chart's values
    (``slos.charts``), the team report's shares (``reports.trend``), an incident's budget sentence
    (``slos.budget``) and the SLO and policy messages. ``digits`` after the point.
    """
    if value is None or value == "":
        return "—"
    text = f"{abs(float(value)) * 100:.{int(digits)}f}"
    sign = "−" if float(value) < 0 and float(text) != 0 else ""
    return f"{sign}{text} %"


@register.simple_tag
def current_zone() -> str:
    """The IANA name of the zone times are shown in (the viewer's)."""
    return timezone.get_current_timezone_name()


@register.filter
def age(value: dt.datetime | None) -> str:
    """How long ago ``value`` was, humanised ("—" for None)."""
    if value is None:
        return "—"
    return duration((timezone.now() - value).total_seconds())


@register.filter
def get_item(mapping: dict, key):
    """``mapping[key]`` in a template (None when missing)."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def http_url(value: str | None) -> str:
    """``value`` when it is an ``http``/``https`` URL, else ``""``: a link is rendered only for those.

    URLs are checked where they enter (``sredesk.inputs.check_url``); this is the
    second check, for rows stored before that one existed (a ``javascript:`` link
    runs script in the viewer's page).
    """
    return value if value and inputs.http_url(value) else ""


@register.filter
def nonced(svg: SafeString, request) -> SafeString:
    """A server-drawn SVG chart (``ownership.charts.inline_svg``) whose ``<style>`` carries the response's CSP nonce.

    The Content-Security-Policy (``CONTENT_SECURITY_POLICY`` in settings) refuses inline styles except those with
    the nonce django-csp puts in this response's header; only sredesk's own chart markup goes through here, never
    text a person wrote. Without a nonce (no CSP middleware) the SVG is returned as it is.
    """
    nonce = getattr(request, "csp_nonce", None)
    if nonce is None:
        return svg
    return mark_safe(str(svg).replace("<style", f'<style nonce="{nonce!s}"'))  # noqa: S308 - our own chart markup
