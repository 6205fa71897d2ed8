"""Activities that write the audit record: domain events, and decisions into the decision register."""

from __future__ import annotations

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import AppendEventsRequest, AppendEventsResult, RecordDecisionRequest
from eventstore import AppendResult, EventIdConflict, EventStore, NewEvent, WrongExpectedVersion


class EventRecording:
    """Appends to the event store; holds the worker's pool rather than connecting per call."""

    def __init__(self, pool: asyncpg.Pool, store: EventStore) -> None:
        self._pool = pool
        self._store = store

    @activity.defn(name="append_events")
    async def append_events(self, request: AppendEventsRequest) -> AppendEventsResult:
        """Append the workflow's events; a retry with the same event ids stores nothing twice."""
        async with self._pool.acquire() as connection:
            result = await self._append(request, connection)
        return _result(result)

    @activity.defn(name="record_decision")
    async def record_decision(self, request: RecordDecisionRequest) -> AppendEventsResult:
        """Append the events of a nämnd decision and enter it in the decision register, in one transaction."""
        decision = next((e for e in request.append.events if e.event_id == request.decision_event_id), None)
        if decision is None or decision.event_type != "DecisionRecorded":
            raise ApplicationError(
                f"event {request.decision_event_id} in the batch is not a DecisionRecorded event",
                type="MalformedDecision",
                non_retryable=True,
            )
        data = decision.data
        async with self._pool.acquire() as connection, connection.transaction():
            result = await self._append(request.append, connection)
            await connection.execute(
                """
                INSERT INTO decisions (decision_event_id, stream_id, kommunkod, task_key, organ, meeting_date,
                                       paragraph, diarienummer, justering_due, anslag_due, appeal_period_ends_latest)
                VALUES ($1, $2, $3, $4, $5, $6::text::date, $7, $8, $9::text::date, $10::text::date, $11::text::date)
                ON CONFLICT (decision_event_id) DO NOTHING
                """,
                decision.event_id,
                request.append.stream_id,
                request.kommunkod,
                data["task_key"],
                data["organ"],
                data["meeting_date"],
                data["paragraph"],
                data["diarienummer"],
                data["justering_due"],
                data["anslag_due"],
                data["appeal_period_ends_latest"],
            )
        return _result(result)

    async def _append(self, request: AppendEventsRequest, connection: asyncpg.Connection) -> AppendResult:
        events = [
            NewEvent(
                event_id=e.event_id,
                event_type=e.event_type,
                schema_version=e.schema_version,
                data=e.data,
                metadata=request.metadata if e.actor is None else {**request.metadata, "actor": e.actor},
            )
            for e in request.events
        ]
        try:
            result = await self._store.append(
                request.stream_id, request.expected_version, events, connection=connection
            )
        except WrongExpectedVersion as error:
            raise ApplicationError(str(error), type="WrongExpectedVersion", non_retryable=True) from error
        except EventIdConflict as error:
            raise ApplicationError(str(error), type="EventIdConflict", non_retryable=True) from error
        activity.logger.info(
            "events appended",
            extra={
                "stream_id": request.stream_id,
                "last_version": result.last_version,
                "already_stored": result.already_stored,
                "event_types": [e.event_type for e in request.events],
            },
        )
        return result


def _result(result: AppendResult) -> AppendEventsResult:
    return AppendEventsResult(
        last_version=result.last_version,
        global_positions=result.global_positions,
        already_stored=result.already_stored,
    )
