"""Who may see and do what, decided at the edge (HTTP API and CLI alike) before any Update is sent.

From the programme's rules: a participant sees and completes only their own tasks and those delegated to
them; programme leads steer the pilots of their municipality; operations staff read everything and change
no one's tasks, but control the workflows themselves (pause, resume, withdraw, retry, terminate).

The checks that need the directory or the inbox happen here; the workflow's validators check the assignee
and the task's state again, so a check here is about never showing or sending anything on behalf of someone
who may not.
"""

from __future__ import annotations

import asyncpg

from access.tokens import Identity
from directory import get_participant, list_participants
from domain.municipalities import check_pilot_code
from domain.roles import Role
from domain.rules import INSPECTION_REGISTRARS
from domain.steering import SteeringAction
from projections.inbox import InboxProjection
from workflows.messages import PilotStatus, TaskView

REFUSAL = "du får inte göra detta / you may not do this; ask the pilot's programme lead if you think you should"
"""The one answer to every refused authorization, at every edge: it must not tell a caller whose task it is."""

# A participant acting on their own task may only hand it on or take it back; moving it to someone of the
# lead's choosing, or moving its deadline, is the programme lead's.
HOLDER_ACTIONS: frozenset[SteeringAction] = frozenset({"delegate", "stand_in", "return"})


def pilot_kommunkod(workflow_id: str) -> str | None:
    """The municipality a pilot's workflow id names (see `pilot_workflow_id`), or None for a foreign id."""
    try:
        return check_pilot_code(workflow_id.rsplit("-", 1)[-1])
    except ValueError:  # not a pilot code, or one naming a member twice, which the directory refuses to look up
        return None


class AccessPolicy:
    """The rules of who may do what, over the directory (`pool`) and the task inbox."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._inbox = InboxProjection(pool)

    async def leads(self, identity: Identity, kommunkod: str) -> bool:
        """Is the caller a programme lead, by token, of this municipality, by the directory?"""
        if identity.scope != "programme_lead":
            return False
        participants = await list_participants(self._pool, kommunkod)
        return any(p.participant_id == identity.participant_id and p.role == Role.PROGRAMLEDARE for p in participants)

    async def leads_pilot(self, identity: Identity, workflow_id: str) -> bool:
        # From the workflow id rather than the status, which is empty until the workflow's first task has run.
        kommunkod = pilot_kommunkod(workflow_id)
        return kommunkod is not None and await self.leads(identity, kommunkod)

    async def delegated_by(self, identity: Identity, workflow_id: str, task_key: str) -> bool:
        """Did the caller hand this task to its current holder? (The status does not say; the inbox does.)"""
        await self._inbox.catch_up()
        row = await self._inbox.task(workflow_id, task_key)
        return row is not None and row.delegated_from == identity.participant_id

    async def may_read_task(self, identity: Identity, workflow_id: str, task: TaskView) -> bool:
        return (
            identity.scope == "operations"
            or task.assignee_id == identity.participant_id
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

    async def may_start(self, identity: Identity, kommunkod: str) -> bool:
        return await self.leads(identity, kommunkod)

    async def may_register_inspection(self, identity: Identity, workflow_id: str) -> bool:
        """The pilot's lead, or one of its municipality's analysts or heads of administration."""
        if identity.scope == "operations":
            return False
        if await self.leads_pilot(identity, workflow_id):
            return True
        participant = await get_participant(self._pool, identity.participant_id)
        return (
            participant is not None
            and participant.kommunkod == pilot_kommunkod(workflow_id)
            and participant.role in {role.value for role in INSPECTION_REGISTRARS}
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
