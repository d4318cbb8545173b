"""Every percentage the UI writes comes from one formatter (``sredesk.templatetags.sredesk_ui.percent``): a
negative one has the minus sign the durations and the SLO pages use ("−19 h 14 m", "−534.3 %"), never an ASCII
hyphen, and nothing reads "−0 %".

The walk found "-534.3 %" beside "−19 h 14 m"; the SLO pages were fixed with their own filter, while the team
report's shares and the incident's budget sentence each still formatted percentages by hand."""

import pytest

from reports.trend import _percent as report_percent
from slos.budget import _percent as budget_percent
from slos.templatetags.slos_ui import percent as slo_percent
from sredesk.templatetags.sredesk_ui import percent


@pytest.mark.parametrize(
    ("write", "value", "text"),
    [
        (percent, -5.343, "−534.30 %"),
        (slo_percent, -5.343, "−534.30 %"),
        (report_percent, -0.25, "−25 %"),
        (report_percent, -0.004, "0 %"),
        (report_percent, 0.5, "50 %"),
        (report_percent, None, "—"),
        (budget_percent, -0.054, "−5.4 %"),
        (budget_percent, -0.37, "−37 %"),
        (budget_percent, 0.05, "5 %"),
        (budget_percent, 0.054, "5.4 %"),
        (budget_percent, 0.37, "37 %"),
    ],
)
def test_a_percentage_reads_the_same_wherever_it_is_written(write, value, text):
    assert write(value) == text


def test_the_slo_pages_filter_is_the_ui_formatter():
    assert slo_percent is percent
