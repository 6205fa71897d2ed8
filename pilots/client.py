"""Talking to pilot workflows as a client; every refusal becomes a PilotError with one clear line."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any, Literal, TypeVar

import asyncpg
import structlog
from pydantic import BaseModel, Field, ValidationError
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from directory import get_participant, list_participants, names_a_participant, programme_participants
from domain.appeals import AppealStep
from domain.calendar import SchoolCalendar
from domain.control import ControlPilot
from domain.events import PilotTerminated, event_record
from domain.moments import SWEDISH_TIME
from domain.municipalities import DECIDING_ORGANS, check_pilot_code, pilot_name, unknown_members
from domain.network import RecordAttendance, ScheduleMeeting, check_held_at
from domain.pilot_ids import PilotId
from domain.refusals import TaskRejected, check_recordable
from domain.roles import Role
from domain.roster import ChangeRoster
from domain.status import PilotStatus
from domain.steering import SteerTask
from eventstore import EventStore, NewEvent, WrongExpectedVersion
from pilots.errors import PilotError
from pilots.records import PilotRecords
from programmes import template as load_template
from programmes.calendars import load_calendar
from programmes.cohorts import Cohort
from programmes.versions import current as current_template
from workflows import search_attributes as sa
from workflows.messages import (
    AppealRecorded,
    CompleteTask,
    MeetingRecorded,
    PilotControlled,
    RegisterInspection,
    RosterChangeRecorded,
    StartPilot,
    TaskCompletion,
)
from workflows.municipality import MunicipalityWorkflow

_log = structlog.get_logger(__name__)


def _recordable(value: Any) -> None:
    """Refuse text no pilot could record, before sending it; an unpaired surrogate could not even be sent."""
    try:
        check_recordable(value)
    except TaskRejected as rejection:
        raise PilotError(rejection.message, rejection.code) from None


DEFAULT_TEMPLATE = "lfr-skola"
"""The programme template a pilot follows when none is named (the CLI's `--template`, the API's `template_key`)."""


def programme_round(programme: str | None, template_key: str) -> str:
    """The programme round a pilot is started in: the one named, or else the template's key (as `leda start` and
    `POST /api/v1/pilots` both default it)."""
    return programme or template_key


async def start_pilot(
    client: Client,
    pool: asyncpg.Pool,
    *,
    programme: str,
    kommunkod: str,
    template_key: str,
    task_queue: str,
    municipality_name: str | None = None,
    deciding_organ: str | None = None,
    kpi_years: list[int] | None = None,
    starts_on: date | None = None,
    start_after: timedelta | None = None,
    calendar: SchoolCalendar | None = None,
) -> str:
    """Start a pilot's workflow with the directory's participants; returns the workflow id.

    The roster is the municipality's people and the programme's (its lead at SKR or the region, the region's support
    group: the directory's people of `programme`), the programme's lead first among the leads. A pilot for a later
    day (`starts_on`, see `start_moment`) starts then; a cohort staggers its pilots by `start_after` instead."""
    if starts_on is not None:
        start_after = start_after_of(starts_on, datetime.now(UTC))
    try:
        check_pilot_code(kommunkod)
    except ValueError as error:
        raise PilotError(f"kommunkod: {error}", "invalid_input") from None
    unknown = unknown_members(kommunkod)
    if unknown:
        raise PilotError(
            f"kommunkod: {', '.join(unknown)} is not a Swedish municipality's code (SCB's register of the 290)",
            "unknown_municipality",
        )
    try:
        template_ref, template = current_template(template_key)
    except ValueError as error:
        raise PilotError(f"template_key: {error}", "unknown_template") from None
    name = municipality_name or pilot_name(kommunkod)
    if name is None:
        raise PilotError(f"name: {kommunkod} is a kommunalförbund Leda does not know; name it", "name_required")
    organ = deciding_organ or DECIDING_ORGANS.get(kommunkod)
    if organ is None:
        raise PilotError(
            f"organ: which organ decides school matters in {name}? name it, e.g. 'Barn- och utbildningsnämnden'",
            "organ_required",
        )
    people = await list_participants(pool, kommunkod)
    programme_people = await programme_participants(pool, programme)
    participants: dict[Role, list[str]] = {}
    for participant in sorted(programme_people, key=lambda p: p.role != Role.PROGRAMLEDARE) + people:
        participants.setdefault(Role(participant.role), []).append(participant.participant_id)
    managers = {p.participant_id: p.manager_id for p in [*programme_people, *people] if p.manager_id is not None}
    for field, text in (("name", name), ("organ", organ)):
        if not text.isprintable():  # a line break in the name would break the subject of every mail of the pilot
            raise PilotError(f"{field}: {text!r} holds a line break or another control character", "invalid_input")
    missing = sorted(r.value for r in template.roles_needed() if r not in participants)
    if missing:
        raise PilotError(
            f"participants: {name} ({kommunkod}) has no participant in the directory for the roles "
            f"{', '.join(missing)}; import them into the directory first",
            "missing_participants",
        )
    this_year = datetime.now(UTC).year
    try:
        start = StartPilot(
            programme=programme,
            kommunkod=kommunkod,
            municipality_name=name,
            deciding_organ=organ,
            template_ref=template_ref,
            participants=participants,
            managers=managers,
            calendar=calendar,
            kpi_years=kpi_years or [this_year - 4, this_year - 3, this_year - 2],
        )
    except ValueError as error:
        raise PilotError(str(error), "invalid_input") from None
    workflow_id = str(PilotId(programme, kommunkod))
    try:
        await client.start_workflow(
            MunicipalityWorkflow.run,
            start,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.PROGRAMME, programme),
                    SearchAttributePair(sa.MUNICIPALITY, kommunkod),
                    SearchAttributePair(sa.PHASE, sa.PHASE_AT_START),
                    SearchAttributePair(sa.STATE, sa.STATE_AT_START),
                ]
            ),
            static_summary=f"{name} ({kommunkod}) i {programme}",
            start_delay=start_after or None,
        )
    except WorkflowAlreadyStartedError:
        raise PilotError(
            f"Piloten finns redan / the pilot {name} ({kommunkod}) in programme {programme} was already started "
            f"(workflow {workflow_id}); a municipality takes part in a programme once",
            "already_started",
        ) from None
    if start_after is None:
        await _until_recorded(pool, workflow_id, task_queue)
    return workflow_id


STARTS_AT = clock(8, 0)
"""A pilot started for a later day starts at eight in the morning, Swedish time: its first mails arrive at work."""
FURTHEST_START = timedelta(days=366)


def start_moment(starts_on: date | None, now: datetime) -> datetime | None:
    """When a pilot that is to start on `starts_on` starts; None for now (no day, or today).

    A day that has passed, or one more than a year ahead, is refused naming the field."""
    if starts_on is None:
        return None
    today = now.astimezone(SWEDISH_TIME).date()
    if starts_on < today:
        raise PilotError(f"starts_on: {starts_on} has passed; give today ({today}) or a later day", "invalid_input")
    if starts_on == today:
        return None
    begins = datetime.combine(starts_on, STARTS_AT, tzinfo=SWEDISH_TIME)
    if begins - now > FURTHEST_START:
        raise PilotError(f"starts_on: {starts_on} is more than a year ahead; start it nearer the day", "invalid_input")
    return begins


def start_after_of(starts_on: date | None, now: datetime) -> timedelta | None:
    """How long until a pilot that is to start on `starts_on` starts; None for now (see `start_moment`)."""
    begins = start_moment(starts_on, now)
    return None if begins is None else begins - now


RECORDED_WITHIN = 30.0
"""Seconds `start_pilot` waits for a worker to record the new pilot's first events."""


async def _until_recorded(pool: asyncpg.Pool, workflow_id: str, task_queue: str) -> None:
    """Until the pilot's first events are on record, so that a status read right after the start finds it (statuses
    are read from the record, `pilots/records.py`). A pilot no worker has picked up by then is started all the same,
    and recorded once a worker polls its task queue."""
    store = EventStore(pool)
    deadline = time.monotonic() + RECORDED_WITHIN
    while await store.stream_version(workflow_id) == 0:
        if time.monotonic() > deadline:
            _log.warning(
                "pilot started, not yet recorded: is a worker polling its task queue?",
                workflow_id=workflow_id,
                task_queue=task_queue,
            )
            return
        await asyncio.sleep(0.02)


class CohortStart(BaseModel):
    kommunkod: str
    workflow_id: str | None
    starts_after: timedelta
    refused: str | None = None
    refused_code: str | None = Field(default=None, description="the refusal's code, e.g. organ_required")


async def start_cohort(client: Client, pool: asyncpg.Pool, cohort: Cohort, *, task_queue: str) -> list[CohortStart]:
    """Start every pilot of a cohort, each after its own delay; one pilot's refusal does not stop the others."""
    template = load_template(cohort.template)
    outcomes = []
    for pilot in cohort.pilots:
        delay = template.day_length * pilot.start_after_days
        try:
            workflow_id = await start_pilot(
                client,
                pool,
                programme=cohort.programme,
                kommunkod=pilot.kommunkod,
                template_key=cohort.template,
                task_queue=task_queue,
                municipality_name=pilot.name,
                deciding_organ=pilot.organ,
                start_after=delay,
                calendar=load_calendar(pilot.calendar) if pilot.calendar else None,
            )
            outcomes.append(CohortStart(kommunkod=pilot.kommunkod, workflow_id=workflow_id, starts_after=delay))
        except PilotError as error:
            outcomes.append(
                CohortStart(
                    kommunkod=pilot.kommunkod,
                    workflow_id=None,
                    starts_after=delay,
                    refused=str(error),
                    refused_code=error.code,
                )
            )
    return outcomes


async def pilots_of_municipality(store: EventStore, code: str) -> list[str]:
    """The ids of every pilot on record of the municipality (or kommunalförbund) `code`, in any programme."""
    streams = await store.list_streams(PilotId.prefix_of())
    return [s for s in streams if (pilot := PilotId.parse(s)) is not None and pilot.code == code]


async def find_pilot(store: EventStore, kommunkod: str, programme: str | None = None) -> str:
    """The workflow id of the municipality's pilot; asks for the programme when there are several."""
    try:
        check_pilot_code(kommunkod)
    except ValueError as error:
        raise PilotError(str(error), "invalid_input") from None
    if programme is not None:
        return str(PilotId(programme, kommunkod))
    streams = await pilots_of_municipality(store, kommunkod)
    if not streams:
        raise PilotError(f"no pilot has been started for kommunkod {kommunkod}", "not_found")
    if len(streams) > 1:
        programmes = ", ".join(pilot.programme for pilot in map(PilotId.parse, streams) if pilot)
        raise PilotError(
            f"programme: {kommunkod} takes part in several programmes ({programmes}); choose one", "programme_required"
        )
    return streams[0]


async def pilot_status(client: Client, workflow_id: str) -> PilotStatus:
    try:
        return await client.get_workflow_handle(workflow_id).query(MunicipalityWorkflow.status, result_type=PilotStatus)
    except RPCError as error:
        raise _rpc_error(error, workflow_id) from None


async def complete_task(
    client: Client,
    workflow_id: str,
    task_key: str,
    participant_id: str,
    payload: dict[str, Any],
) -> TaskCompletion:
    """Send the completion as an Update. The same answer sent again by whoever gave it is answered as a repeat
    (`TaskCompletion.repeat`) and recorded no second time: the workflow decides it from the record, so it holds
    whether or not Temporal still knows the first request (after a new run, or an answer lost in a restart); a
    different answer to a completed task is refused (`already_completed`)."""
    _recordable({"task_key": task_key, "participant_id": participant_id})
    _recordable(payload)
    request = CompleteTask(task_key=task_key, participant_id=participant_id, payload=payload)
    update_id = f"complete-{task_key}-{uuid.uuid4().hex}"
    return await _update(client, workflow_id, MunicipalityWorkflow.complete_task, request, update_id)


async def register_inspection(
    client: Client, pool: asyncpg.Pool, workflow_id: str, participant_id: str, decision: dict[str, Any]
) -> TaskCompletion:
    """Register a Skolinspektionen decision; sent again unchanged, it gets the first answer. A pilot that has ended
    says so, and when."""
    _recordable({"participant_id": participant_id})
    _recordable(decision)
    await PilotRecords(pool).running(workflow_id)
    request = RegisterInspection(participant_id=participant_id, decision=decision)
    fingerprint = hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:24]
    return await _update(
        client, workflow_id, MunicipalityWorkflow.register_inspection, request, f"inspection-{fingerprint}"
    )


