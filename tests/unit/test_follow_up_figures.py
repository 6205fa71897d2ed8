"""The yearly follow-up's figures: gathered by the system when the year starts, opening the follow-up filled in, and
changed only with a reason, the gathered figure staying on the record beside the follow-up's."""

from __future__ import annotations

import re
from typing import Any

import pytest

from devstack.sample_payloads import yearly_follow_up
from domain.events import TaskCompleted
from domain.follow_up import figures_year, follow_up_prefill, plan_kpis
from domain.payloads import FollowUpFigures, YearlyFollowUp
from domain.refusals import TaskRejected
from domain.rules import check_completion
from domain.template import ProgrammeTemplate
from programmes import LFR_SKOLA
from reports import render_pilot_report
from tests.unit.conftest import THROUGH_THE_PLAN, PilotDriver

FOLLOW_UP = "ska_follow_up@y1"
FIGURES = "follow_up_figures@y1"


def refusal(pilot: PilotDriver, answer: dict[str, Any]) -> str:
    with pytest.raises(TaskRejected) as refused:
        check_completion(LFR_SKOLA, pilot.state, FOLLOW_UP, "p-analytiker", answer)
    assert refused.value.code == "invalid_payload"
    return str(refused.value)


def gathered(pilot: PilotDriver, **change: Any) -> None:
    """Record the year's figures as the system would have gathered them, with `change` to the invented ones."""
    pilot.state.tasks.pop(FOLLOW_UP)  # opened on the driver's own figures; these replace them
    figures = FollowUpFigures.model_validate(pilot.state.tasks[FIGURES].payload).model_copy(update=change)
    pilot.state.tasks[FIGURES].payload = figures.model_dump(mode="json")
    pilot.advance()


def test_the_figures_are_gathered_when_the_year_starts_and_the_follow_up_waits_for_them(implementing):
    figures_task = implementing.state.tasks[FIGURES]
    follow_up = implementing.state.tasks[FOLLOW_UP]

    assert figures_task.completed_at is not None and follow_up.opened_at >= figures_task.completed_at
    # The plan's KPIs, for the year that ended before the implementation year started.
    figures = FollowUpFigures.model_validate(figures_task.payload)
    assert figures.kpis == plan_kpis(implementing.state, 1) == ["N15419"]
    assert (
        figures.year == figures_year(implementing.state, 1) == implementing.state.implementation_year_starts[1].year - 1
    )


def test_the_follow_up_opens_with_the_gathered_figures(implementing):
    year = implementing.state.implementation_year_starts[1].year - 1

    assert follow_up_prefill(implementing.state, FOLLOW_UP) == {"year": year, "kpi_values": {"N15419": 70.0}}
    assert follow_up_prefill(implementing.state, "measure_progress@y1/M1.1") is None  # nothing gathered for it


def test_the_gathered_figures_as_they_stand_are_accepted(implementing):
    prefill = follow_up_prefill(implementing.state, FOLLOW_UP)

    events = implementing.complete(FOLLOW_UP, yearly_follow_up(2000, prefill))

    [completed] = [e for e in events if isinstance(e, TaskCompleted) and e.task_key == FOLLOW_UP]
    assert completed.payload["kpi_values"] == {"N15419": 70.0} and completed.payload["corrections"] == {}


def test_a_changed_figure_needs_its_reason_and_then_both_stay_on_record(implementing):
    answer = yearly_follow_up(2000, follow_up_prefill(implementing.state, FOLLOW_UP))
    changed = answer | {"kpi_values": {"N15419": 72.5}}

    assert "corrections.N15419: 72.5 is not Kolada's figure" in refusal(implementing, changed)

    implementing.complete(FOLLOW_UP, changed | {"corrections": {"N15419": "egen sammanställning, ny skola saknas"}})
    assert implementing.state.tasks[FOLLOW_UP].payload["kpi_values"] == {"N15419": 72.5}
    assert implementing.state.tasks[FIGURES].payload["observations"][0]["value"] == 70.0


def test_a_figure_written_back_from_a_form_is_the_same_figure(implementing):
    answer = yearly_follow_up(2000, follow_up_prefill(implementing.state, FOLLOW_UP))

    implementing.complete(FOLLOW_UP, answer | {"kpi_values": {"N15419": float("70.0")}})


