"""The visibility query `leda list` and `GET /api/v1/pilots` send, and print as the same query for the stock CLI.

A completed or withdrawn pilot's workflow is closed, so asking for pilots that have ended must not be limited to
running executions; asking for running, paused or failing pilots must be (a terminated pilot keeps its last state).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pilots import PilotError, pilot_query

PILOTS = "WorkflowType = 'MunicipalityWorkflow'"
RUNNING = "ExecutionStatus = 'Running'"
NOT_SUPERSEDED = "ExecutionStatus != 'ContinuedAsNew'"


def test_without_filters_only_running_pilots_are_listed() -> None:
    assert pilot_query() == f"{PILOTS} AND {RUNNING}"


@pytest.mark.parametrize("state", ["completed", "withdrawn"])
def test_a_state_of_an_ended_pilot_lists_closed_executions_without_all(state: str) -> None:
    expected = f"{PILOTS} AND {NOT_SUPERSEDED} AND LedaState = '{state}'"
    assert pilot_query(state=state) == expected
    assert pilot_query(state=state, include_closed=True) == expected  # --all asks for nothing more


def test_phase_klar_lists_closed_executions_without_all() -> None:
    assert pilot_query(phase="klar") == f"{PILOTS} AND {NOT_SUPERSEDED} AND LedaPhase = 'klar'"
    assert pilot_query(phase="klar", state="completed") == (
        f"{PILOTS} AND {NOT_SUPERSEDED} AND LedaPhase = 'klar' AND LedaState = 'completed'"
    )


@pytest.mark.parametrize("state", ["running", "paused", "failing"])
def test_a_state_of_a_running_pilot_lists_running_executions_only(state: str) -> None:
    # Running, and not terminated: a terminated pilot keeps the LedaState it had when it was terminated.
    assert pilot_query(state=state) == f"{PILOTS} AND {RUNNING} AND LedaState = '{state}'"
    assert pilot_query(state=state, phase="klar") == (
        f"{PILOTS} AND {RUNNING} AND LedaPhase = 'klar' AND LedaState = '{state}'"
    )
    assert pilot_query(state=state, include_closed=True) == f"{PILOTS} AND {NOT_SUPERSEDED} AND LedaState = '{state}'"


@pytest.mark.parametrize("phase", ["start", "djupanalys", "skolutvecklingsplan", "genomforande"])
def test_a_phase_of_a_pilot_under_way_lists_running_executions_only(phase: str) -> None:
    # A withdrawn or terminated pilot stays in the phase it left in; --all lists it there.
    assert pilot_query(phase=phase) == f"{PILOTS} AND {RUNNING} AND LedaPhase = '{phase}'"
    assert pilot_query(phase=phase, include_closed=True) == f"{PILOTS} AND {NOT_SUPERSEDED} AND LedaPhase = '{phase}'"


def test_programme_and_kommunkod_alone_list_running_pilots_and_with_all_closed_ones_too() -> None:
    assert pilot_query(programme="lfr-skola", kommunkod="1861") == (
        f"{PILOTS} AND {RUNNING} AND LedaProgramme = 'lfr-skola' AND LedaMunicipality = '1861'"
    )
    # All of a pilot's runs but the one it ends in continued as new: --all shows each pilot once, not once a year.
    assert pilot_query(programme="lfr-skola", include_closed=True) == (
        f"{PILOTS} AND {NOT_SUPERSEDED} AND LedaProgramme = 'lfr-skola'"
    )


def test_overdue_asks_for_an_open_deadline_before_now() -> None:
    now = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)
    assert pilot_query(overdue=True, now=now) == f"{PILOTS} AND {RUNNING} AND LedaNextDueAt < '2026-09-01T08:30:00Z'"
    # An ended pilot has no open task, so no deadline: it is never overdue (the query says so; it lists none).
    assert pilot_query(overdue=True, state="completed", now=now) == (
        f"{PILOTS} AND {NOT_SUPERSEDED} AND LedaState = 'completed' AND LedaNextDueAt < '2026-09-01T08:30:00Z'"
    )


def test_a_quote_in_a_filter_is_refused_naming_the_attribute() -> None:
    with pytest.raises(PilotError) as refused:
        pilot_query(programme="x' OR '1'='1")
    assert refused.value.code == "invalid_input" and str(refused.value).startswith("LedaProgramme: ")