async def steer_task(client: Client, pool: asyncpg.Pool, workflow_id: str, request: SteerTask) -> TaskCompletion:
    """Reassign, delegate, stand in, take back or extend a task; sent again unchanged, it is applied once. The
    reason must name no one of the pilot's people (it stays in the record)."""
    _recordable(request.model_dump(mode="json"))
    await check_reason(pool, workflow_id, request.reason)
    fingerprint = hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:24]
    return await _update(client, workflow_id, MunicipalityWorkflow.steer_task, request, f"steer-{fingerprint}")


def roster_change(**fields: Any) -> ChangeRoster:
    """A roster change from an edge's fields; PilotError naming the field when they do not make one."""
    return _request(ChangeRoster, fields)


def appeal_step(**fields: Any) -> AppealStep:
    """An appeal step from an edge's fields; PilotError naming the field when they do not make one."""
    return _request(AppealStep, fields)


M = TypeVar("M", bound=BaseModel)


def _request(model: type[M], fields: dict[str, Any]) -> M:
    try:
        return model(**fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise PilotError(f"{where}: {message}" if where else message, "invalid_input") from None


async def record_appeal(client: Client, pool: asyncpg.Pool, workflow_id: str, step: AppealStep) -> AppealRecorded:
    """Record an appeal lodged against a nämnd decision, or the court's outcome; sent again unchanged, applied once.
    A pilot that has ended says so, and when (an appeal recorded too late)."""
    _recordable(step.model_dump(mode="json"))
    await PilotRecords(pool).running(workflow_id)
    fingerprint = hashlib.sha256(step.model_dump_json().encode()).hexdigest()[:24]
    return await _update(
        client,
        workflow_id,
        MunicipalityWorkflow.record_appeal,
        step,
        f"appeal-{fingerprint}",
        result_type=AppealRecorded,
    )


async def change_roster(
    client: Client, pool: asyncpg.Pool, workflow_id: str, request: ChangeRoster
) -> RosterChangeRecorded:
    """Someone joins a role of the pilot, leaves it, or takes a leaver's place; sent again unchanged, applied once.

    The newcomer must be one of the pilot's people in the directory (under its code) and have the role there: the
    workflow cannot read the directory, so this is where it is checked."""
    _recordable(request.model_dump(mode="json"))
    await check_reason(pool, workflow_id, request.reason)
    if request.joining is not None:
        joining = await get_participant(pool, request.joining)
        # A pilot's people are the directory's under its code (a kommunalförbund's under '1083+1272') and those of its
        # programme (start_pilot).
        # Someone of another municipality gets the answer someone unknown gets: a lead learns nothing of people
        # outside their own pilots (not where they work, nor their role).
        pilot = PilotId.parse(workflow_id)
        outsider = (
            pilot is not None
            and joining is not None
            and pilot.code != joining.kommunkod
            and pilot.programme != joining.programme
        )
        if joining is None or outsider:
            where = f"municipality {pilot.code} or programme {pilot.programme}" if pilot else "pilot"
            raise PilotError(
                f"joining: {request.joining} is not one of the {where}'s people in the directory; import them first",
                "invalid_input",
            )
        if joining.role != request.role:
            raise PilotError(
                f"joining: {request.joining} is {joining.role} in the directory, not {request.role.value}; "
                "correct the directory first",
                "invalid_input",
            )
        request = request.model_copy(update={"joining_manager": joining.manager_id})
    fingerprint = hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:24]
    return await _update(
        client,
        workflow_id,
        MunicipalityWorkflow.change_roster,
        request,
        f"roster-{fingerprint}",
        result_type=RosterChangeRecorded,
    )


