"""Whom an overdue task escalates to: the programme lead, and the holder's line manager (never a politician)."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.events import EscalationRecipient, PilotStarted, RosterChanged, TaskEscalated, TaskOpened
from domain.phases import Phase
from domain.roles import Role
from domain.state import MunicipalityState, fold
from tests.unit.conftest import CountingIds

AT = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
ROSTER = {
    Role.PROGRAMLEDARE: ["p-lead"],
    Role.POLITIKER: ["p-ordforande"],
    Role.KOMMUNDIREKTOR: ["p-kd"],
    Role.FORVALTNINGSCHEF: ["p-chef"],
    Role.REKTOR: ["p-rektor-1", "p-rektor-2"],
    Role.HR: ["p-hr"],
}


def started(managers: dict[str, str] | None = None, roster: dict[Role, list[str]] | None = None) -> MunicipalityState:
    new_id = CountingIds()
    return fold(
        [
            PilotStarted(
                event_id=new_id(),
                occurred_at=AT,
                programme="p",
                kommunkod="1861",
                municipality_name="Hallsberg",
                template_key="lfr-skola",
                deciding_organ="Bildningsnämnden",
                participants=roster or ROSTER,
                managers=managers or {},
            )
        ]
    )


def test_a_head_of_administration_escalates_to_the_kommundirektor_not_to_a_politician():
    assert started().escalation_recipients("p-chef") == ["p-lead", "p-kd"]


def test_without_a_kommundirektor_a_head_of_administrations_task_reaches_the_lead_alone():
    roster = {role: ids for role, ids in ROSTER.items() if role is not Role.KOMMUNDIREKTOR}

    assert started(roster=roster).escalation_recipients("p-chef") == ["p-lead"]


def test_a_rektor_escalates_to_the_head_of_administration():
    assert started().escalation_recipients("p-rektor-2") == ["p-lead", "p-chef"]


def test_the_line_manager_the_directory_names_comes_before_the_role_s():
    state = started(managers={"p-rektor-2": "p-rektor-1"})  # a rektor who reports to the area's head rektor

    assert state.escalation_recipients("p-rektor-2") == ["p-lead", "p-rektor-1"]


def test_runs_on_the_first_edition_of_the_rules_escalated_a_head_of_administration_to_the_nämnd_chair():
    state = started(managers={"p-chef": "p-kd"})

    assert state.escalation_recipients("p-chef", by_line_manager=False) == ["p-lead", "p-ordforande"]


def test_a_newcomers_line_manager_comes_with_the_roster_change():
    state = started()
    new_id = CountingIds()
    change = RosterChanged(
        event_id=new_id(),
        occurred_at=AT,
        role=Role.REKTOR,
        joining="p-rektor-3",
        leaving=None,
        reason="ny skolenhet",
        by="p-lead",
        joining_manager="p-rektor-1",
    )

    assert fold([change], state).escalation_recipients("p-rektor-3") == ["p-lead", "p-rektor-1"]


def test_whom_a_task_was_escalated_to_is_kept_with_it():
    state = started()
    new_id = CountingIds()
    opened = TaskOpened(
        event_id=new_id(),
        occurred_at=AT,
        task_key="document_collection",
        template_key="document_collection",
        phase=Phase.DEEP_ANALYSIS,
        assignee_id="p-chef",
        due_at=AT,
    )
    escalated = TaskEscalated(
        event_id=new_id(),
        occurred_at=AT,
        task_key="document_collection",
        overdue_since=AT,
        recipients=[
            EscalationRecipient(participant_id="p-lead", escalated_as="lead"),
            EscalationRecipient(participant_id="p-kd", escalated_as="manager"),
        ],
    )

    task = fold([opened, escalated], state).tasks["document_collection"]

    assert task.escalated and task.escalated_to == ["p-lead", "p-kd"]
