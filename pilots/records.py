"""Where a pilot stands, read from its record in PostgreSQL rather than asked of its workflow.

A workflow appends its events before its own state moves on, so folding a pilot's stream gives the state the
workflow has (or, a moment later, will have): never anything that is not durable. Reading it needs no worker and
wakes none. The edges (the HTTP API, the CLI, the demo's participants) read statuses this way; asking the workflow
(`pilots.pilot_status`, a Temporal query) is left to what only the workflow knows, the steps that failed for good.

Queries are also what exposes a fault in the SDK's core: a query answered by a worker that has just taken over from
a killed one can leave that worker's copy of the workflow on a stale clock, and its next workflow task fails on
nondeterminism (README: Known limitations). A status read from the record cannot.

States are kept per `PilotRecords` and extended with the events recorded since, so a read is one indexed query.
"""

from __future__ import annotations

from collections import OrderedDict

import asyncpg

from domain.events import event_of
from domain.pilot_ids import PilotId
from domain.refusals import TaskRejected, check_not_ended, unrecordable_text
from domain.roles import Role
from domain.state import MunicipalityState, fold
from domain.status import PilotStatus, TaskView
from domain.template import ProgrammeTemplate
from eventstore import EventStore
from pilots.errors import PilotError
from programmes import template as load_template

CACHED_PILOTS = 512
"""Pilots whose folded state is kept between reads: more than a programme round has (Sweden has 290 municipalities)."""


class PilotRecords:
    """Pilot statuses folded from the event store, each kept and brought up to date on the next read."""

    def __init__(self, pool: asyncpg.Pool, *, cached: int = CACHED_PILOTS) -> None:
        if cached < 1:
            raise ValueError(f"cached must be 1 or more, got {cached}")
        self.pool = pool
        self._store = EventStore(pool)
        self._cached = cached
        self._states: OrderedDict[str, MunicipalityState] = OrderedDict()
        self._statuses: dict[str, PilotStatus] = {}

    async def state(self, workflow_id: str) -> MunicipalityState:
        """The pilot's state as its recorded events make it; PilotError `not_found` if nothing is recorded."""
        if unrecordable_text(workflow_id) is not None:  # no stream can have such an id; PostgreSQL refuses the text
            raise PilotError(f"no pilot {workflow_id!r} is on record", "not_found")
        known = self._states.get(workflow_id)
        since = await self._store.read_stream(workflow_id, from_version=(known.version if known else 0) + 1)
        if since:
            state = fold(map(event_of, since), known)
        elif known is not None:
            state = known
        else:
            raise PilotError(f"no pilot {workflow_id} is on record", "not_found")
        current = self._states.get(workflow_id)
        if current is None or current.version <= state.version:  # a slower concurrent read must not go back
            self._states[workflow_id] = state
        self._states.move_to_end(workflow_id)
        while len(self._states) > self._cached:
            evicted, _ = self._states.popitem(last=False)
            self._statuses.pop(evicted, None)
        return state

    async def roster(self, workflow_id: str) -> dict[Role, list[str]] | None:
        """Who holds each role of the pilot now (as started, and every roster change since); None if not on record."""
        try:
            return (await self.state(workflow_id)).participants
        except PilotError:
            return None

    async def running(self, workflow_id: str) -> MunicipalityState:
        """The pilot's state, if it has not ended; else PilotError `pilot_ended` saying when and how it ended.

        A pilot that has ended has no workflow left to ask, so this is where a step it can no longer take is refused
        with the reason (an inspection decision registered after the programme, an appeal recorded too late)."""
        state = await self.state(workflow_id)
        try:
            check_not_ended(state)
        except TaskRejected as rejection:
            raise PilotError(rejection.message, rejection.code) from None
        return state

    async def of_programme(self, programme: str, *, running: bool = False) -> list[str]:
        """The pilots of exactly `programme` on record ('lfr-skola' is not 'lfr-skola-2015'); with `running`, only
        those that have not ended."""
        pilots = []
        for workflow_id in await self._store.list_streams(PilotId.prefix_of(programme)):
            pilot = PilotId.parse(workflow_id)
            if pilot is None or pilot.programme != programme:
                continue
            if not running or not (await self.state(workflow_id)).ended:
                pilots.append(workflow_id)
        return pilots

    async def status(self, workflow_id: str) -> PilotStatus:
        """Where the pilot stands: phases, tasks, decisions, pause or withdrawal, steps that failed for good, and
        what it waits for.

        A status follows from the state alone, so while nothing new is recorded the same one is returned (callers
        read it, never change it): someone watching a pilot asks far more often than it changes."""
        state = await self.state(workflow_id)
        known = self._statuses.get(workflow_id)
        if known is not None and known.stream_version == state.version:
            return known
        status = self._statuses[workflow_id] = self.status_of(workflow_id, state)
        return status

    @staticmethod
    def status_of(workflow_id: str, state: MunicipalityState) -> PilotStatus:
        """The status of a state already read (`state`), for a caller that needs both."""
        return PilotStatus.of(workflow_id, _template_of(workflow_id, state), state)

    @staticmethod
    def task_of(workflow_id: str, state: MunicipalityState, task_key: str) -> TaskView | None:
        """One task of a state already read, as the pilot's status shows it; None if no task of that key has
        opened. What a check of one task needs, without building the whole status."""
        task = state.tasks.get(task_key)
        return None if task is None else TaskView.of(_template_of(workflow_id, state), state, task)


def _template_of(workflow_id: str, state: MunicipalityState) -> ProgrammeTemplate:
    try:
        return load_template(state.template_key)
    except ValueError as error:
        raise PilotError(
            f"pilot {workflow_id} uses template {state.template_key!r}: {error}", "unknown_template"
        ) from None