async def check_reason(pool: asyncpg.Pool, workflow_id: str, reason: str, *, field: str = "reason") -> None:
    """Refuse a reason (or another text for the record, named by `field`) that names someone in the pilot's
    directory: it would keep personal data in the record."""
    pilot = PilotId.parse(workflow_id)
    if pilot is None:
        return  # not a pilot's id; the Update itself will say so
    if await names_a_participant(pool, pilot, reason):
        raise PilotError(
            f"{field}: names a person (a participant's name or e-mail address), which would stay in the permanent "
            "record; refer to people by their participant id or role",
            "invalid_input",
        )


class MeetingOutcome(BaseModel):
    """One pilot's answer to a network meeting sent to its cohort: what it opened, or why it refused."""

    workflow_id: str
    kommunkod: str
    opened_tasks: list[str] = Field(default_factory=list)
    refused: str | None = None
    refused_code: str | None = None


async def schedule_meeting(
    client: Client, pool: asyncpg.Pool, workflow_ids: list[str], request: ScheduleMeeting
) -> list[MeetingOutcome]:
    """Send one network meeting to each of the pilots (its lead's, of one programme), the same meeting id in every
    one, so sending it again schedules it once. What no pilot could take is refused before any is sent: a meeting
    in the past, text the record cannot keep or that names someone. A pilot that refuses it for a reason of its own
    (it has ended, it is paused) does not stop the others."""
    _recordable(request.model_dump(mode="json"))
    try:
        check_held_at(request.held_at, now=datetime.now(UTC))
    except TaskRejected as rejection:
        raise PilotError(rejection.message, rejection.code) from None
    for workflow_id in workflow_ids:
        await check_reason(pool, workflow_id, request.title, field="title")
        if request.place is not None:
            await check_reason(pool, workflow_id, request.place, field="place")
    outcomes = []
    for workflow_id in workflow_ids:
        kommunkod = pilot.code if (pilot := PilotId.parse(workflow_id)) else ""
        try:
            recorded = await _update(
                client,
                workflow_id,
                MunicipalityWorkflow.schedule_meeting,
                request,
                f"meeting-{request.meeting_id}",
                result_type=MeetingRecorded,
            )
            outcomes.append(
                MeetingOutcome(workflow_id=workflow_id, kommunkod=kommunkod, opened_tasks=recorded.opened_tasks)
            )
        except PilotError as error:
            if error.code == "temporal_error":
                raise
            outcomes.append(
                MeetingOutcome(
                    workflow_id=workflow_id, kommunkod=kommunkod, refused=str(error), refused_code=error.code
                )
            )
    return outcomes


