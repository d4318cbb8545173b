"""Template filters for SLO figures: percentages, budgets in their unit, burn rates."""

from django import template

from sredesk.templatetags.sredesk_ui import duration, percent

register = template.Library()


# The UI's one percentage format (``sredesk_ui.percent``), for the SLO templates that load only this library.
register.filter("percent", percent)


@register.filter
def amount(value: float | None, slo) -> str:
    """Events (``1,234 events``) or, for the time SLI, a duration (``43 m 12 s``); "—" when unknown."""
    if value is None:
        return "—"
    if not slo.is_events:
        sign = "−" if value < 0 else ""
        return sign + duration(abs(value))
    return f"{value:,.0f} events"


@register.filter
def burn(value: float | None) -> str:
    """A burn rate: ``14.4×``; "no data" when the window has none."""
    if value is None:
        return "no data"
    return f"{float(value):.3g}×"
