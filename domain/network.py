"""Network meetings of a cohort: the pilots of a programme round meet and learn from each other.

The programme's pilots are meant to learn from one another (SKL's programmes build on cooperation between
municipalities as much as between levels of leadership). A lead schedules a meeting for the pilots of a programme
they lead; in each pilot it is a `NetworkMeetingScheduled` event and a task for the pilot's contact (its head of
administration) to prepare the pilot's contribution: strengths, weaknesses and plan goals so far. After the meeting
the lead records, pilot by pilot, whether it attended and who of its people took part (`NetworkMeetingAttendance`);
a pilot that attended is asked for its reflection, one that did not is asked for none.

A meeting lives in each pilot's own record, not in a record of the cohort: every pilot's stream stays the whole
story of that pilot, and a cohort's meetings are what its pilots' records say (the edge sends the same meeting to
each of them, `pilots.schedule_meeting`). Times are real: a meeting is held on the calendar, and on a demo's
shortened clock the tasks around it fall due as much sooner as every other deadline does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from domain.events import Event, NetworkMeetingAttendance, NetworkMeetingScheduled, TaskClosed, TaskOpened
from domain.phases import Phase
from domain.refusals import TaskRejected, check_not_ended, check_not_held, check_recordable
from domain.roles import Role
from domain.state import MunicipalityState, NetworkMeeting, TaskStatus
from domain.template import NETWORK_CONTACT_ROLE, NETWORK_CONTRIBUTION, NETWORK_REFLECTION, ProgrammeTemplate

MEETING_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,60}$"
CONTRIBUTION_LEAD_TIME = timedelta(days=3)
"""The contribution is due this long before the meeting, so the lead can send the pilots' contributions round."""
REFLECTION_DAYS = 14
"""Days (of the programme's clock) the pilot has for its reflection once its attendance is recorded."""
FURTHEST_AHEAD = timedelta(days=730)

IdSource = Callable[[], UUID]


class ScheduleMeeting(BaseModel):
    meeting_id: str = Field(pattern=MEETING_ID_PATTERN, description="the same in every pilot of the meeting")
    title: str = Field(min_length=3, max_length=200, description="e.g. 'Nätverksträff 2: styrkor och svagheter'")
    held_at: AwareDatetime = Field(description="when the meeting begins, with a time zone")
    place: str | None = Field(default=None, min_length=1, max_length=200)
    actor_id: str = Field(min_length=1)


class RecordAttendance(BaseModel):
    meeting_id: str = Field(pattern=MEETING_ID_PATTERN)
    attended: bool
    attendee_ids: list[str] = Field(default_factory=list, max_length=50, description="participant ids")
    actor_id: str = Field(min_length=1)

    @model_validator(mode="after")
    def _attendees_of_an_attended_meeting(self) -> RecordAttendance:
        if self.attended and not self.attendee_ids:
            raise ValueError("attendee_ids: name who of the pilot took part (participant ids)")
        if not self.attended and self.attendee_ids:
            raise ValueError("attendee_ids: the pilot did not attend; name no one")
        if len(set(self.attendee_ids)) != len(self.attendee_ids):
            raise ValueError("attendee_ids: name each participant once")
        return self


def meeting_id_for(programme: str, held_at: datetime, title: str) -> str:
    """A meeting's id when the lead gives none: the same for the same meeting, so sending it again (to a pilot it
    did not reach the first time) schedules it once."""
    digest = hashlib.sha256(f"{programme}\n{held_at.isoformat()}\n{title.strip()}".encode()).hexdigest()[:6]
    return f"{held_at:%Y-%m-%d}-{digest}"


def check_held_at(held_at: datetime, *, now: datetime) -> None:
    """A meeting is scheduled ahead, and not years ahead; else TaskRejected naming `held_at`."""
    if held_at <= now:
        passed = f"{held_at:%Y-%m-%d %H:%M}"
        raise TaskRejected("invalid_input", f"held_at: {passed} has passed; a network meeting is scheduled ahead")
    if held_at - now > FURTHEST_AHEAD:
        raise TaskRejected("invalid_input", "held_at: more than two years ahead; schedule it nearer the day")


def check_schedule(state: MunicipalityState, request: ScheduleMeeting, *, now: datetime) -> bool:
    """True if this very meeting is scheduled already (nothing to do), False if it is to be scheduled; else
    TaskRejected naming the field."""
    check_not_ended(state)
    check_not_held(state)
    _check_lead(state, request.actor_id)
    check_recordable({"title": request.title, "place": request.place})
    known = state.meetings.get(request.meeting_id)
    if known is not None:
        if (known.title, known.held_at, known.place) == (request.title, request.held_at, request.place):
            return True
        raise TaskRejected(
            "already_scheduled",
            f"meeting_id: {request.meeting_id} is scheduled already, as {known.title!r} on "
            f"{known.held_at:%Y-%m-%d %H:%M}; a changed meeting is a new one",
        )
    check_held_at(request.held_at, now=now)
    if not state.participants.get(NETWORK_CONTACT_ROLE):
        raise TaskRejected(
            "missing_participants",
            f"participants: the pilot has no {NETWORK_CONTACT_ROLE.value} to prepare its contribution",
        )
    return False


