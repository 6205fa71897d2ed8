"""A participant's routes: their inbox, a task with the JSON schema of its answer, and completing it."""

# No `from __future__ import annotations`: FastAPI reads the route signatures, whose `Caller` is local.
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, Field

from access import Identity
from api.callers import API_PREFIX, ApiServices
from api.problems import PROBLEM_RESPONSES, Problem, forbidden
from domain.form_schemas import answer_schema
from domain.municipalities import PILOT_CODE_PATTERN
from domain.phases import Phase
from domain.rules import no_reflection_asked
from domain.status import TaskView
from pilots import (
    complete_task,
)
from programmes import template as load_template
from workflows.messages import TaskCompletion


class InboxItem(BaseModel):
    """One of the caller's tasks, as the inbox has it."""

    workflow_id: str
    task_key: str
    kommunkod: str
    programme: str
    phase: str
    template_key: str
    title_sv: str
    title_en: str
    status: str
    opened_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    delegated_from: str | None = Field(description="whom the caller acts for, when the task was delegated")


class TaskDetail(TaskView):
    """A task of a pilot, with the JSON schema of the answer that completes it."""

    workflow_id: str
    form_schema: dict[str, Any] = Field(
        description="JSON Schema of the body POSTed to .../complete, for this task of this pilot: its level's "
        "indicators, the pilot's organ, the decisions one may follow up, the figures gathered from Kolada; what it "
        "cannot state (a rule across fields) is listed in its description"
    )


def participant_router(api: ApiServices) -> APIRouter:
    """The participant's routes."""
    Caller = Annotated[Identity, Depends(api.caller)]
    client, access, inbox, records = api.client, api.access, api.inbox, api.records
    recorded, seen_task = api.recorded, api.seen_task
    router = APIRouter(prefix=API_PREFIX, responses=PROBLEM_RESPONSES)

    @router.get("/me/inbox", summary="The caller's tasks, soonest due first")
    async def my_inbox(
        identity: Caller,
        kommunkod: Annotated[str | None, Query(pattern=PILOT_CODE_PATTERN)] = None,
        phase: Phase | None = None,
        status: Literal["open", "completed", "closed", "any"] = "open",
    ) -> list[InboxItem]:
        await inbox.catch_up()
        tasks = await inbox.inbox(
            identity.participant_id, kommunkod=kommunkod, phase=phase, status=None if status == "any" else status
        )
        return [
            InboxItem(
                workflow_id=t.stream_id, **t.model_dump(exclude={"stream_id", "participant_id", "updated_position"})
            )
            for t in tasks
        ]

    @router.get("/pilots/{workflow_id}/tasks/{task_key:path}", summary="A task and the JSON schema of its answer")
    async def task_detail(workflow_id: str, task_key: str, identity: Caller) -> TaskDetail:
        state = await recorded(workflow_id, task_key)
        task = await seen_task(identity, workflow_id, state, task_key)
        payload_model = load_template(state.template_key).task(task.template_key).payload_model
        schema = answer_schema(payload_model, state, state.tasks[task_key], today=datetime.now(UTC).date())
        return TaskDetail(**task.model_dump(), workflow_id=workflow_id, form_schema=schema)

    @router.post(
        "/pilots/{workflow_id}/tasks/{task_key:path}/complete",
        summary="Complete one's own task with its answer (the body, as the task's form_schema describes)",
    )
    async def complete(
        workflow_id: str, task_key: str, identity: Caller, payload: Annotated[dict[str, Any], Body()]
    ) -> TaskCompletion:
        state = await recorded(workflow_id, task_key)
        refusal = None if task_key in state.tasks else no_reflection_asked(state.meetings, task_key)
        if refusal is not None and await access.status_for(identity, records.status_of(workflow_id, state)) is not None:
            # Someone of the pilot answering a reflection it was never asked for: say why, naming the field.
            raise Problem(422, refusal.code, refusal.message, field="task_key")
        task = await seen_task(identity, workflow_id, state, task_key)
        if not access.may_complete(identity, task):
            raise forbidden()
        # Always as the caller: the token, not the request, says who answers.
        return await complete_task(client, workflow_id, task_key, identity.participant_id, payload)

    return router
