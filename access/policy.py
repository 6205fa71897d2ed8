"""Who may see and do what, decided at the edge (HTTP API and CLI alike) before any Update is sent.

From the programme's rules: a participant sees and completes only their own tasks and those delegated to
them; a programme lead steers the pilots they lead; operations staff read everything and change no one's tasks,
but control the workflows themselves (pause, resume, withdraw, retry, terminate).

Who leads a pilot is the pilot's own roster, as its record folds it (the lead it started with, and every
`RosterChanged` since): the same definition the workflow's validators use. The directory decides only who may start
a pilot: a municipality's own lead for its pilots, a programme's lead (at SKR or the region) for any municipality's
pilot in that programme.

The checks that need the directory or the inbox happen here; the workflow's validators check the assignee
and the task's state again, so a check here is about never showing or sending anything on behalf of someone
who may not.
"""

from __future__ import annotations

from typing import Protocol

import asyncpg

from access.tokens import Identity
from directory import get_participant
from domain.inspection import INSPECTION_REGISTRARS
from domain.pilot_ids import PilotId
from domain.roles import Role
from domain.status import PilotStatus, TaskView
from domain.steering import SteeringAction
from programmes.cohorts import Cohort
from projections.inbox import InboxProjection

REFUSAL = "du får inte göra detta / you may not do this; ask the pilot's programme lead if you think you should"
"""The one answer to every refused authorization, at every edge: it must not tell a caller whose task it is."""

# A participant acting on their own task may only hand it on or take it back; moving it to someone of the
# lead's choosing, or moving its deadline, is the programme lead's.
HOLDER_ACTIONS: frozenset[SteeringAction] = frozenset({"delegate", "stand_in", "return"})


def pilot_kommunkod(workflow_id: str) -> str | None:
    """The municipality a pilot's workflow id names (`PilotId`), or None for a foreign id."""
    pilot = PilotId.parse(workflow_id)
    return pilot.code if pilot else None


class Rosters(Protocol):
    """Where a pilot's roster is read: its record, folded (pilots.PilotRecords)."""

    async def roster(self, workflow_id: str) -> dict[Role, list[str]] | None:
        """Who holds each role of the pilot now, or None if no pilot of that id is on record."""
        ...

    async def of_programme(self, programme: str, *, running: bool = False) -> list[str]:
        """The pilots of exactly `programme` on record; with `running`, those that have not ended."""
        ...


