"""The routes of those who lead and run pilots: starting them (one or a cohort), listing them, their status and
history, steering tasks, the roster, control, inspection decisions, appeals, network meetings and the cohort
report. The access policy says who may take each step: a programme lead for the pilots they lead, operations
for every pilot; an assignee steers their own task (delegate, stand in, return)."""

# No `from __future__ import annotations`: FastAPI reads the route signatures, whose `Caller` is local.
import hashlib
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel, Field, ValidationError, field_validator

from access import Identity
from api.callers import API_PREFIX, ApiServices
from api.problems import PROBLEM_RESPONSES, Problem, forbidden, invalid_input
from domain.appeals import CASE_NUMBER_PATTERN
from domain.control import ControlPilot
from domain.events import AppealOutcome
from domain.moments import Deadline
from domain.municipalities import PILOT_CODE_PATTERN, check_pilot_code
from domain.network import MEETING_ID_PATTERN, RecordAttendance, ScheduleMeeting, meeting_id_for
from domain.payloads import InspectionDecision
from domain.pilot_ids import PROGRAMME_PATTERN
from domain.roles import Role
from domain.status import PilotStatus
from domain.steering import SteeringAction, SteerTask
from eventstore import EventStore
from pilots import (
    DEFAULT_TEMPLATE,
    ListedPhase,
    ListedState,
    MeetingOutcome,
    PilotListing,
    appeal_step,
    change_roster,
    control_pilot,
    list_pilots,
    pilot_query,
    programme_round,
    record_appeal,
    record_attendance,
    register_inspection,
    roster_change,
    schedule_meeting,
    start_cohort,
    start_moment,
    start_pilot,
    steer_task,
)
from pilots.client import CohortStart
from pilots.history import HistoryEntry, pilot_history
from pilots.scheduled import scheduled_pilots
from programmes.cohorts import CohortPilot, cohort_names, shipped_cohort
from reports import render_cohort_overview
from workflows.messages import AppealRecorded, MeetingRecorded, PilotControlled, RosterChangeRecorded, TaskCompletion

HISTORY_PAGE_MOST = 5000
"""The most entries one page of a pilot's history holds."""

REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"
"""A report is one self-contained page: its styles and charts are inline, and it runs no script."""


class SteerRequest(BaseModel):
    action: SteeringAction
    reason: str = Field(min_length=1, max_length=1000, description="why; kept in the pilot's record")
    to_participant: str | None = Field(default=None, description="for reassign, delegate and stand_in")
    due_at: Deadline | None = Field(
        default=None,
        description="for extend: the new deadline; a bare date (2026-12-01) is 16:00 Swedish time that day, a time "
        "without a zone is Swedish time",
    )


class RosterRequest(BaseModel):
    role: Role
    joining: str | None = Field(default=None, min_length=1, max_length=200, description="participant id")
    leaving: str | None = Field(default=None, min_length=1, max_length=200, description="participant id")
    reason: str = Field(min_length=1, max_length=1000, description="why; kept in the pilot's record")


class AppealLodgedRequest(BaseModel):
    """An appeal of a nämnd decision (laglighetsprövning), lodged with the court within its appeal period."""

    decision_key: str = Field(
        min_length=1, max_length=200, description="the decision's key, as the pilot's status lists its decisions"
    )
    court: str = Field(min_length=3, max_length=100, description="e.g. Förvaltningsrätten i Karlstad")
    case_number: str = Field(pattern=CASE_NUMBER_PATTERN, description="the court's case number (målnummer)")
    lodged_on: date = Field(description="the day the appeal reached the court")


class AppealOutcomeRequest(BaseModel):
    """The court's outcome of an appeal recorded before; 'upphavt' reopens the decision's task."""

    decision_key: str = Field(min_length=1, max_length=200)
    case_number: str = Field(pattern=CASE_NUMBER_PATTERN)
    outcome: AppealOutcome = Field(
        description="avslaget (the decision stands), avvisat (dismissed: it stands), delvis_upphavt (partly "
        "annulled: the rest stands), upphavt (annulled: the nämnd decides again)"
    )
    decided_on: date = Field(description="the day of the court's judgment")


class ControlRequest(BaseModel):
    """A step on a whole pilot: pause, resume, withdraw (the municipality leaves), or retry what failed for good."""

    action: Literal["pause", "resume", "withdraw", "retry"]
    reason: str = Field(min_length=1, max_length=1000, description="why; kept in the pilot's record")