async def record_attendance(client: Client, workflow_id: str, request: RecordAttendance) -> MeetingRecorded:
    """Whether the pilot attended a network meeting, and who of it did; sent again unchanged, recorded once."""
    fingerprint = hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:24]
    result: MeetingRecorded = await _update(
        client,
        workflow_id,
        MunicipalityWorkflow.record_attendance,
        request,
        f"attendance-{request.meeting_id}-{fingerprint}",
        result_type=MeetingRecorded,
    )
    return result


async def control_pilot(client: Client, pool: asyncpg.Pool, workflow_id: str, request: ControlPilot) -> PilotControlled:
    """Pause, resume, withdraw or retry; each call is one step (a second pause is refused, not merged). The reason
    must name no one of the pilot's people (it stays in the record)."""
    _recordable(request.model_dump(mode="json"))
    await check_reason(pool, workflow_id, request.reason)
    # A fresh id per call: the SDK's own retries of this call share it, a later pause after a resume does not.
    update_id = f"control-{request.action}-{uuid.uuid4().hex}"
    return await _update(
        client, workflow_id, MunicipalityWorkflow.control, request, update_id, result_type=PilotControlled
    )


async def terminate_pilot(client: Client, pool: asyncpg.Pool, workflow_id: str, *, by: str, reason: str) -> None:
    """The last resort: record who terminated the pilot and why, then terminate its workflow."""
    if not reason.strip():
        raise PilotError("reason: say why the pilot is terminated; it is kept on the record", "invalid_input")
    await check_reason(pool, workflow_id, reason)
    store = EventStore(pool)
    handle = client.get_workflow_handle(workflow_id)
    try:
        description = await handle.describe()
    except RPCError as error:
        raise _rpc_error(error, workflow_id) from None
    if description.status is not WorkflowExecutionStatus.RUNNING:
        status = description.status.name.lower() if description.status else "unknown"
        raise PilotError(f"pilot {workflow_id} is not running ({status}); there is nothing to terminate", "not_running")
    event = PilotTerminated(event_id=uuid.uuid4(), occurred_at=datetime.now(UTC), reason=reason.strip(), by=by)
    event_type, schema_version, data = event_record(event)
    metadata = {"workflow_id": workflow_id, "run_id": description.run_id, "actor": by}
    new = NewEvent(
        event_id=event.event_id, event_type=event_type, schema_version=schema_version, data=data, metadata=metadata
    )
    for _ in range(10):  # the workflow may be appending at the same moment: try again on the newer version
        try:
            await store.append(workflow_id, await store.stream_version(workflow_id), [new])
            break
        except WrongExpectedVersion:
            continue
    else:
        raise PilotError(
            f"pilot {workflow_id} kept changing; the termination was not recorded, try again", "temporal_error"
        )
    await handle.terminate(reason=f"{reason.strip()} (by {by})")


