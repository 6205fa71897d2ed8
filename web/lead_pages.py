"""A programme lead's pages: the cohort board, starting pilots, a municipality's page with its steering, control
and roster forms, network meetings, appeals and the reports."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from directory import (
    get_participant,
    list_participants,
    programme_participants,
)
from domain.control import ControlPilot
from domain.kommuner import KOMMUNER, LAN
from domain.moments import moment_of
from domain.municipalities import KOMMUNALFORBUND, pilot_name
from domain.network import RecordAttendance, ScheduleMeeting, held_by, meeting_id_for
from domain.pilot_ids import PROGRAMME_PATTERN
from domain.roles import Role
from domain.steering import SteerTask
from pilots import (
    PilotError,
    appeal_step,
    change_roster,
    control_pilot,
    record_appeal,
    roster_change,
    start_cohort,
    start_moment,
    start_pilot,
    steer_task,
)
from pilots.client import record_attendance, schedule_meeting
from pilots.refusals import refusal_of
from pilots.scheduled import scheduled_pilots
from pilots.timeline import timeline
from programmes import TEMPLATES
from programmes import template as load_template
from programmes.cohorts import cohort_names, shipped_cohort
from reports.cohort_report import render_cohort_overview, summarise
from reports.pilot_report import render_pilot_charts, render_pilot_report
from web.site import (
    SECURITY_HEADERS,
    SHOWN_AS_PAGES,
    Page,
    Site,
)
from web.texts import TEXTS

log = structlog.get_logger("web")


def lead_router(site: Site) -> APIRouter:
    """A programme lead's pages."""
    router = APIRouter(include_in_schema=False)
    pool, client, records, access, inbox = site.pool, site.client, site.records, site.access, site.inbox
    render, redirect, signed_in = site.render, site.redirect, site.signed_in
    forbidden, not_found = site.forbidden, site.not_found
    task_queue, store = site.task_queue, site.store

    # ---- programme leads ------------------------------------------------------------------------------------------

    async def board_page(
        request: Request, page: Page, *, notice: str = "", error: str = "", http_status: int = 200
    ) -> Response:
        assert page.identity is not None
        if page.identity.scope != "programme_lead":
            return forbidden(page)
        now = datetime.now(UTC)
        # Scheduled pilots first: one that begins meanwhile is on record by the time the inbox is read, and shown
        # once, as begun, rather than in neither list.
        try:
            scheduled = await scheduled_pilots(client, store, led_by=page.identity.participant_id)
            scheduled_unknown = False
        except PilotError as unreachable:  # Temporal unreachable: the pilots on record are still worth showing
            log.warning("scheduled pilots left off the board", error=str(unreachable))
            scheduled, scheduled_unknown = [], True
        await inbox.catch_up()  # the board lists the pilots the inbox knows
        pilots = []
        unreadable: list[str] = []
        for workflow_id in await inbox.pilots():
            if not await access.leads_pilot(page.identity, workflow_id):
                continue
            try:
                state = await records.state(workflow_id)
                status = records.status_of(workflow_id, state)
            except (PilotError, KeyError, ValueError) as unfolded:
                # One pilot whose record does not fold (a task its template no longer has, say) must not hide the
                # others; the board names it, and operations find out why in the log.
                log.warning("pilot left off the board", workflow_id=workflow_id, error=repr(unfolded))
                unreadable.append(workflow_id)
                continue
            upcoming = sorted(
                (t for t in status.tasks if t.status == "open" and t.due_at is not None),
                key=lambda t: t.due_at or now,
            )
            pilots.append((status, summarise(state, now=now), upcoming[:3]))
        pilots.sort(key=lambda p: (p[0].municipality_name, p[0].programme))
        begun = {status.workflow_id for status, _, _ in pilots} | set(unreadable)
        scheduled = [s for s in scheduled if s.workflow_id not in begun]
        if not notice and request.query_params.get("done") == "scheduled":
            notice = page.t("done_scheduled", day=request.query_params.get("day", "")[:10])
        return render(
            page,
            "board.html",
            status=http_status,
            pilots=pilots,
            programmes=sorted({status.programme for status, _, _ in pilots}),
            scheduled=scheduled,
            scheduled_unknown=scheduled_unknown,
            unreadable=unreadable,
            notice=notice,
            error=error,
            now=now,
        )

    router.add_api_route("/board", signed_in(board_page), methods=["GET"])

    async def meeting_page(request: Request, page: Page) -> Response:
        """A network meeting for the pilots of one programme the lead leads, from the board."""
        assert page.identity is not None
        programme = request.path_params["programme"]
        led = await access.pilots_led_in(page.identity, programme, running=True)
        if not led:
            return forbidden(page)
        form = await request.form()
        title = str(form.get("title", "")).strip()
        place = str(form.get("place", "")).strip() or None
        try:
            held_at = _local_moment(str(form.get("held_at", "")), field="held_at")
            meeting = ScheduleMeeting(
                meeting_id=meeting_id_for(programme, held_at, title),
                title=title,
                held_at=held_at,
                place=place,
                actor_id=page.identity.participant_id,
            )
            outcomes = await schedule_meeting(client, pool, led, meeting)
        except ValidationError as invalid:
            return await board_page(request, page, error=refusal_of(invalid), http_status=422)
        except PilotError as refusal:
            if refusal.code in SHOWN_AS_PAGES:
                raise
            return await board_page(request, page, error=str(refusal), http_status=422)
        log.info(
            "network meeting scheduled on the web",
            programme=programme,
            meeting_id=meeting.meeting_id,
            participant_id=page.identity.participant_id,
        )
        refused = [f"{o.kommunkod}: {o.refused}" for o in outcomes if o.refused]
        notice = page.t("done_meeting", title=title, n=len(outcomes) - len(refused))
        return await board_page(request, page, notice=notice, error="; ".join(refused))

    router.add_api_route("/programmes/{programme}/meetings", signed_in(meeting_page), methods=["POST"])

    async def cohort_report_page(request: Request, page: Page) -> Response:
        """The programme's pilots side by side (those the lead leads), names hidden on request."""
        assert page.identity is not None
        programme = request.path_params["programme"]
        if re.fullmatch(PROGRAMME_PATTERN, programme) is None:
            return not_found(page)
        shown = await access.pilots_reported_in(page.identity, programme)
        if not shown:
            return forbidden(page)
        states = [await records.state(w) for w in shown]
        anonymous = request.query_params.get("anonymous") in ("1", "true")
        html = render_cohort_overview(states, generated_at=datetime.now(UTC), anonymous=anonymous)
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    router.add_api_route("/programmes/{programme}/report", signed_in(cohort_report_page), methods=["GET"])

    async def start_form(
        page: Page,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        error: str = "",
        cohort_result: dict[str, Any] | None = None,
        http_status: int = 200,
    ) -> Response:
        """The "Starta pilot" page: one municipality's pilot, or a shipped cohort the lead leads all of."""
        assert page.identity is not None
        me = await get_participant(pool, page.identity.participant_id)
        own_code = me.kommunkod if me is not None and me.programme is None else None
        defaults = {
            "programme": me.programme if me is not None and me.programme else "",
            "template_key": "lfr-skola",
            "kommunkod": own_code or "",
            "organ": "",
            "name": "",
            "starts_on": "",
        }
        # Each shipped cohort, and whether the caller leads every pilot of it (so may start it).
        cohorts = []
        for name in cohort_names():
            cohort = shipped_cohort(name)
            cohorts.append((name, cohort, not await access.not_led_in(page.identity, cohort)))
        return render(
            page,
            "start.html",
            status=http_status,
            values={**defaults, **(values or {})},
            errors=errors or {},
            error=error,
            programme_fixed=me is not None and me.programme is not None,
            templates=[
                (key, TEMPLATES[key].title_sv if page.language == "sv" else TEMPLATES[key].title_en)
                for key in sorted(TEMPLATES)
            ],
            municipalities=_municipality_choices(page, own_code),
            cohorts=cohorts,
            cohort_result=cohort_result,
        )

    async def start_page(request: Request, page: Page) -> Response:
        assert page.identity is not None
        if page.identity.scope != "programme_lead":
            return forbidden(page)
        return await start_form(page)

    async def start_submit(request: Request, page: Page) -> Response:
        assert page.identity is not None
        if page.identity.scope != "programme_lead":
            return forbidden(page)
        form = await request.form()
        if str(form.get("action", "")) == "cohort":
            return await start_whole_cohort(page, str(form.get("cohort", "")))
        values = {name: str(form.get(name, "")).strip() for name in _START_FIELDS}
        errors: dict[str, str] = {}
        starts_on = None
        if values["starts_on"]:
            try:
                starts_on = date.fromisoformat(values["starts_on"])
            except ValueError:
                errors["starts_on"] = page.t("starts_on") + ": " + page.t("date_format")
        if re.fullmatch(PROGRAMME_PATTERN, values["programme"]) is None:
            errors["programme"] = page.t("programme") + ": " + page.t("programme_hint")
        if not values["kommunkod"]:
            errors["kommunkod"] = page.t("municipality") + ": " + page.t("required")
        if errors:
            return await start_form(page, values=values, errors=errors, http_status=422)
        if not await access.may_start(page.identity, values["kommunkod"], values["programme"]):
            return forbidden(page)
        try:
            workflow_id = await start_pilot(
                client,
                pool,
                programme=values["programme"],
                kommunkod=values["kommunkod"],
                template_key=values["template_key"],
                task_queue=task_queue,
                municipality_name=values["name"] or None,
                deciding_organ=values["organ"] or None,
                starts_on=starts_on,
            )
        except PilotError as refusal:
            if refusal.code in SHOWN_AS_PAGES:
                raise
            field = str(refusal).split(":", 1)[0]
            explained = f"refused_{refusal.code}"
            message = f"{page.t(explained)} ({refusal})" if explained in TEXTS else str(refusal)
            if field in _START_FIELDS:
                errors[field] = message
            return await start_form(
                page,
                values=values,
                errors=errors,
                error="" if errors else message,
                http_status=409 if refusal.code in ("already_started", "missing_participants") else 422,
            )
        log.info(
            "pilot started on the web",
            workflow_id=workflow_id,
            municipality=values["kommunkod"],
            participant_id=page.identity.participant_id,
        )
        if start_moment(starts_on, datetime.now(UTC)) is None:
            return redirect(f"/pilots/{workflow_id}")
        return redirect("/board?" + urlencode({"done": "scheduled", "day": str(starts_on)}))

    async def start_whole_cohort(page: Page, name: str) -> Response:
        assert page.identity is not None
        try:
            cohort = shipped_cohort(name)
        except ValueError:
            return not_found(page)
        if await access.not_led_in(page.identity, cohort):
            return forbidden(page)
        now = datetime.now(UTC)
        outcomes = await start_cohort(client, pool, cohort, task_queue=task_queue)
        names = {p.kommunkod: p.shown_name for p in cohort.pilots}
        log.info(
            "cohort started on the web",
            programme=cohort.programme,
            started=sum(1 for o in outcomes if o.workflow_id),
            participant_id=page.identity.participant_id,
        )
        result = {
            "name": name,
            "outcomes": [
                {
                    "name": names[o.kommunkod],
                    "kommunkod": o.kommunkod,
                    "refused": o.refused,
                    "starts_at": now + o.starts_after,
                }
                for o in outcomes
            ],
        }
        return await start_form(page, cohort_result=result)

    router.add_api_route("/start", signed_in(start_page), methods=["GET"])
    router.add_api_route("/start", signed_in(start_submit), methods=["POST"])

    async def pilot_page(
        request: Request,
        page: Page,
        *,
        notice: str = "",
        error: str = "",
        http_status: int = 200,
    ) -> Response:
        assert page.identity is not None
        now = datetime.now(UTC)
        workflow_id = request.path_params["workflow_id"]
        if not await access.may_list(page.identity, workflow_id):
            return forbidden(page)
        state = await records.state(workflow_id)
        status = records.status_of(workflow_id, state)
        may_steer = await access.leads_pilot(page.identity, workflow_id)  # the policy's answer, as the steps ask it
        directory = [
            *await programme_participants(pool, status.programme),
            *await list_participants(pool, status.kommunkod),
        ]
        people = {p.participant_id: p for p in directory}
        entries = list(reversed(await timeline(store, workflow_id, page.language)))
        return render(
            page,
            "pilot.html",
            status=http_status,
            pilot=status,
            open_tasks=sorted(
                (t for t in status.tasks if t.status == "open"),
                key=lambda t: (t.due_at is None, t.due_at or t.opened_at),
            ),
            people=people,
            may_steer=may_steer,
            roster=[(role, state.participants[role]) for role in Role if state.participants.get(role)],
            may_appeal=await access.may_record_appeal(page.identity, workflow_id) and not state.ended,
            roles=list(Role),
            timeline=entries,
            charts=render_pilot_charts(state),
            # Held on the pilot's clock: a demo's is shortened, as its deadlines are.
            held=[m.meeting_id for m in status.meetings if held_by(load_template(status.template_key), m) <= now],
            notice=notice or _notice(page, request.query_params.get("done", "")),
            error=error,
            now=now,
        )

    router.add_api_route("/pilots/{workflow_id}", signed_in(pilot_page), methods=["GET"])

    async def report_page(request: Request, page: Page) -> Response:
        assert page.identity is not None
        workflow_id = request.path_params["workflow_id"]
        if not await access.may_list(page.identity, workflow_id):
            return forbidden(page)
        html = render_pilot_report(await records.state(workflow_id), generated_at=datetime.now(UTC))
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    router.add_api_route("/pilots/{workflow_id}/report", signed_in(report_page), methods=["GET"])

    async def lead_step(
        request: Request,
        page: Page,
        reason: str | None,
        step: Callable[[], Awaitable[object]],
        *,
        done: str,
        refused_in: str = "",
    ) -> Response:
        """A lead's step on a pilot's page: with a reason (where the step takes one), then `step`; back to the page
        saying what was `done`, or showing the refusal (after `refused_in`) on it."""
        workflow_id = request.path_params["workflow_id"]
        try:
            if reason is not None:
                require_reason(page, reason)
            await step()
        except PilotError as refusal:
            if refusal.code in SHOWN_AS_PAGES:
                raise
            return await pilot_page(request, page, error=f"{refused_in}{refusal}", http_status=422)
        return redirect(f"/pilots/{workflow_id}?done={done}")

    async def steer_page(request: Request, page: Page) -> Response:
        assert page.identity is not None
        workflow_id = request.path_params["workflow_id"]
        form = await request.form()
        action = str(form.get("action", ""))
        task_key = str(form.get("task_key", ""))
        reason = str(form.get("reason", "")).strip()
        status = await records.status(workflow_id)
        task = status.task(task_key)
        if task is None or action not in ("extend", "reassign"):
            return not_found(page)
        if not await access.may_read_task(page.identity, workflow_id, task):
            return not_found(page)
        if not await access.may_steer(page.identity, workflow_id, task, action):  # type: ignore[arg-type]
            return forbidden(page)
        actor_id = page.identity.participant_id

        async def steer() -> None:
            due_at = None
            to_participant = None
            if action == "extend":
                due_at = _local_moment(str(form.get("due_at", "")))
            else:
                to_participant = str(form.get("to_participant", "")) or None
            await steer_task(
                client,
                pool,
                workflow_id,
                SteerTask(
                    task_key=task_key,
                    actor_id=actor_id,
                    action=action,
                    reason=reason,
                    due_at=due_at,
                    to_participant=to_participant,
                ),
            )
            log.info(
                "task steered on the web",
                workflow_id=workflow_id,
                task_key=task_key,
                action=action,
                participant_id=actor_id,
                municipality=status.kommunkod,
            )

        return await lead_step(request, page, reason, steer, done=action, refused_in=f"{page.title(task)}: ")

    router.add_api_route("/pilots/{workflow_id}/steer", signed_in(steer_page), methods=["POST"])

    async def control_page(request: Request, page: Page) -> Response:
        assert page.identity is not None
        workflow_id = request.path_params["workflow_id"]
        form = await request.form()
        action = str(form.get("action", ""))
        reason = str(form.get("reason", "")).strip()
        if action not in ("pause", "resume"):
            return not_found(page)
        if not await access.may_control(page.identity, workflow_id, action):
            return forbidden(page)
        actor_id = page.identity.participant_id

        async def control() -> None:
            await control_pilot(
                client, pool, workflow_id, ControlPilot(action=action, actor_id=actor_id, reason=reason)
            )

        return await lead_step(request, page, reason, control, done=action)

    router.add_api_route("/pilots/{workflow_id}/control", signed_in(control_page), methods=["POST"])

    async def roster_page(request: Request, page: Page) -> Response:
        assert page.identity is not None
        workflow_id = request.path_params["workflow_id"]
        if not await access.may_change_roster(page.identity, workflow_id):
            return forbidden(page)
        form = await request.form()
        reason = str(form.get("reason", "")).strip()
        actor_id = page.identity.participant_id

        async def change() -> None:
            moves = {name: str(form.get(name, "")) or None for name in ("joining", "leaving")}
            roster = roster_change(role=str(form.get("role", "")), reason=reason, actor_id=actor_id, **moves)
            await change_roster(client, pool, workflow_id, roster)

        return await lead_step(request, page, reason, change, done="roster")

    router.add_api_route("/pilots/{workflow_id}/roster", signed_in(roster_page), methods=["POST"])

    async def appeal_page(request: Request, page: Page) -> Response:
        """An appeal lodged against a decision, or the court's outcome, from the decisions on the pilot's page."""
        assert page.identity is not None
        workflow_id = request.path_params["workflow_id"]
        if not await access.may_record_appeal(page.identity, workflow_id):
            return forbidden(page)
        form = await request.form()
        action = str(form.get("action", ""))
        if action not in ("lodged", "decided"):
            return not_found(page)
        fields = {
            name: str(form.get(name, "")).strip() or None
            for name in ("decision_key", "case_number", "court", "lodged_on", "outcome", "decided_on")
        }
        actor_id = page.identity.participant_id

        async def record() -> None:
            step = appeal_step(action=action, actor_id=actor_id, **{k: v for k, v in fields.items() if v is not None})
            await record_appeal(client, pool, workflow_id, step)

        return await lead_step(request, page, None, record, done="appeal" if action == "lodged" else "outcome")

    router.add_api_route("/pilots/{workflow_id}/appeals", signed_in(appeal_page), methods=["POST"])

    async def attendance_page(request: Request, page: Page) -> Response:
        """Who of the pilot attended a network meeting, from the meetings on the pilot's page."""
        assert page.identity is not None
        workflow_id = request.path_params["workflow_id"]
        if not await access.leads_pilot(page.identity, workflow_id):
            return forbidden(page)
        form = await request.form()
        attended = str(form.get("attended", "")) == "yes"
        attendees = [str(v) for v in form.getlist("attendee_ids")] if attended else []
        actor_id = page.identity.participant_id

        async def record() -> None:
            try:
                step = RecordAttendance(
                    meeting_id=request.path_params["meeting_id"],
                    attended=attended,
                    attendee_ids=attendees,
                    actor_id=actor_id,
                )
            except ValidationError as invalid:
                raise PilotError(refusal_of(invalid), "invalid_input") from None
            await record_attendance(client, workflow_id, step)

        return await lead_step(request, page, None, record, done="attendance")

    router.add_api_route(
        "/pilots/{workflow_id}/meetings/{meeting_id}/attendance", signed_in(attendance_page), methods=["POST"]
    )

    return router

    return router