class AccessPolicy:
    """The rules of who may do what, over the directory (`pool`), the pilots' rosters and the task inbox."""

    def __init__(self, pool: asyncpg.Pool, rosters: Rosters) -> None:
        self._pool = pool
        self._rosters = rosters
        self._inbox = InboxProjection(pool)

    async def leads_pilot(self, identity: Identity, workflow_id: str) -> bool:
        """Is the caller, by token a programme lead, one of the pilot's leads by its roster?"""
        if identity.scope != "programme_lead" or PilotId.parse(workflow_id) is None:
            return False
        roster = await self._rosters.roster(workflow_id)
        return roster is not None and identity.participant_id in roster.get(Role.PROGRAMLEDARE, [])

    async def pilots_led_in(self, identity: Identity, programme: str, *, running: bool = False) -> list[str]:
        """The pilots of `programme` on record the caller leads (with `running`, those that have not ended): what a
        network meeting of the programme is sent to. None at all is a lead acting outside their programmes."""
        pilots = await self._rosters.of_programme(programme, running=running)
        return [w for w in pilots if await self.leads_pilot(identity, w)]

    async def pilots_reported_in(self, identity: Identity, programme: str) -> list[str]:
        """The pilots of `programme` whose records a cohort report shows the caller: every one for operations, their
        own for a lead (as for a pilot's history)."""
        return [w for w in await self._rosters.of_programme(programme) if await self.may_read_history(identity, w)]

    async def delegated_by(self, identity: Identity, workflow_id: str, task_key: str) -> bool:
        """Did the caller hand this task to its current holder? (The status does not say; the inbox does.)"""
        await self._inbox.catch_up()
        row = await self._inbox.task(workflow_id, task_key)
        return row is not None and row.delegated_from == identity.participant_id

    async def may_read_task(self, identity: Identity, workflow_id: str, task: TaskView) -> bool:
        """Its holder, whoever handed it on, the pilot's lead, operations, and whom it was escalated to: a line
        manager an overdue task reached may open it from the mail, to read it."""
        return (
            identity.scope == "operations"
            or task.assignee_id == identity.participant_id
            or identity.participant_id in task.escalated_to
            or await self.leads_pilot(identity, workflow_id)
            or await self.delegated_by(identity, workflow_id, task.key)
        )

    def may_complete(self, identity: Identity, task: TaskView) -> bool:
        """Only the holder answers, and never with a read-only (operations) identity."""
        return identity.scope != "operations" and task.assignee_id == identity.participant_id

    async def may_steer(self, identity: Identity, workflow_id: str, task: TaskView, action: SteeringAction) -> bool:
        if identity.scope == "operations":
            return False
        if await self.leads_pilot(identity, workflow_id):
            return True
        if action not in HOLDER_ACTIONS:
            return False
        holds = task.assignee_id == identity.participant_id
        return holds or (action == "return" and await self.delegated_by(identity, workflow_id, task.key))

    async def may_change_roster(self, identity: Identity, workflow_id: str) -> bool:
        """Who holds a role from now on is the pilot's lead's to say; operations change no one's tasks."""
        return await self.leads_pilot(identity, workflow_id)

    async def may_record_appeal(self, identity: Identity, workflow_id: str) -> bool:
        """An appeal of the nämnd's decision, or the court's outcome, is recorded by the pilot's lead."""
        return await self.leads_pilot(identity, workflow_id)

    async def may_start(self, identity: Identity, kommunkod: str, programme: str) -> bool:
        """A programme lead of the directory: a municipality's own for its pilots, a programme's for any municipality's
        pilot in that programme (and no other)."""
        if identity.scope != "programme_lead":
            return False
        me = await get_participant(self._pool, identity.participant_id)
        if me is None or me.role != Role.PROGRAMLEDARE:
            return False
        return me.programme == programme if me.programme is not None else me.kommunkod == kommunkod

    async def not_led_in(self, identity: Identity, cohort: Cohort) -> list[str]:
        """The pilots of a cohort the caller may not start; a cohort is started all or nothing, by the lead of every
        pilot in it (a cohort half started by one lead is not what anyone planned)."""
        return [p.kommunkod for p in cohort.pilots if not await self.may_start(identity, p.kommunkod, cohort.programme)]

    async def may_register_inspection(self, identity: Identity, workflow_id: str) -> bool:
        """The pilot's lead, or whoever holds one of the registrar roles in its roster (its analysts, its head of
        administration, the region's support group)."""
        if identity.scope == "operations":
            return False
        roster = await self._rosters.roster(workflow_id) if PilotId.parse(workflow_id) is not None else None
        if roster is None:
            return False
        return await self.leads_pilot(identity, workflow_id) or any(
            identity.participant_id in roster.get(role, []) for role in INSPECTION_REGISTRARS
        )

    async def may_control(self, identity: Identity, workflow_id: str, action: str) -> bool:
        """Pause, resume, withdraw, retry: operations and the pilot's lead; terminate: operations alone.

        Operations change no one's tasks, but keeping the workflows running is theirs."""
        if identity.scope == "operations":
            return True
        return action != "terminate" and await self.leads_pilot(identity, workflow_id)

    def may_list_pilots(self, identity: Identity) -> bool:
        """Who may ask for a listing of pilots at all: operations, and programme leads (each pilot shown as `may_list`
        says); anyone else is refused, not shown an empty list."""
        return identity.scope in ("operations", "programme_lead")

    async def may_list(self, identity: Identity, workflow_id: str) -> bool:
        """Which pilots show in a listing: every one for operations, their own pilots for a lead."""
        return identity.scope == "operations" or await self.leads_pilot(identity, workflow_id)

    async def may_read_history(self, identity: Identity, workflow_id: str) -> bool:
        """A pilot's whole record: for operations and the pilot's lead."""
        return identity.scope == "operations" or await self.leads_pilot(identity, workflow_id)

    async def status_for(self, identity: Identity, status: PilotStatus) -> PilotStatus | None:
        """The part of a pilot's status the caller may see, or None when they may see none of it.

        Operations and the pilot's lead see every task; a participant who takes part sees the pilot's phases
        and decisions (public records of the nämnd) and only the tasks they hold, completed or handed on.
        """
        if identity.scope == "operations" or await self.leads_pilot(identity, status.workflow_id):
            return status
        me = identity.participant_id
        await self._inbox.catch_up()
        handed_on = await self._inbox.handed_on_by(me, status.workflow_id)
        own = [t for t in status.tasks if me in (t.assignee_id, t.completed_by) or t.key in handed_on]
        if not own:
            return None
        visible = {t.key for t in own}
        # What the pilot waits for, as far as it is theirs to see: their own tasks, the timers and appeals (public
        # records of the nämnd), a pause; not other people's tasks, nor the steps operations are to retry.
        waits = [
            w for w in status.waiting_for if (w.task_key is None or w.task_key in visible) and w.kind != "failed_step"
        ]
        return status.model_copy(update={"tasks": own, "waiting_for": waits, "failed_steps": []})