class PilotHistory(BaseModel):
    """A page of a pilot's history: its domain record, and Temporal's record of every run unless only the domain was
    asked, merged oldest first as `leda history --format json` prints it. An entry's position is its place in that
    merged record, from 1; a page holds the entries after `after`, and the next page is asked with
    `after=next_after`."""

    entries: list[HistoryEntry]
    after: int = Field(description="the position the page starts after (0: from the first entry)")
    next_after: int | None = Field(description="the `after` of the next page; null on the last page")
    total: int = Field(description="how many entries the whole record holds now")
    note: str | None = Field(default=None, description="why Temporal's part is missing, when it is")


class MeetingRequest(BaseModel):
    """A network meeting of a programme's pilots, for every pilot of it the caller leads."""

    title: str = Field(min_length=3, max_length=200, description="e.g. 'Nätverksträff 2: styrkor och svagheter'")
    held_at: AwareDatetime = Field(description="when the meeting begins, with a time zone; in the future")
    place: str | None = Field(default=None, min_length=1, max_length=200)
    meeting_id: str | None = Field(
        default=None,
        pattern=MEETING_ID_PATTERN,
        description="the meeting's id in every pilot; by default one derived from the programme, time and title, so "
        "the same request sent again schedules the meeting once",
    )


class MeetingScheduled(BaseModel):
    """Each pilot's answer: the tasks it opened (its contribution), or why it refused."""

    meeting_id: str
    pilots: list[MeetingOutcome]


class AttendanceRequest(BaseModel):
    attended: bool
    attendee_ids: list[str] = Field(
        default_factory=list, max_length=50, description="participant ids of the pilot's people who took part"
    )


class StartPilotRequest(BaseModel):
    programme: str | None = Field(
        default=None,
        pattern=PROGRAMME_PATTERN,
        description="the programme round (cohort), e.g. lfr-skola-2015; default: the template's key, as `leda start`",
    )
    kommunkod: str = Field(
        pattern=PILOT_CODE_PATTERN,
        description="any of the 290 municipalities (SCB's kommunkod), or a kommunalförbund's members' codes "
        "joined by '+'",
    )
    template_key: str = Field(
        default=DEFAULT_TEMPLATE, min_length=1, description="lfr-skola (the default), orebro-skolkommun or demo"
    )
    organ: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="the nämnd (or kommunstyrelse, or a förbund's direktion) that decides school matters; needed "
        "unless Leda knows it (Hallsberg, Ljusnarsberg)",
    )
    name: str | None = Field(
        default=None, min_length=1, max_length=100, description="needed only for a kommunalförbund Leda does not know"
    )
    starts_on: date | None = Field(
        default=None, description="the day it starts, at 08:00 Swedish time; today or none for now, at most a year on"
    )

    @field_validator("kommunkod")
    @classmethod
    def _each_member_once(cls, kommunkod: str) -> str:
        return check_pilot_code(kommunkod)  # the pattern lets '1861+1861' through; the directory would not


class PilotStarted(BaseModel):
    workflow_id: str
    starts_at: datetime | None = Field(default=None, description="when a pilot started for a later day starts")


class CohortSummary(BaseModel):
    """A cohort Leda ships: its programme round, template, and pilots with their staggered starts."""

    name: str
    programme: str
    template: str
    pilots: list[CohortPilot]


class CohortStarted(BaseModel):
    """Each pilot of the cohort: started (its workflow id and delay) or refused (why, and the refusal's code).

    One pilot's refusal does not stop the others; calling again starts those not yet started (the others answer
    already_started)."""

    programme: str
    pilots: list[CohortStart]


class PilotList(BaseModel):
    """The pilots the caller may see that match the filters, as Temporal's visibility store has them."""

    pilots: list[PilotListing]
    query: str = Field(description="the visibility query used, as `temporal workflow list --query` takes it")


