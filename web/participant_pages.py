"""A participant's pages: their inbox, a task's form and what it opens next."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response

from access.calendar_feeds import calendar_feed_url, renew_calendar_feed
from directory import (
    get_participant,
)
from domain.follow_up import gathered_figures
from domain.kpis import kpi_name
from domain.municipalities import members_of
from domain.status import PilotStatus, TaskView
from pilots import (
    PilotError,
    complete_task,
)
from programmes import template as load_template
from web.forms import TaskContext, TaskForm, apply_action, build_form, form_data_of, shown_value, validate
from web.site import (
    ACTION_FIELD,
    FORM_TOKEN_FIELD,
    SHOWN_AS_PAGES,
    Page,
    Site,
)

log = structlog.get_logger("web")


def participant_router(site: Site) -> APIRouter:
    """A participant's pages: the inbox, the task form, the confirmation."""
    router = APIRouter(include_in_schema=False)
    pool, client, records, access, inbox = site.pool, site.client, site.records, site.access, site.inbox
    render, redirect, signed_in = site.render, site.redirect, site.signed_in
    forbidden, not_found = site.forbidden, site.not_found

    # ---- participants ---------------------------------------------------------------------------------------------

    async def inbox_page(request: Request, page: Page, *, calendar_url: str = "") -> Response:
        assert page.identity is not None
        await inbox.catch_up()
        mine = await inbox.inbox(page.identity.participant_id, status=None)
        open_tasks = [t for t in mine if t.status == "open"]
        done = sorted((t for t in mine if t.status == "completed"), key=lambda t: t.completed_at or t.opened_at)
        now = datetime.now(UTC)
        return render(
            page,
            "inbox.html",
            open_tasks=open_tasks,
            done=list(reversed(done))[:20],
            now=now,
            calendar_url=calendar_url,
        )

    router.add_api_route("/inbox", signed_in(inbox_page), methods=["GET"])

    async def calendar_feed_page(request: Request, page: Page) -> Response:
        """A new secret address of the participant's calendar feed, shown once on the inbox; the old one stops."""
        assert page.identity is not None
        secret = await renew_calendar_feed(pool, page.identity.participant_id)
        log.info("calendar feed address renewed on the web", participant_id=page.identity.participant_id)
        return await inbox_page(request, page, calendar_url=calendar_feed_url(site.web_base_url, secret))

    router.add_api_route("/calendar-feed", signed_in(calendar_feed_page), methods=["POST"])

    async def task_view(request: Request, page: Page) -> Response:
        assert page.identity is not None
        workflow_id, task_key = _task_address(request)
        status = await records.status(workflow_id)
        task = status.task(task_key)
        # A task the caller may not read is answered as one that does not exist: the answer tells no one what is there.
        if task is None or not await access.may_read_task(page.identity, workflow_id, task):
            return not_found(page)
        model = load_template(status.template_key).task(task.template_key).payload_model
        context = TaskContext(level=task.level)
        if request.method == "GET":
            data = form_data_of(task.prefill, page.language) if task.prefill else None
            return await show_task(page, status, task, build_form(model, context, data))
        if not access.may_complete(page.identity, task):
            return forbidden(page)
        posted = await request.form()
        data: dict[str, list[str]] = {}
        for name, value in posted.multi_items():
            if name not in (FORM_TOKEN_FIELD, ACTION_FIELD) and isinstance(value, str):
                data.setdefault(name, []).append(value)
        action = posted.get(ACTION_FIELD)
        if isinstance(action, str) and action:
            try:
                data = apply_action(data, action)
            except ValueError:
                return not_found(page)
            return await show_task(page, status, task, build_form(model, context, data))
        form = build_form(model, context, data)
        answer = validate(form, page.language)
        if answer is None:
            return await show_task(page, status, task, form, http_status=422)
        try:
            await complete_task(
                client, workflow_id, task_key, page.identity.participant_id, answer.model_dump(mode="json")
            )
        except PilotError as error:
            if error.code in SHOWN_AS_PAGES:
                raise
            form.errors.append(page.t("refused", why=str(error)))
            return await show_task(
                page, status, task, form, http_status=409 if error.code != "invalid_payload" else 422
            )
        log.info(
            "task completed on the web",
            workflow_id=workflow_id,
            task_key=task_key,
            participant_id=page.identity.participant_id,
            municipality=status.kommunkod,
        )
        return redirect("/done?" + urlencode({"pilot": workflow_id, "task": task_key}))

    async def show_task(
        page: Page, status: PilotStatus, task: TaskView, form: TaskForm, *, http_status: int = 200
    ) -> Response:
        assert page.identity is not None
        answering = task.status == "open" and access.may_complete(page.identity, task) and not task.automated
        assignee = await get_participant(pool, task.assignee_id)
        figures = gathered_figures(await records.state(status.workflow_id), task.key)
        return render(
            page,
            "task.html",
            status=http_status,
            pilot=status,
            task=task,
            form=form,
            answering=answering,
            assignee_name=assignee.display_name if assignee else task.assignee_id,
            may_lead=await access.leads_pilot(page.identity, status.workflow_id),
            now=datetime.now(UTC),
            figures=figures,
            gathered={code: figures.published(code) for code in members_of(status.kommunkod)} if figures else {},
            kpi_name=kpi_name,
            figure=lambda value: shown_value(value, page.language),
        )

    router.add_api_route("/pilots/{workflow_id}/tasks/{task_key:path}", signed_in(task_view), methods=["GET", "POST"])

    async def done_page(request: Request, page: Page) -> Response:
        assert page.identity is not None
        workflow_id = request.query_params.get("pilot", "")
        task_key = request.query_params.get("task", "")
        status = await records.status(workflow_id)
        task = status.task(task_key)
        if task is None or task.completed_by != page.identity.participant_id:
            return not_found(page)
        await inbox.catch_up()
        next_tasks = await inbox.inbox(page.identity.participant_id, status="open")
        return render(page, "done.html", task=task, pilot=status, next_tasks=next_tasks, now=datetime.now(UTC))

    router.add_api_route("/done", signed_in(done_page), methods=["GET"])

    return router


def _task_address(request: Request) -> tuple[str, str]:
    return request.path_params["workflow_id"], request.path_params["task_key"]
