"""The reports' charts are for everyone: each an image with a name and a description, the same numbers in a table
beside it, and colours that stand out against the white page as WCAG measures contrast."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from programmes import LFR_SKOLA
from reports.charts import AXIS, PALETTE, TEXT
from reports.pilot_report import FLAG_MARKERS, UNIT_MARKERS, render_pilot_report


def luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of an sRGB colour like #0b5cad."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str = "#ffffff") -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_is_measured_as_wcag_does() -> None:
    assert contrast("#000000") == pytest.approx(21.0)
    assert contrast("#767676") == pytest.approx(4.54, abs=0.01)  # the well-known lightest grey for text on white


@pytest.mark.parametrize(
    "colour",
    [*(s.colour for s in PALETTE), TEXT, AXIS, *(k.colour for k in (*FLAG_MARKERS, *UNIT_MARKERS))],
)
def test_every_colour_a_chart_draws_with_has_at_least_4_5_to_1_against_white(colour: str) -> None:
    # 3:1 is what WCAG 1.4.11 asks of graphics; the charts keep the 4.5:1 of text, since their labels take the colours.
    assert contrast(colour) >= 4.5


def test_every_chart_of_a_whole_report_is_a_named_described_image_with_its_numbers_in_a_table(walked_pilot) -> None:
    pilot = walked_pilot(LFR_SKOLA, timedelta(days=1))
    html = render_pilot_report(pilot.state, generated_at=pilot.now)
    charts = re.findall(r"<svg [^>]*>.*?</svg>", html, flags=re.DOTALL)

    assert len(charts) >= 3
    for chart in charts:
        assert 'role="img"' in chart and "aria-labelledby=" in chart, chart[:200]
        assert re.search(r"<title id=[^>]*>[^<]+</title>", chart) and re.search(r"<desc id=[^>]*>[^<]+</desc>", chart)
    for figure in re.finditer(r"</figure>", html):
        after = html[figure.end() : figure.end() + 6000]
        assert "<table" in after, "a chart with no table of its numbers after it"