def test_a_gathered_figure_cannot_be_left_out(implementing):
    answer = yearly_follow_up(2000, follow_up_prefill(implementing.state, FOLLOW_UP))
    other = answer | {"kpi_values": {"N15428": 80.0}}

    assert "kpi_values.N15419: Kolada published 70" in refusal(implementing, other)


def test_a_reason_is_only_for_a_figure_that_differs(implementing):
    answer = yearly_follow_up(2000, follow_up_prefill(implementing.state, FOLLOW_UP))

    message = refusal(implementing, answer | {"corrections": {"N15419": "kontrollerad"}})
    assert "corrections.N15419: 70 is Kolada's own figure" in message


def test_a_reason_goes_with_a_value_given():
    answer = yearly_follow_up(2025) | {"corrections": {"N15428": "egen uppgift"}}

    with pytest.raises(ValueError, match=r"corrections: \['N15428'\] have no value in kpi_values"):
        YearlyFollowUp.model_validate(answer)


def test_the_follow_up_is_of_the_year_the_figures_are_for(implementing):
    answer = yearly_follow_up(2000, follow_up_prefill(implementing.state, FOLLOW_UP))
    year = answer["year"]

    message = refusal(implementing, answer | {"year": year + 1})
    assert f"year: the figures gathered from Kolada are for {year}" in message


def test_no_value_published_opens_an_empty_follow_up_and_a_figure_from_elsewhere_needs_its_source(implementing):
    gathered(implementing, observations=[], not_published=["N15419"])

    prefill = follow_up_prefill(implementing.state, FOLLOW_UP)
    assert prefill is not None and prefill["kpi_values"] == {}
    own = {"year": prefill["year"], "kpi_values": {"N15419": 71.0}, "progress": "arbetet pågår"}
    assert "corrections.N15419: 71 is not Kolada's figure" in refusal(implementing, own)
    assert "(no value)" in refusal(implementing, own)

    implementing.complete(FOLLOW_UP, yearly_follow_up(2000, prefill))  # the sample gives its own figure and source
    assert implementing.state.tasks[FOLLOW_UP].payload["corrections"].keys() == {"N15419"}


def test_a_follow_up_with_nothing_gathered_is_typed_as_before():
    """A pilot started on the template as it was before the figures task types its figures freely, as it did."""
    shape = LFR_SKOLA.model_dump()
    shape["tasks"] = [
        t | {"depends_on": ()} if t["key"] == "ska_follow_up" else t
        for t in shape["tasks"]
        if t["key"] != "follow_up_figures"
    ]
    pilot = PilotDriver(ProgrammeTemplate.model_validate(shape))
    pilot.start()
    pilot.advance()
    pilot.complete_all(*THROUGH_THE_PLAN)

    assert follow_up_prefill(pilot.state, FOLLOW_UP) is None
    pilot.complete(FOLLOW_UP, yearly_follow_up(2031) | {"kpi_values": {"N15419": 74.0, "N15428": 81.0}})
    assert pilot.state.tasks[FOLLOW_UP].payload["year"] == 2031


def test_the_report_sets_each_follow_up_under_the_year_of_its_figures_and_says_which_were_corrected(implementing):
    year = implementing.state.implementation_year_starts[1].year - 1
    answer = yearly_follow_up(2000, follow_up_prefill(implementing.state, FOLLOW_UP))
    implementing.complete(FOLLOW_UP, answer | {"kpi_values": {"N15419": 72.5}, "corrections": {"N15419": "ny skola"}})

    html = render_pilot_report(implementing.state, generated_at=implementing.now)

    row = re.search(rf'<tr><th scope="row">{year}</th>(.*?)</tr>', html)
    assert row is not None, html
    assert "72,5" in row[1] and "årlig uppföljning, rättad från Koladas värde" in row[1]


def test_a_kommunalforbund_follows_up_its_own_figures_beside_its_members(implementing):
    """Kolada has each member of Sölvesborg and Bromölla's förbund on its own, and no figure of the förbund to
    correct: its follow-up opens with the year alone and gives its own figures as it always did."""
    implementing.state.kommunkod = "1083+1272"

    prefill = follow_up_prefill(implementing.state, FOLLOW_UP)
    assert prefill is not None and prefill["kpi_values"] == {}
    own = {"year": prefill["year"], "kpi_values": {"N15419": 77.0}, "progress": "arbetet pågår"}
    check_completion(LFR_SKOLA, implementing.state, FOLLOW_UP, "p-analytiker", own)
