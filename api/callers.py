"""Who calls the HTTP API, and what they may see: the bearer token read into an `Identity`, and the one answer
for what the caller may not see (the same 404 as what does not exist, so no answer tells an outsider which pilots
and tasks there are; steps on a pilot or task the caller does see, but may not take, are a 403)."""

from dataclasses import dataclass, field
from typing import Annotated

import asyncpg
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from access import AccessPolicy, Identity, identify
from api.problems import Problem
from domain.state import MunicipalityState
from domain.status import TaskView
from pilots import PilotError, PilotRecords
from projections.inbox import InboxProjection

API_PREFIX = "/api/v1"
BEARER = HTTPBearer(auto_error=False, description="a personal API token")


@dataclass
class ApiServices:
    """What every route of the API calls: the database, the Temporal client and the read models over them."""

    pool: asyncpg.Pool
    client: Client
    task_queue: str
    inbox: InboxProjection = field(init=False)
    records: PilotRecords = field(init=False)
    access: AccessPolicy = field(init=False)

    def __post_init__(self) -> None:
        self.inbox = InboxProjection(self.pool)
        # Statuses come from the record, not from the workflows: a read wakes no worker (pilots/records.py).
        self.records = PilotRecords(self.pool)
        self.access = AccessPolicy(self.pool, self.records)

    async def caller(self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> Identity:
        """The caller, from their bearer token; 401 without a valid one."""
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None:
            raise Problem(
                401, "unauthenticated", "send your API token as 'Authorization: Bearer TOKEN'", headers=challenge
            )
        identity = await identify(self.pool, credentials.credentials)
        if identity is None:
            raise Problem(401, "unauthenticated", "the API token is unknown or revoked", headers=challenge)
        return identity

    @staticmethod
    def unseen(workflow_id: str, task_key: str | None = None) -> Problem:
        what = f"pilot {workflow_id!r}" if task_key is None else f"task {task_key!r} in pilot {workflow_id!r}"
        return Problem(404, "not_found", f"no {what} that you may see")

    async def recorded(self, workflow_id: str, task_key: str | None = None) -> MunicipalityState:
        """The pilot's state from its record; the caller's 404 when nothing is recorded of it."""
        try:
            return await self.records.state(workflow_id)
        except PilotError as error:
            if error.code == "not_found":
                raise self.unseen(workflow_id, task_key) from None
            raise

    async def seen_task(
        self, identity: Identity, workflow_id: str, state: MunicipalityState, task_key: str
    ) -> TaskView:
        """The task of the pilot's `state`, if it has opened and the caller may read it; else the caller's 404."""
        task = self.records.task_of(workflow_id, state, task_key)
        if task is None or not await self.access.may_read_task(identity, workflow_id, task):
            raise self.unseen(workflow_id, task_key)
        return task
