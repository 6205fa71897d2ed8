"""Network meetings of a cohort, in one pilot: scheduled by its lead with a task to prepare the contribution, the
attendance recorded after, a reflection asked only of a pilot that attended; bad input refused naming the field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.events import NetworkMeetingAttendance, NetworkMeetingScheduled, PilotCompleted, TaskClosed, TaskOpened
from domain.network import (
    CONTRIBUTION_LEAD_TIME,
    RecordAttendance,
    ScheduleMeeting,
    attendance_events,
    check_attendance,
    check_schedule,
    meeting_id_for,
    schedule_events,
)
from domain.phases import Phase
from domain.refusals import TaskRejected
from domain.rules import check_completion
from domain.state import TaskStatus
from programmes import DEMO
from tests.unit.conftest import PilotDriver

LEAD = "p-programledare"
CHEF = "p-forvaltningschef"
MEETING = "2024-10-15-natverk"


def schedule(pilot: PilotDriver, *, days_ahead: float = 30, meeting_id: str = MEETING, **fields: object) -> list:
    request = ScheduleMeeting(
        **{
            "meeting_id": meeting_id,
            "title": "Nätverksträff 1: styrkor och svagheter",
            "held_at": pilot.now + timedelta(days=days_ahead),
            "place": "SKR, Hornsgatan 20",
            "actor_id": LEAD,
        }
        | fields
    )
    if check_schedule(pilot.state, request, now=pilot.now):
        return []
    return pilot.record(schedule_events(pilot.template, pilot.state, request, now=pilot.now, new_id=pilot.new_id))


def attend(pilot: PilotDriver, attended: bool = True, attendees: tuple[str, ...] = (CHEF,), **fields: object) -> list:
    request = RecordAttendance(
        **{"meeting_id": MEETING, "attended": attended, "attendee_ids": list(attendees), "actor_id": LEAD} | fields
    )
    if check_attendance(pilot.template, pilot.state, request, now=pilot.now):
        return []
    return pilot.record(attendance_events(pilot.template, pilot.state, request, now=pilot.now, new_id=pilot.new_id))


def test_a_scheduled_meeting_asks_the_pilots_contact_for_its_contribution_three_days_before(pilot) -> None:
    scheduled, opened = schedule(pilot)

    assert isinstance(scheduled, NetworkMeetingScheduled) and scheduled.by == LEAD
    assert isinstance(opened, TaskOpened)
    assert (opened.task_key, opened.assignee_id, opened.phase) == (
        f"network_contribution@{MEETING}",
        CHEF,
        Phase.NETWORK,
    )
    assert opened.due_at == scheduled.held_at - CONTRIBUTION_LEAD_TIME
    assert pilot.state.meetings[MEETING].attended is None
    assert "Nätverksträff 1" in (opened.subject or "")


def test_the_contribution_is_answered_like_any_task_and_holds_up_no_phase(pilot) -> None:
    schedule(pilot)
    phase_before = pilot.state.current_main_phase
    key = f"network_contribution@{MEETING}"

    pilot.complete(key)

    assert pilot.state.is_completed(key)
    assert pilot.state.current_main_phase == phase_before
    assert Phase.NETWORK not in pilot.state.active_phases


def test_scheduling_the_same_meeting_again_records_nothing_and_a_changed_one_under_its_id_is_refused(pilot) -> None:
    schedule(pilot)
    assert schedule(pilot) == []
    with pytest.raises(TaskRejected) as refused:
        schedule(pilot, title="Nätverksträff 1, flyttad")
    assert refused.value.code == "already_scheduled" and refused.value.message.startswith("meeting_id:")


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"days_ahead": -1}, "invalid_input", "held_at"),  # a meeting in the past
        ({"days_ahead": 800}, "invalid_input", "held_at"),
        ({"actor_id": "p-rektor"}, "not_allowed", None),  # only the pilot's lead
    ],
)
def test_a_meeting_that_cannot_be_scheduled_is_refused_naming_the_field_and_records_nothing(
    pilot, fields: dict, code: str, field: str | None
) -> None:
    version = pilot.state.version
    with pytest.raises(TaskRejected) as refused:
        schedule(pilot, **fields)
    assert refused.value.code == code
    if field:
        assert refused.value.message.startswith(f"{field}:")
    assert pilot.state.version == version


def test_after_the_meeting_an_attending_pilot_is_asked_for_its_reflection_and_the_open_contribution_closes(
    pilot,
) -> None:
    schedule(pilot)
    pilot.now += timedelta(days=31)

    recorded, closed, opened = attend(pilot, attendees=(CHEF, "p-rektor"))

    assert isinstance(recorded, NetworkMeetingAttendance) and recorded.attendee_ids == [CHEF, "p-rektor"]
    assert isinstance(closed, TaskClosed) and closed.task_key == f"network_contribution@{MEETING}"
    assert isinstance(opened, TaskOpened) and opened.task_key == f"network_reflection@{MEETING}"
    assert opened.assignee_id == CHEF and opened.due_at == pilot.now + timedelta(days=14)
    pilot.complete(opened.task_key)
    assert pilot.state.is_completed(opened.task_key)
    assert attend(pilot, attendees=(CHEF, "p-rektor")) == []  # the same attendance again: nothing new


def test_a_reflection_for_a_meeting_the_pilot_did_not_attend_is_refused_naming_the_field(pilot) -> None:
    schedule(pilot)
    pilot.now += timedelta(days=31)
    recorded, _closed = attend(pilot, attended=False, attendees=())
    assert recorded.attended is False
    key = f"network_reflection@{MEETING}"
    assert key not in pilot.state.tasks

    with pytest.raises(TaskRejected) as refused:
        check_completion(pilot.template, pilot.state, key, CHEF, {"learned": "x", "will_try": "y"})

    assert refused.value.code == "not_attended" and refused.value.message.startswith("task_key:")


@pytest.mark.parametrize(
    ("days_later", "fields", "code", "field"),
    [
        (10, {}, "meeting_not_held", "meeting_id"),  # before the meeting
        (31, {"meeting_id": "no-such-meeting"}, "unknown_meeting", "meeting_id"),
        (31, {"attendees": ("p-someone-else",)}, "invalid_input", "attendee_ids"),
    ],
)
def test_an_attendance_that_cannot_be_recorded_is_refused_naming_the_field(
    pilot, days_later: int, fields: dict, code: str, field: str
) -> None:
    schedule(pilot)
    pilot.now += timedelta(days=days_later)
    version = pilot.state.version
    with pytest.raises(TaskRejected) as refused:
        attend(pilot, **fields)
    assert (refused.value.code, refused.value.message.split(":")[0]) == (code, field)
    assert pilot.state.version == version


def test_attendees_and_attendance_must_agree() -> None:
    with pytest.raises(ValidationError, match="attendee_ids: name who"):
        RecordAttendance(meeting_id=MEETING, attended=True, attendee_ids=[], actor_id=LEAD)
    with pytest.raises(ValidationError, match="attendee_ids: the pilot did not attend"):
        RecordAttendance(meeting_id=MEETING, attended=False, attendee_ids=[CHEF], actor_id=LEAD)


def test_when_the_programme_ends_what_is_open_of_its_meetings_closes_with_it() -> None:
    demo = PilotDriver(DEMO)
    demo.start()
    demo.advance()
    schedule(demo, days_ahead=3650 / 10)  # a year ahead on the calendar; the demo's programme ends long before
    demo.walk(step=timedelta(seconds=1), leave=("network_contribution",))  # the contribution is never prepared

    completed = [e for e in demo.events if isinstance(e, PilotCompleted)]
    assert completed, "the demo pilot did not complete"
    contribution = demo.state.tasks[f"network_contribution@{MEETING}"]
    assert contribution.status is TaskStatus.CLOSED and "programme is over" in (contribution.closed_reason or "")


def test_a_meeting_id_is_the_same_for_the_same_meeting(pilot) -> None:
    held = pilot.now + timedelta(days=30)
    assert meeting_id_for("lfr-skola-2015", held, "Träff 1") == meeting_id_for("lfr-skola-2015", held, " Träff 1 ")
    assert meeting_id_for("lfr-skola-2015", held, "Träff 1") != meeting_id_for("lfr-skola-2015", held, "Träff 2")