class PilotListing(BaseModel):
    """One pilot as Temporal's visibility store has it (search attributes: never personal data)."""

    workflow_id: str
    run_id: str
    status: str
    started_at: datetime | None
    programme: str | None
    kommunkod: str | None
    phase: str | None
    state: str | None
    overdue_count: int | None
    next_due_at: datetime | None


ListedState = Literal["running", "paused", "failing", "withdrawn", "completed"]
"""The values of `LedaState` (workflows/municipality.py): what a listing filters on by `state`."""
ListedPhase = Literal["start", "djupanalys", "skolutvecklingsplan", "genomforande", "klar"]
"""The values of `LedaPhase`: 'start' until the workflow's first step, then the main phase, 'klar' after the last."""

ENDED_STATES = frozenset({"withdrawn", "completed"})
"""States in which a pilot's workflow has closed (or is about to): asking for them lists closed executions."""
ENDED_PHASE = "klar"


def pilot_query(
    *,
    phase: str | None = None,
    overdue: bool = False,
    state: str | None = None,
    programme: str | None = None,
    kommunkod: str | None = None,
    include_closed: bool = False,
    now: datetime | None = None,
) -> str:
    """The visibility query for these filters: what `temporal workflow list --query` takes too.

    Only running executions are listed, unless `include_closed` or the filters ask for pilots that have ended,
    whose workflows are closed: state withdrawn or completed, or phase klar without a state. (Phase klar with
    state running, paused or failing asks for running pilots whose last decisions are not yet final.) A terminated
    pilot keeps its last state and phase, so `state='running'` lists it only with `include_closed`. A run that
    continued as new is never listed: its pilot goes on in a later run, and this listing shows each pilot once."""
    clauses = ["WorkflowType = 'MunicipalityWorkflow'"]
    ended = state in ENDED_STATES or (state is None and phase == ENDED_PHASE)
    if include_closed or ended:
        clauses.append("ExecutionStatus != 'ContinuedAsNew'")
    else:
        clauses.append("ExecutionStatus = 'Running'")
    for key, value in ((sa.PHASE, phase), (sa.STATE, state), (sa.PROGRAMME, programme), (sa.MUNICIPALITY, kommunkod)):
        if value is not None:
            if "'" in value:
                raise PilotError(f"{key.name}: a quote is not allowed in {value!r}", "invalid_input")
            clauses.append(f"{key.name} = '{value}'")
    if overdue:
        # The earliest open deadline has passed: at least one task is overdue, whenever the pilot last changed.
        moment = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        clauses.append(f"{sa.NEXT_DUE_AT.name} < '{moment}'")
    return " AND ".join(clauses)


