"""Simulated participants who keep trying: while a worker, PostgreSQL or Temporal is down they retry, as people
facing a service that does not answer would, and they never send one completion twice as two different requests.

Each answer is fixed the first time its task is seen, so a retried completion is the same request with the same
Update id (`pilots.complete_task` derives the id from the request): Temporal answers it with the first outcome.
Once the pilot has continued as new, the new run does not know that Update id; its validator then refuses the
completion as already completed (or the decision as already registered), which for a retried request means the
first attempt got through.

They see the pilot as the API shows it, from its record (`pilots.PilotRecords`), never by asking the workflow: a
Temporal query answered by a worker that has just taken over can show a completed task as still open (README:
Known limitations), and they would answer it again. While PostgreSQL is down they retry the read as well. Should
the record ever be a moment behind their own completions, the task they already completed is refused as already
completed by them, which they take as done, as they take a retry's refusal.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
from temporalio.client import Client, RPCTimeoutOrCancelledError
from temporalio.service import RPCError

from devstack import sample_payloads
from domain.phases import Phase
from domain.state import TaskStatus
from domain.status import PilotStatus, TaskView
from pilots import PilotError, PilotRecords, complete_task, register_inspection, start_pilot

T = TypeVar("T")

TRANSIENT_CODES = {"temporal_error"}
"""Refusals that mean "nobody answered", not "no": Temporal unreachable or refusing for now."""

UNANSWERED = (
    TimeoutError,
    RPCTimeoutOrCancelledError,
    RPCError,
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InterfaceError,
    # A pooled connection that PostgreSQL cut while it stood idle can fail its next query this way ("cannot switch
    # to state …; another operation is in progress"); the pool then drops it and the next attempt opens another.
    asyncpg.InternalClientError,
)
"""Errors of a request that nobody answered: Temporal or PostgreSQL down, restarting, or cutting the connection."""

PILOTS = [("1861", None), ("1864", None), ("1083+1272", "Direktionen"), ("1861", None)]
"""Kommunkod and deciding organ (when the directory of municipalities has none); 1861 twice, in two programmes."""


async def start_demo_pilots(client: Client, pool: asyncpg.Pool, *, task_queue: str, count: int, name: str) -> list[str]:
    """Start `count` pilots on the demo template (a day is 0.1 s); returns their workflow ids."""
    return [
        await start_pilot(
            client,
            pool,
            programme=f"{name}{n}-{uuid.uuid4().hex[:6]}",
            kommunkod=kommunkod,
            template_key="demo",
            task_queue=task_queue,
            deciding_organ=organ,
        )
        for n, (kommunkod, organ) in enumerate(PILOTS[:count])
    ]


@dataclass
class PersistentParticipants:
    """Everyone of one pilot, answering every open task with the synthetic answers until the pilot completes."""

    client: Client
    workflow_id: str
    records: PilotRecords
    """Where they see the pilot's status, as the API shows it: folded from its events in PostgreSQL."""
    plan_years: int | None = None
    """Shorten (or keep, None) the plan's implementation years, as a plan_draft answer can."""
    attempt_timeout: float = 10.0
    give_up_after: float = 240.0
    """How long one request is retried before the test fails: a pilot stuck for this long is a finding."""

    completed: list[str] = field(default_factory=list)
    """Task keys this simulation completed, once each, in order."""
    registered: list[str] = field(default_factory=list)
    """Diarienummer of the inspection decisions it registered."""
    retries: int = 0
    refused_as_done: int = 0
    """Retries refused because their first attempt had got through (in a run since continued as new), and
    completions refused because this simulation had made them already (the record a moment behind)."""
    _answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def play(self) -> PilotStatus:
        """Take the pilot through every phase; returns its status, as recorded, once it has ended (completed, or
        withdrawn, which these participants never ask for: the caller's audit finds it)."""
        decision: dict[str, Any] | None = None
        registrar: str | None = None
        followed_up = False
        while True:
            status = await self.status()
            if status.completed_at is not None or status.withdrawn is not None:
                return status
            today = datetime.now(UTC).date()
            for task in status.tasks:
                if task.key == "inspection_decision":
                    registrar = registrar or task.assignee_id
                if not self._answerable(task, followed_up):
                    continue
                await self.complete(task, self._answer(task, status))
            if decision is None and status.current_phase is Phase.DEVELOPMENT_PLAN and registrar is not None:
                # Skolinspektionen's decision arrives while the plan is written, as in the demo.
                decision = sample_payloads.inspection_decision(today - timedelta(days=30))
                await self.register(registrar, decision)
            if decision is not None and registrar is not None and not followed_up and status.implementation_year >= 1:
                await self.register(registrar, sample_payloads.inspection_follow_up(decision, today))
                followed_up = True
            await asyncio.sleep(0.2)

    async def status(self) -> PilotStatus:
        """The pilot's status from its record, read again while PostgreSQL does not answer."""
        status = await self._patiently(f"status of {self.workflow_id}", lambda: self.records.status(self.workflow_id))
        assert status is not None  # only a refused retry of a completion or registration gives None
        return status

    async def complete(self, task: TaskView, payload: dict[str, Any]) -> None:
        # Completed by this simulation already: the record it read was a moment behind what it did.
        made_already = task.key in self.completed

        def done_before(error: PilotError) -> bool:
            return error.code == "already_completed" and f"completed by {task.assignee_id} " in str(error)

        await self._patiently(
            f"completing {task.key} of {self.workflow_id}",
            lambda: complete_task(self.client, self.workflow_id, task.key, task.assignee_id, payload),
            done_before=done_before,
            done_already=made_already,
        )
        if not made_already:
            self.completed.append(task.key)

    async def register(self, registrar: str, decision: dict[str, Any]) -> None:
        def done_before(error: PilotError) -> bool:
            return f"decision {decision['diarienummer']} is already registered" in str(error)

        await self._patiently(
            f"registering {decision['diarienummer']} for {self.workflow_id}",
            lambda: register_inspection(self.client, self.records.pool, self.workflow_id, registrar, decision),
            done_before=done_before,
        )
        self.registered.append(decision["diarienummer"])

    @staticmethod
    def _answerable(task: TaskView, followed_up: bool) -> bool:
        if task.status is not TaskStatus.OPEN or task.automated or task.key == "inspection_decision":
            return False
        # The remediation measures are still under way when the follow-up decision comes (it closes them).
        return not (task.template_key == "remediation" and not task.key.endswith("/atgardsplan") and not followed_up)

    def _answer(self, task: TaskView, status: PilotStatus) -> dict[str, Any]:
        """The task's answer, fixed the first time: a retry must be the very same request."""
        if task.key not in self._answers:
            answer = sample_payloads.answer_to(task, datetime.now(UTC).date(), organ=status.deciding_organ)
            if task.template_key == "plan_draft" and self.plan_years is not None:
                answer["period_years"] = self.plan_years
            self._answers[task.key] = answer
        return self._answers[task.key]

    async def _patiently(
        self,
        what: str,
        call: Callable[[], Awaitable[T]],
        *,
        done_before: Callable[[PilotError], bool] = lambda _: False,
        done_already: bool = False,
    ) -> T | None:
        """`call` until it answers; None when it is refused because it was done before (`done_before`): by an
        earlier attempt that got through, or, `done_already`, by an earlier call of this simulation."""
        attempts = 0
        give_up_at = time.monotonic() + self.give_up_after
        while True:
            attempts += 1
            try:
                return await asyncio.wait_for(call(), self.attempt_timeout)
            except PilotError as error:
                if error.code not in TRANSIENT_CODES:
                    if (attempts > 1 or done_already) and done_before(error):
                        self.refused_as_done += 1
                        return None
                    raise
                last: BaseException = error
            except UNANSWERED as error:
                last = error
            if time.monotonic() > give_up_at:
                raise AssertionError(f"{what}: no answer for {self.give_up_after:.0f} s; last: {last!r}")
            self.retries += 1
            await asyncio.sleep(0.5)
