"""Changing a running pilot's roster: who holds a role from now on, and where their open tasks go."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.events import RosterChanged, TaskReassigned
from domain.refusals import TaskRejected
from domain.roles import Role
from domain.roster import ChangeRoster, check_roster_change, roster_events
from domain.steering import SteerTask, steering_events

LEAD = "p-programledare"
CHEF = "p-forvaltningschef"
NEW_CHEF = "p-forvaltningschef-ny"


def change(pilot, **fields):
    request = ChangeRoster(
        **{"role": Role.FORVALTNINGSCHEF, "reason": "ny chef från 1 januari", "actor_id": LEAD} | fields
    )
    return pilot.record(roster_events(pilot.state, request, now=pilot.now, new_id=pilot.new_id))


def test_a_newcomer_takes_the_leavers_place_and_open_tasks(pilot):
    own = sorted(t.key for t in pilot.state.open_tasks() if t.assignee_id == CHEF)
    assert own, "the pilot has no open task of the head of administration to move"

    roster, *moves = change(pilot, joining=NEW_CHEF, leaving=CHEF)

    assert isinstance(roster, RosterChanged) and (roster.joining, roster.leaving, roster.by) == (NEW_CHEF, CHEF, LEAD)
    assert [(m.task_key, m.from_participant, m.to_participant, m.kind) for m in moves] == [
        (key, CHEF, NEW_CHEF, "reassign") for key in own
    ]
    assert all(isinstance(m, TaskReassigned) and m.reason == roster.reason for m in moves)
    assert pilot.state.participants[Role.FORVALTNINGSCHEF] == [NEW_CHEF]
    assert pilot.state.primary(Role.FORVALTNINGSCHEF) == NEW_CHEF  # so tasks that open from now on go to them
    assert all(pilot.state.tasks[key].assignee_id == NEW_CHEF for key in own)


def test_in_a_replacement_delegated_tasks_follow_whom_they_are_held_for(pilot):
    analyst = pilot.state.participants[Role.ANALYTIKER][0]
    delegate = SteerTask(
        task_key="self_assessment@F", actor_id=CHEF, action="delegate", reason="semester", to_participant=analyst
    )
    pilot.record(steering_events(pilot.state, delegate, now=pilot.now, new_id=pilot.new_id))

    moves = change(pilot, joining=NEW_CHEF, leaving=CHEF)[1:]

    [held] = [m for m in moves if m.task_key == "self_assessment@F"]
    assert (held.from_participant, held.to_participant, held.kind) == (NEW_CHEF, analyst, "delegate")
    task = pilot.state.tasks["self_assessment@F"]
    assert (task.assignee_id, task.delegated_from) == (analyst, NEW_CHEF)  # the analyst now acts for the newcomer


def test_a_newcomer_can_join_beside_the_holders_and_the_first_keeps_getting_the_tasks(pilot):
    [roster] = change(pilot, role=Role.REKTOR, joining="p-rektor-2", reason="ny skola i kommunen")

    assert roster.leaving is None
    assert pilot.state.participants[Role.REKTOR] == ["p-rektor", "p-rektor-2"]
    assert pilot.state.primary(Role.REKTOR) == "p-rektor"


def test_someone_without_open_tasks_can_leave_and_the_role_may_end_empty(pilot):
    pilot.complete("self_assessment@S/p-ekonomi")
    [roster] = change(pilot, role=Role.EKONOMI, leaving="p-ekonomi", reason="tjänsten dras in")

    assert roster.joining is None
    assert Role.EKONOMI not in pilot.state.participants
    assert pilot.state.primary(Role.EKONOMI) == LEAD  # a task of a role with no one goes to the programme lead


@pytest.mark.parametrize(
    ("fields", "code", "says"),
    [
        ({"leaving": CHEF}, "invalid_payload", "holds open tasks"),
        ({"joining": CHEF}, "invalid_payload", "already holds"),
        ({"leaving": "p-rektor"}, "invalid_payload", "does not hold"),
        ({"role": Role.PROGRAMLEDARE, "leaving": LEAD}, "invalid_payload", "keeps a programme lead"),
        ({"joining": NEW_CHEF, "leaving": CHEF, "actor_id": CHEF}, "not_allowed", "programme lead"),
        ({"joining": NEW_CHEF, "leaving": CHEF, "reason": " "}, "reason_required", "reason"),
        ({"joining": NEW_CHEF, "leaving": CHEF, "reason": "ny\x00chef"}, "invalid_payload", "reason"),
    ],
)
def test_a_change_that_cannot_be_made_is_refused_naming_why_and_changes_nothing(pilot, fields, code, says):
    before = pilot.state.model_dump()
    request = ChangeRoster(**{"role": Role.FORVALTNINGSCHEF, "reason": "skäl", "actor_id": LEAD} | fields)

    with pytest.raises(TaskRejected) as refused:
        check_roster_change(pilot.state, request)

    assert refused.value.code == code and says in refused.value.message
    assert pilot.state.model_dump() == before


@pytest.mark.parametrize(
    "fields",
    [{}, {"joining": CHEF, "leaving": CHEF}, {"joining": ""}],
    ids=["no one moves", "the same person", "a blank id"],
)
def test_a_request_that_names_no_move_is_not_a_roster_change(fields):
    with pytest.raises(ValidationError):
        ChangeRoster(role=Role.REKTOR, reason="skäl", actor_id=LEAD, **fields)
