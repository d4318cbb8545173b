"""Template filters for SLO figures: percentages, budgets in their unit, burn rates."""

from django import template
from django.template.defaultfilters import pluralize

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
    return events(value)


@register.filter
def events(value: float) -> str:
    """A number of events, a whole number whatever the arithmetic gave (a budget of 0.1 % of 2,430,504 events is
    2,430.504 of them): ``24,305 events``, ``1 event``, ``−12 events``. The one format of event counts: the SLO
    pages (``amount``) and the error budget an incident used (``slos.budget``)."""
    whole = round(float(value))
    sign = "−" if whole < 0 else ""
    return f"{sign}{abs(whole):,} event{pluralize(abs(whole))}"


@register.filter
def burn(value: float | None) -> str:
    """A burn rate: ``14.4×``; "no data" when the window has none."""
    if value is None:
        return "no data"
    return f"{float(value):.3g}×"