def schedule_events(
    template: ProgrammeTemplate, state: MunicipalityState, request: ScheduleMeeting, *, now: datetime, new_id: IdSource
) -> list[Event]:
    """The meeting on the pilot's record, and its contact's task to prepare the contribution."""
    due = request.held_at - CONTRIBUTION_LEAD_TIME
    if due <= now:  # a meeting only days ahead: the contribution is due when it begins
        due = request.held_at
    return [
        NetworkMeetingScheduled(
            event_id=new_id(),
            occurred_at=now,
            meeting_id=request.meeting_id,
            title=request.title,
            held_at=request.held_at,
            place=request.place,
            by=request.actor_id,
        ),
        _network_task_opened(
            NETWORK_CONTRIBUTION,
            state,
            request.meeting_id,
            subject=request.title,
            due_at=template.on_programme_clock(due, reckoned_from=now),
            now=now,
            new_id=new_id,
        ),
    ]


def _network_task_opened(
    template_key: str,
    state: MunicipalityState,
    meeting_id: str,
    *,
    subject: str,
    due_at: datetime,
    now: datetime,
    new_id: IdSource,
) -> TaskOpened:
    """A network meeting's task (`template_key` at `meeting_id`), for the pilot's network contact."""
    return TaskOpened(
        event_id=new_id(),
        occurred_at=now,
        task_key=f"{template_key}@{meeting_id}",
        template_key=template_key,
        phase=Phase.NETWORK,
        assignee_id=state.primary(NETWORK_CONTACT_ROLE),
        due_at=due_at,
        subject=subject,
        owner_role=NETWORK_CONTACT_ROLE,
    )


def held_by(template: ProgrammeTemplate, meeting: NetworkMeeting) -> datetime:
    """When the meeting has been held on the programme's clock (a demo's is shortened, as every deadline is)."""
    return template.on_programme_clock(meeting.held_at, reckoned_from=meeting.scheduled_at)


def check_attendance(
    template: ProgrammeTemplate, state: MunicipalityState, request: RecordAttendance, *, now: datetime
) -> bool:
    """True if this very attendance is on record already (nothing to do), False if it is to be recorded; else
    TaskRejected naming the field."""
    check_not_ended(state)
    check_not_held(state)
    _check_lead(state, request.actor_id)
    meeting = state.meetings.get(request.meeting_id)
    if meeting is None:
        raise TaskRejected(
            "unknown_meeting", f"meeting_id: no network meeting {request.meeting_id!r} is scheduled in this pilot"
        )
    if meeting.attended is not None:
        if (meeting.attended, meeting.attendee_ids) == (request.attended, request.attendee_ids):
            return True
        raise TaskRejected(
            "already_recorded", f"meeting_id: the attendance of {request.meeting_id} is on record already"
        )
    if now < held_by(template, meeting):
        raise TaskRejected(
            "meeting_not_held",
            f"meeting_id: {request.meeting_id} is held on {meeting.held_at:%Y-%m-%d %H:%M}; record who attended after",
        )
    roster = {pid for holders in state.participants.values() for pid in holders}
    strangers = [pid for pid in request.attendee_ids if pid not in roster]
    if strangers:
        raise TaskRejected(
            "invalid_input", f"attendee_ids: {', '.join(strangers)} not on this pilot's roster; name its people by id"
        )
    return False


def attendance_events(
    template: ProgrammeTemplate, state: MunicipalityState, request: RecordAttendance, *, now: datetime, new_id: IdSource
) -> list[Event]:
    """The attendance on record; the contribution, if still open, is no longer needed; a pilot that attended is
    asked for its reflection."""
    events: list[Event] = [
        NetworkMeetingAttendance(
            event_id=new_id(),
            occurred_at=now,
            meeting_id=request.meeting_id,
            attended=request.attended,
            attendee_ids=list(request.attendee_ids),
            by=request.actor_id,
        )
    ]
    contribution = state.tasks.get(f"{NETWORK_CONTRIBUTION}@{request.meeting_id}")
    if contribution is not None and contribution.status is TaskStatus.OPEN:
        events.append(
            TaskClosed(
                event_id=new_id(),
                occurred_at=now,
                task_key=contribution.key,
                reason="nätverksträffen har hållits / the network meeting has been held",
            )
        )
    if request.attended:
        events.append(
            _network_task_opened(
                NETWORK_REFLECTION,
                state,
                request.meeting_id,
                subject=state.meetings[request.meeting_id].title,
                due_at=now + template.day_length * REFLECTION_DAYS,
                now=now,
                new_id=new_id,
            )
        )
    return events


def _check_lead(state: MunicipalityState, actor_id: str) -> None:
    if actor_id not in state.participants.get(Role.PROGRAMLEDARE, []):
        raise TaskRejected("not_allowed", "only the pilot's programme lead schedules its network meetings")
