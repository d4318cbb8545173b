"""The schedule's picture is readable at phone width as at laptop width (oncall.drawing's two layouts).

Before, one 840-unit drawing was scaled to the phone's 320 px: its day labels and hour ticks came out
at 4 px. Now the page carries a narrow layout too (the stylesheet shows it below 60rem, at most 28rem
wide) whose text comes out near its font size on a phone, and whose day labels fit their column.
"""

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.urls import reverse

from oncall.drawing import NARROW, WIDE
from tests.factories import UserFactory
from tests.oncall.test_pages import payments  # noqa: F401 - the fixture

BERLIN = ZoneInfo("Europe/Berlin")
# The drawing's smallest width on the page, in px: a 390 px phone's card; the wide one from 60rem (960 px).
SHOWN_AT = {"narrow": 318, "wide": 900}
GLYPH_WIDTH = 0.62  # of the font size, on average, for these labels' digits and letters


@time_machine.travel(dt.datetime(2026, 3, 11, 17, tzinfo=BERLIN), tick=False)
def test_both_layouts_draw_every_day_with_text_that_reads_and_fits(client, payments):  # noqa: F811
    schedule, _, _ = payments
    client.force_login(UserFactory())
    page = client.get(reverse("oncall:schedule", args=[schedule.slug])).content.decode()

    drawings = dict(re.findall(r'<svg class="oncall-week oncall-week-(\w+)".*?viewBox="0 0 (\d+) \d+"', page))
    assert set(drawings) == {"wide", "narrow"}
    for layout in (WIDE, NARROW):
        svg = page[page.index(f"oncall-week-{layout.name}") :]
        svg = svg[: svg.index("</svg>")]
        scale = SHOWN_AT[layout.name] / int(drawings[layout.name])
        for size, text in re.findall(r'text-anchor="end" font-size="(\d+)">([^<]+)<', svg):
            assert float(size) * scale >= 9.5, (layout.name, text, float(size) * scale)
            assert len(text) * float(size) * GLYPH_WIDTH <= layout.label_w - 6, (layout.name, text)
        days = re.findall(r'text-anchor="end" font-size="\d+">([^<]+)<', svg)
        assert days[:2] == (["Wed 11 Mar", "Thu 12 Mar"] if layout is WIDE else ["Wed 11", "Thu 12"])
        assert "U-D: Wed 11 Mar 18:00 – Thu 12 Mar 09:00" in svg  # every bar, with its title, in both


def test_the_stylesheet_shows_one_layout_per_width():
    css = (Path(settings.BASE_DIR) / "sredesk/static/sredesk/app.css").read_text()
    assert ".oncall-week-narrow { display: none; max-width: 28rem; }" in css
    phone = css[css.index("@media (max-width: 60rem)") :]
    phone = phone[: phone.index("\n}")]
    assert ".oncall-week-wide { display: none; }" in phone and ".oncall-week-narrow { display: block; }" in phone
