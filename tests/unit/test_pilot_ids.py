"""A pilot's id names its programme and its municipality, and only `PilotId` writes and reads it."""

from __future__ import annotations

import pytest

from domain.pilot_ids import PilotId


@pytest.mark.parametrize(
    ("programme", "code"),
    [("lfr-skola", "1861"), ("orebro-2014", "1864"), ("skl-2015", "1083+1272"), ("demo-20261207-011307", "0114")],
)
def test_an_id_made_by_pilot_id_reads_back_as_its_programme_and_code(programme, code):
    assert PilotId.parse(str(PilotId(programme, code))) == PilotId(programme, code)
    assert str(PilotId(programme, code)).startswith(PilotId.prefix_of(programme))


@pytest.mark.parametrize(
    "workflow_id",
    [
        "leda-daily-digest-histories",
        "leda-lfr-skola-186",
        "leda-lfr-skola-1861+1861",
        "leda--1861",
        "other-lfr-skola-1861",
        "leda-Stora Bokstäver-1861",
        "leda-1861",
        "",
    ],
)
def test_an_id_that_names_no_pilot_reads_as_none(workflow_id):
    assert PilotId.parse(workflow_id) is None