async def list_pilots(client: Client, query: str, *, limit: int = 1000) -> list[PilotListing]:
    """Pilots matching a visibility query, newest first."""
    listings: list[PilotListing] = []
    try:
        async for execution in client.list_workflows(query, limit=limit):
            attributes = execution.typed_search_attributes
            listings.append(
                PilotListing(
                    workflow_id=execution.id,
                    run_id=execution.run_id,
                    status=execution.status.name.lower() if execution.status else "unknown",
                    started_at=execution.start_time,
                    programme=attributes.get(sa.PROGRAMME),
                    kommunkod=attributes.get(sa.MUNICIPALITY),
                    phase=attributes.get(sa.PHASE),
                    state=attributes.get(sa.STATE),
                    overdue_count=attributes.get(sa.OVERDUE_COUNT),
                    next_due_at=attributes.get(sa.NEXT_DUE_AT),
                )
            )
    except RPCError as error:
        raise PilotError(f"Temporal refused the query {query!r}: {error.message}", "invalid_input") from None
    return listings


async def _update(
    client: Client,
    workflow_id: str,
    update: Any,
    request: Any,
    update_id: str,
    *,
    result_type: type[Any] = TaskCompletion,
) -> Any:
    try:
        return await client.get_workflow_handle(workflow_id).execute_update(
            update, request, id=update_id, result_type=result_type
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError):
            raise PilotError(cause.message, cause.type or "rejected") from None
        raise PilotError(f"the request to {workflow_id} failed: {cause}", "temporal_error") from None
    except RPCError as error:
        raise _rpc_error(error, workflow_id) from None


def _rpc_error(error: RPCError, workflow_id: str) -> PilotError:
    if error.status is RPCStatusCode.NOT_FOUND:
        return PilotError(f"no running pilot workflow {workflow_id}", "not_found")
    return PilotError(f"Temporal refused the request for {workflow_id}: {error.message}", "temporal_error")