_START_FIELDS = ("programme", "template_key", "kommunkod", "organ", "name", "starts_on")
"""The fields of the "Starta pilot" form, named as the HTTP API's start request and the refusals name them."""


def _municipality_choices(page: Page, own_code: str | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The register's municipalities by county, and the kommunalförbund Leda knows; only its own for a
    municipality's lead (who starts its pilots only)."""
    if own_code is not None:
        return [("", [(own_code, pilot_name(own_code) or own_code)])]
    counties: dict[str, list[tuple[str, str]]] = {}
    for code, name in KOMMUNER.items():
        counties.setdefault(LAN[code[:2]], []).append((code, name))
    return [*counties.items(), (page.t("kommunalforbund"), sorted(KOMMUNALFORBUND.items()))]


def _notice(page: Page, done: str) -> str:
    """What the lead's last step did, after the redirect that follows it."""
    steps = ("extend", "reassign", "pause", "resume", "roster", "appeal", "outcome", "attendance")
    return page.t(f"done_{done}") if done in steps else ""


def require_reason(page: Page, reason: str) -> None:
    """A lead's step needs a reason, said so in the page's language; that it names no one (it stays in the pilot's
    record) the step itself checks, as every edge's does."""
    if not reason:
        raise PilotError(page.t("reason") + ": " + page.t("required"), "reason_required")


def _local_moment(value: str, *, field: str = "due_at") -> datetime:
    """A moment typed in a datetime-local field (2026-12-01T16:00, Swedish time), read as every edge reads one."""
    try:
        return moment_of(value)
    except ValueError:
        raise PilotError(
            f"{field}: skriv dag och tid som ÅÅÅÅ-MM-DD TT:MM / write the day and time as YYYY-MM-DD HH:MM",
            "invalid_input",
        ) from None