def lead_router(api: ApiServices) -> APIRouter:
    """The routes of programme leads and operations."""
    Caller = Annotated[Identity, Depends(api.caller)]
    pool, client, task_queue = api.pool, api.client, api.task_queue
    records, access = api.records, api.access
    unseen, recorded, seen_task = api.unseen, api.recorded, api.seen_task
    router = APIRouter(prefix=API_PREFIX, responses=PROBLEM_RESPONSES)

    @router.post(
        "/pilots/{workflow_id}/tasks/{task_key:path}/steer",
        summary="Reassign, delegate, stand in, return or extend a task, with a reason",
    )
    async def steer(workflow_id: str, task_key: str, request: SteerRequest, identity: Caller) -> TaskCompletion:
        task = await seen_task(identity, workflow_id, await recorded(workflow_id, task_key), task_key)
        if not await access.may_steer(identity, workflow_id, task, request.action):
            raise forbidden()
        steering = SteerTask(task_key=task_key, actor_id=identity.participant_id, **request.model_dump())
        return await steer_task(client, pool, workflow_id, steering)

    @router.post(
        "/pilots/{workflow_id}/roster",
        summary="Someone joins a role, leaves it, or takes a leaver's place with their open tasks (the lead only)",
        description="Tasks of the role that open from then on go to its new first participant.",
    )
    async def roster(workflow_id: str, request: RosterRequest, identity: Caller) -> RosterChangeRecorded:
        if not await access.may_change_roster(identity, workflow_id):
            raise forbidden()
        change = roster_change(actor_id=identity.participant_id, **request.model_dump())
        return await change_roster(client, pool, workflow_id, change)

    @router.get(
        "/pilots",
        summary="Pilots by phase, state or overdue tasks, from Temporal's visibility store (as `leda list`)",
        description="Operations see every pilot, a programme lead the pilots they lead. Only running pilots are "
        "listed unless `all` is set or the filters ask for pilots that have ended (state completed or withdrawn, "
        "phase klar).",
    )
    async def pilot_list(
        identity: Caller,
        phase: ListedPhase | None = None,
        state: ListedState | None = None,
        overdue: Annotated[bool, Query(description="only pilots with a task past its deadline")] = False,
        programme: Annotated[str | None, Query(pattern=PROGRAMME_PATTERN)] = None,
        kommunkod: Annotated[str | None, Query(pattern=PILOT_CODE_PATTERN)] = None,
        include_closed: Annotated[bool, Query(alias="all", description="closed workflows too")] = False,
    ) -> PilotList:
        if not access.may_list_pilots(identity):
            raise forbidden()
        query = pilot_query(
            phase=phase,
            overdue=overdue,
            state=state,
            programme=programme,
            kommunkod=kommunkod,
            include_closed=include_closed,
        )
        scheduled: set[str] = set()
        if identity.scope == "programme_lead" and phase in (None, "start"):
            # Pilots whose start is scheduled have no record yet: the roster they start with says who leads them.
            led = await scheduled_pilots(client, EventStore(pool), programme=programme, led_by=identity.participant_id)
            scheduled = {s.workflow_id for s in led}
        listed = [
            p
            for p in await list_pilots(client, query)
            if p.workflow_id in scheduled or await access.may_list(identity, p.workflow_id)
        ]
        return PilotList(pilots=listed, query=query)

    @router.post("/pilots", status_code=201, summary="Start a municipality's pilot (programme leads of it only)")
    async def start(request: StartPilotRequest, identity: Caller) -> PilotStarted:
        programme = programme_round(request.programme, request.template_key)
        if not await access.may_start(identity, request.kommunkod, programme):
            raise forbidden()
        workflow_id = await start_pilot(
            client,
            pool,
            programme=programme,
            kommunkod=request.kommunkod,
            template_key=request.template_key,
            task_queue=task_queue,
            municipality_name=request.name,
            deciding_organ=request.organ,
            starts_on=request.starts_on,
        )
        return PilotStarted(workflow_id=workflow_id, starts_at=start_moment(request.starts_on, datetime.now(UTC)))

    @router.get("/cohorts", summary="The cohorts (programme rounds) Leda ships, with their pilots and staggered starts")
    async def cohorts(identity: Caller) -> list[CohortSummary]:
        return [
            CohortSummary(name=name, programme=c.programme, template=c.template, pilots=c.pilots)
            for name in cohort_names()
            for c in [shipped_cohort(name)]
        ]

    @router.post(
        "/programmes/{programme}/meetings",
        status_code=201,
        summary="Schedule a network meeting for the pilots of a programme the caller leads",
        description="Each pilot records the meeting and gives its contact (the förvaltningschef) a task to prepare the "
        "pilot's contribution, due three days before. A meeting in the past, or a title that names a person, is "
        "refused before any pilot gets it.",
    )
    async def meeting(
        programme: Annotated[str, Path(pattern=PROGRAMME_PATTERN)], request: MeetingRequest, identity: Caller
    ) -> MeetingScheduled:
        led = await access.pilots_led_in(identity, programme, running=True)
        if not led:
            raise forbidden()  # a lead acting outside their cohorts, or no one's lead at all
        meeting_id = request.meeting_id or meeting_id_for(programme, request.held_at, request.title)
        try:
            schedule = ScheduleMeeting(
                meeting_id=meeting_id,
                title=request.title,
                held_at=request.held_at,
                place=request.place,
                actor_id=identity.participant_id,
            )
        except ValidationError as error:
            raise invalid_input(error) from None
        outcomes = await schedule_meeting(client, pool, led, schedule)
        return MeetingScheduled(meeting_id=meeting_id, pilots=outcomes)

    @router.get(
        "/programmes/{programme}/report",
        summary="The cohort's pilots side by side, as one HTML page: the 8 success factors, phases, overdue work",
        description="Of the pilots of the programme the caller leads (operations: all of them). With anonymous=true "
        "the municipalities are shown as Kommun A, B, … in an order that does not give them away.",
        response_class=HTMLResponse,
    )
    async def cohort_report(programme: str, identity: Caller, anonymous: bool = False) -> HTMLResponse:
        shown = await access.pilots_reported_in(identity, programme)
        if not shown:
            raise forbidden()
        states = [await records.state(w) for w in shown]
        html = render_cohort_overview(states, generated_at=datetime.now(UTC), anonymous=anonymous)
        return HTMLResponse(html, headers={"Cache-Control": "no-store", "Content-Security-Policy": REPORT_CSP})

    @router.post(
        "/pilots/{workflow_id}/meetings/{meeting_id}/attendance",
        summary="Record whether the pilot attended a network meeting, and who of it did (the pilot's lead only)",
        description="Once the meeting has been held. A pilot that attended is asked for its reflection; one that did "
        "not is asked for none.",
    )
    async def attendance(
        workflow_id: str, meeting_id: str, request: AttendanceRequest, identity: Caller
    ) -> MeetingRecorded:
        if not await access.leads_pilot(identity, workflow_id):
            raise forbidden()
        try:
            step = RecordAttendance(
                meeting_id=meeting_id,
                attended=request.attended,
                attendee_ids=request.attendee_ids,
                actor_id=identity.participant_id,
            )
        except ValidationError as error:
            raise invalid_input(error) from None
        return await record_attendance(client, workflow_id, step)

    @router.post(
        "/cohorts/{cohort}/start",
        status_code=201,
        summary="Start every pilot of a shipped cohort, staggered as it says (the lead of all its pilots only)",
        description="All or nothing as to who may: a caller who may not start one of its pilots starts none (403). "
        "A pilot refused for another reason (already started, a missing participant) does not stop the others: each "
        "outcome is in the answer, 201 if this call started at least one pilot, 200 if it started none.",
    )
    async def cohort_start(cohort: str, identity: Caller, response: Response) -> CohortStarted:
        try:
            chosen = shipped_cohort(cohort)
        except ValueError as error:
            raise Problem(404, "not_found", str(error), field="cohort") from None
        if await access.not_led_in(identity, chosen):
            raise forbidden()
        outcomes = await start_cohort(client, pool, chosen, task_queue=task_queue)
        if all(o.workflow_id is None for o in outcomes):
            response.status_code = 200
        return CohortStarted(programme=chosen.programme, pilots=outcomes)

    @router.get(
        "/pilots/{workflow_id}/status",
        summary="Where a pilot stands: phases, decisions, and the tasks the caller may see",
        description="Operations and the pilot's programme lead see every task; a participant sees their own.",
    )
    async def status(workflow_id: str, identity: Caller) -> PilotStatus:
        visible = await access.status_for(identity, records.status_of(workflow_id, await recorded(workflow_id)))
        if visible is None:
            raise unseen(workflow_id)
        return visible

    @router.post(
        "/pilots/{workflow_id}/inspection-decisions",
        summary="Register a decision of Skolinspektionen (the body: an inspection decision with its findings)",
    )
    async def inspection_decision(workflow_id: str, identity: Caller, decision: InspectionDecision) -> TaskCompletion:
        if not await access.may_register_inspection(identity, workflow_id):
            raise forbidden()
        answer = decision.model_dump(mode="json", exclude_unset=True)
        return await register_inspection(client, pool, workflow_id, identity.participant_id, answer)

    @router.post(
        "/pilots/{workflow_id}/control",
        summary="Pause, resume, withdraw or retry a pilot, with a reason (its lead, or operations)",
        description="Terminating a workflow is operations' last resort, on the command line only.",
    )
    async def control(workflow_id: str, request: ControlRequest, identity: Caller) -> PilotControlled:
        if not await access.may_control(identity, workflow_id, request.action):
            raise forbidden()
        step = ControlPilot(action=request.action, actor_id=identity.participant_id, reason=request.reason)
        return await control_pilot(client, pool, workflow_id, step)

    @router.get(
        "/pilots/{workflow_id}/history",
        summary="A pilot's history: who did what, when and why, beside Temporal's record of every run",
        description="The pilot's lead and operations only. `source=domain` leaves Temporal's part out. Paged by "
        "position (`after`, `limit`; the next page is `after=next_after`); each page has an ETag, and a request with "
        "`If-None-Match` of a page that has not changed is answered 304 with no body.",
        response_model=PilotHistory,
        responses={304: {"description": "the page is as the caller holds it (If-None-Match)"}},
    )
    async def history(
        workflow_id: str,
        identity: Caller,
        response: Response,
        since: datetime | None = None,
        source: Literal["all", "domain"] = "all",
        after: Annotated[int, Query(ge=0, description="the position to start after; 0 for the first page")] = 0,
        limit: Annotated[int, Query(ge=1, le=HISTORY_PAGE_MOST, description="entries on the page at most")] = 500,
        if_none_match: Annotated[str | None, Header(description="the ETag of a page the caller holds")] = None,
    ) -> PilotHistory | Response:
        if not await access.may_read_history(identity, workflow_id):
            raise forbidden()
        if since is not None and since.tzinfo is None:
            raise Problem(422, "invalid_input", "since: give a time zone, e.g. 2026-09-01T00:00:00Z", field="since")
        entries, note = await pilot_history(
            EventStore(pool), client if source == "all" else None, workflow_id, since=since
        )
        if not entries:
            raise Problem(404, "not_found", f"no pilot {workflow_id} is on record")
        page = entries[after : after + limit]
        more = after + len(page) < len(entries)
        body = PilotHistory(
            entries=page,
            after=after,
            next_after=after + len(page) if more else None,
            total=len(entries),
            note=note if source == "all" else None,
        )
        etag = '"' + hashlib.sha256(body.model_dump_json().encode()).hexdigest()[:32] + '"'
        if if_none_match is not None and etag in (tag.strip() for tag in if_none_match.split(",")):
            return Response(status_code=304, headers={"ETag": etag})
        response.headers["ETag"] = etag
        return body

    @router.post(
        "/pilots/{workflow_id}/appeals",
        summary="Record an appeal lodged against one of the pilot's nämnd decisions (the pilot's lead only)",
        description="The decision is not final while the appeal is pending. It may be recorded during the appeal "
        "period or after it, for an appeal lodged in time.",
    )
    async def appeal_lodged(workflow_id: str, request: AppealLodgedRequest, identity: Caller) -> AppealRecorded:
        return await appeal(workflow_id, identity, "lodged", request)

    @router.post(
        "/pilots/{workflow_id}/appeals/outcome",
        summary="Record the court's outcome of an appeal (the pilot's lead only)",
        description="An annulled decision (upphavt) reopens the task whose decision it was, with a new deadline.",
    )
    async def appeal_decided(workflow_id: str, request: AppealOutcomeRequest, identity: Caller) -> AppealRecorded:
        return await appeal(workflow_id, identity, "decided", request)

    async def appeal(workflow_id: str, identity: Identity, action: str, request: BaseModel) -> AppealRecorded:
        """Either step of an appeal, by the pilot's lead, on a pilot that has not ended."""
        if not await access.may_record_appeal(identity, workflow_id):
            raise forbidden()
        step = appeal_step(action=action, actor_id=identity.participant_id, **request.model_dump())
        return await record_appeal(client, pool, workflow_id, step)

    return router
