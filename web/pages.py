"""The web pages: a participant's inbox and task forms, a programme lead's cohort board and municipality pages.

Server-rendered HTML with plain forms: no JavaScript and no front-end build, so a page works in any browser, with
the keyboard and a screen reader, and every action is an ordinary POST that the same checks guard as the HTTP
API's (`access.AccessPolicy`, then the workflow's own validators). Answers are validated against the task's
payload model before anything is sent, and each error is shown beside its field.

Signing in: a mailed link carries a `?token=` (see `access.sign_in`). Any page followed with one shows a page with
one button instead; pressing it posts the token to /sign-in/link, which uses the link up, opens a session, sets
its cookie and sends the browser on to the page without the token. The button's form also carries a value that
the link's page set as a cookie in the same browser, so a form on another site cannot sign anyone in (its post
carries no such cookie): nobody can swap a victim's session for one of their own.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg
import structlog
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from temporalio.client import Client

from access import (
    REFUSAL,
    AccessPolicy,
    Identity,
    form_token,
    issue_asked_for_sign_in_link,
    open_session,
    session_identity,
    sign_in_url,
)
from access.sign_in import SESSION_LIFETIME, end_all_sessions, end_session, link_holder, task_page
from adapters.mail import SmtpMailer, envelope
from directory import (
    Participant,
    get_participant,
    list_participants,
    participants_with_email,
    programme_participants,
)
from domain.appeals import DECISION_STATUS_TITLES, DecisionStatusName
from domain.control import ControlPilot
from domain.follow_up import gathered_figures
from domain.kommuner import KOMMUNER, LAN
from domain.kpis import kpi_name
from domain.moments import in_swedish_time, moment_of
from domain.municipalities import KOMMUNALFORBUND, members_of, pilot_name
from domain.network import RecordAttendance, ScheduleMeeting, held_by, meeting_id_for
from domain.phases import PHASE_TITLES
from domain.pilot_ids import PROGRAMME_PATTERN
from domain.roles import Role
from domain.status import PilotStatus, TaskView
from domain.steering import SteerTask
from eventstore import EventStore
from pilots import (
    PilotError,
    PilotRecords,
    appeal_step,
    change_roster,
    complete_task,
    control_pilot,
    record_appeal,
    roster_change,
    start_after_of,
    start_cohort,
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
from projections.inbox import InboxProjection, InboxTask
from reports.cohort_report import render_cohort_overview, summarise
from reports.pilot_report import render_pilot_charts, render_pilot_report
from web.forms import TaskContext, TaskForm, apply_action, build_form, form_data_of, shown_value, validate
from web.labels import Label
from web.texts import LANGUAGES, TEXTS, Language, text

SESSION_COOKIE = "leda_session"
LINK_COOKIE = "leda_sign_in"
"""Set by a sign-in link's page, and posted back by its button: the post comes from this browser and this site."""
LANGUAGE_COOKIE = "leda_language"
FORM_TOKEN_FIELD = "_form"
ACTION_FIELD = "_action"
"""Deadlines are shown, and read from the lead's forms, in Swedish time."""

_HERE = Path(__file__).parent
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

log = structlog.get_logger("web")

_SHOWN_AS_PAGES = ("not_found", "temporal_error")
"""Refusals `signed_in` answers with a page of their own (not found; Temporal unavailable), not on the form."""


@dataclass
class Page:
    """What every template gets: the language, the caller, and the form token of their session."""

    request: Request
    language: Language
    identity: Identity | None
    session: str

    def t(self, key: str, **values: object) -> str:
        return text(key, self.language, **values)

    def label(self, label: Label) -> str:
        return label.sv if self.language == "sv" else label.en

    def hint(self, label: Label) -> str:
        return label.hint_sv if self.language == "sv" else label.hint_en

    def title(self, item: TaskView | InboxTask) -> str:
        return item.title_sv if self.language == "sv" else item.title_en

    def phase(self, phase: Any) -> str:
        if phase is None:
            return "–"
        sv, en = PHASE_TITLES[phase]
        return sv if self.language == "sv" else en

    def decision_status(self, status: DecisionStatusName) -> str:
        sv, en = DECISION_STATUS_TITLES[status]
        return sv if self.language == "sv" else en

    @property
    def form_token(self) -> str:
        return form_token(self.session)

    def other_language_url(self) -> str:
        """The same page in the other language (its query kept, as on the confirmation page)."""
        other = "en" if self.language == "sv" else "sv"
        here = self.request.url.path + (f"?{self.request.url.query}" if self.request.url.query else "")
        return f"/language?{urlencode({'to': other, 'next': here})}"


def local(moment: datetime | None) -> str:
    return "–" if moment is None else in_swedish_time(moment)


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["local"] = local
    environment.filters["municipality"] = lambda code: f"{pilot_name(code) or code} ({code})"
    environment.filters["person"] = lambda pid, people: people[pid].display_name if pid in people else pid
    environment.globals["task_page"] = task_page
    environment.filters["url"] = lambda value: quote(str(value), safe="/@:+")
    return environment


def web_router(
    *,
    pool: asyncpg.Pool,
    client: Client,
    task_queue: str,
    records: PilotRecords,
    access: AccessPolicy,
    inbox: InboxProjection,
    web_base_url: str,
    mailer: SmtpMailer | None,
    mail_sender: str,
) -> APIRouter:
    """The pages, on the same app as the HTTP API (which keeps /api/v1 and the OpenAPI schema)."""
    router = APIRouter(include_in_schema=False)
    templates = _environment()
    store = EventStore(pool)
    secure_cookies = web_base_url.startswith("https://")
    stylesheet = (_HERE / "static" / "leda.css").read_text(encoding="utf-8")

    def render(page: Page, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        html = templates.get_template(template).render(page=page, t=page.t, **context)
        return HTMLResponse(html, status_code=status, headers=_SECURITY_HEADERS)

    def redirect(location: str) -> RedirectResponse:
        return RedirectResponse(location, status_code=303, headers=_SECURITY_HEADERS)

    def language_of(request: Request) -> Language:
        chosen = request.cookies.get(LANGUAGE_COOKIE)
        return "en" if chosen == "en" else "sv"

    async def page_for(request: Request) -> Page:
        session = request.cookies.get(SESSION_COOKIE, "")
        identity = await session_identity(pool, session) if session else None
        return Page(request, language_of(request), identity, session if identity else "")

    def set_session(response: Response, session: str, participant: Participant | None) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            session,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            httponly=True,
            secure=secure_cookies,
            samesite="lax",
        )
        if participant is not None:
            response.set_cookie(LANGUAGE_COOKIE, participant.language, max_age=365 * 86400, samesite="lax")

    def signed_in(
        handler: Callable[[Request, Page], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        """A page for signed-in callers: a mailed `?token=` signs in first; no session sends to the sign-in page."""

        async def page_handler(request: Request) -> Response:
            token = request.query_params.get("token")
            if token is not None:
                return await link_page(request, token)
            page = await page_for(request)
            if page.identity is None:
                return redirect("/sign-in?" + urlencode({"next": request.url.path}))
            if request.method == "POST":
                form = await request.form()
                sent = str(form.get(FORM_TOKEN_FIELD, ""))
                if not hmac.compare_digest(sent, page.form_token):
                    return render(
                        page,
                        "message.html",
                        status=403,
                        title=page.t("forbidden_title"),
                        message=page.t("form_expired"),
                    )
            try:
                return await handler(request, page)
            except PilotError as error:
                if error.code == "not_found":
                    return not_found(page)
                if error.code == "temporal_error":
                    return render(
                        page, "message.html", status=503, title=page.t("errors_title"), message=page.t("unavailable")
                    )
                raise

        return page_handler

    async def link_page(request: Request, token: str) -> Response:
        """A mailed link's page: one button that signs in. Fetching it uses nothing up (mail scanners fetch links)."""
        path = request.url.path
        holder = await link_holder(pool, token)
        if holder is None:
            return redirect("/sign-in?" + urlencode({"expired": "1", "next": path}))
        page = await page_for(request)
        if page.identity is not None and page.identity.participant_id == holder:
            return redirect(path)  # already signed in as the link's participant: the link stays unused
        nonce = secrets.token_urlsafe(32)
        response = render(page, "sign_in_link.html", token=token, next=path, nonce=nonce)
        response.set_cookie(
            LINK_COOKIE,
            nonce,
            max_age=3600,
            path="/sign-in/link",
            httponly=True,
            secure=secure_cookies,
            samesite="strict",
        )
        return response

    def require_reason(page: Page, reason: str) -> None:
        """A lead's step needs a reason, said so in the page's language; that it names no one (it stays in the
        pilot's record) the step itself checks, as every edge's does."""
        if not reason:
            raise PilotError(page.t("reason") + ": " + page.t("required"), "reason_required")

    def forbidden(page: Page) -> HTMLResponse:
        return render(page, "message.html", status=403, title=page.t("forbidden_title"), message=REFUSAL)

    def not_found(page: Page) -> HTMLResponse:
        return render(page, "message.html", status=404, title=page.t("not_found_title"), message=page.t("not_found"))

    # ---- frame --------------------------------------------------------------------------------------------------

    @router.get("/static/leda.css")
    async def css() -> Response:
        return Response(stylesheet, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @router.get("/")
    async def home(request: Request) -> Response:
        page = await page_for(request)
        if page.identity is None:
            return redirect("/sign-in")
        return redirect("/board" if page.identity.scope != "participant" else "/inbox")

    @router.get("/language")
    async def choose_language(request: Request, to: str = "sv", next: str = "/") -> Response:
        response = redirect(_local_path(next))
        response.set_cookie(LANGUAGE_COOKIE, to if to in LANGUAGES else "sv", max_age=365 * 86400, samesite="lax")
        return response

    # ---- signing in and out ---------------------------------------------------------------------------------

    @router.get("/sign-in")
    async def sign_in_page(request: Request, next: str = "/", expired: str = "") -> Response:
        page = await page_for(request)
        notice = page.t("link_dead") if expired else ""
        return render(page, "sign_in.html", next=_local_path(next), notice=notice, email="", error="")

    async def mail_sign_in_links(email: str, next_path: str) -> None:
        """Mail a link to everyone the directory reaches at `email`, within the page's limit (SIGN_IN_REQUESTS)."""
        assert mailer is not None
        for participant in await participants_with_email(pool, email):
            token = await issue_asked_for_sign_in_link(pool, participant.participant_id)
            if token is None:
                log.warning("sign-in link not mailed: asked for too often", participant_id=participant.participant_id)
                continue
            try:
                await mailer.send(_sign_in_mail(mail_sender, participant, sign_in_url(web_base_url, token, next_path)))
            except Exception:
                log.exception("sign-in link could not be mailed", participant_id=participant.participant_id)
                continue
            log.info("sign-in link mailed", participant_id=participant.participant_id)

    @router.post("/sign-in")
    async def ask_for_link(request: Request, background: BackgroundTasks) -> Response:
        page = await page_for(request)
        form = await request.form()
        email = str(form.get("email", "")).strip()
        next_path = _local_path(str(form.get("next", "/")))
        if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
            return render(
                page, "sign_in.html", status=422, next=next_path, notice="", email=email, error=page.t("email_invalid")
            )
        if mailer is None:
            return render(
                page, "message.html", status=503, title=page.t("sign_in_title"), message=page.t("unavailable")
            )
        # The same answer, as fast, whether or not the address is known (and whether or not its mail goes out): the
        # page must not tell who takes part. So the links are mailed after the answer is sent.
        background.add_task(mail_sign_in_links, email, next_path)
        return render(page, "sign_in.html", next=next_path, notice=page.t("link_sent"), email="", error="")

    @router.post("/sign-in/link")
    async def use_link(request: Request) -> Response:
        """The button of a link's page: uses the link up and opens a session, if this browser showed that page."""
        page = await page_for(request)
        form = await request.form()
        next_path = _local_path(str(form.get("next", "/")))
        nonce = str(form.get("nonce", ""))
        if not nonce or not hmac.compare_digest(nonce, request.cookies.get(LINK_COOKIE, "")):
            return render(
                page, "message.html", status=403, title=page.t("sign_in_title"), message=page.t("link_page_expired")
            )
        opened = await open_session(pool, str(form.get("token", "")))
        if opened is None:
            return redirect("/sign-in?" + urlencode({"expired": "1", "next": next_path}))
        if page.identity is not None:
            await end_session(pool, page.session)  # the session it replaces in this browser ends too
        session, identity = opened
        response = redirect(next_path)
        set_session(response, session, await get_participant(pool, identity.participant_id))
        response.delete_cookie(LINK_COOKIE, path="/sign-in/link")
        log.info("signed in by mailed link", participant_id=identity.participant_id)
        return response

    @router.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        """Sign out here; with `everywhere`, end every session of the participant and revoke their unused links."""
        page = await page_for(request)
        form = await request.form()
        if page.identity is not None and hmac.compare_digest(str(form.get(FORM_TOKEN_FIELD, "")), page.form_token):
            if form.get("everywhere"):
                ended = await end_all_sessions(pool, page.identity.participant_id)
                log.info("signed out everywhere", participant_id=page.identity.participant_id, sessions_ended=ended)
            else:
                await end_session(pool, page.session)
        response = redirect("/sign-in")
        response.delete_cookie(SESSION_COOKIE)
        return response

    # ---- participants ---------------------------------------------------------------------------------------------

    async def inbox_page(request: Request, page: Page) -> Response:
        assert page.identity is not None
        await inbox.catch_up()
        mine = await inbox.inbox(page.identity.participant_id, status=None)
        open_tasks = [t for t in mine if t.status == "open"]
        done = sorted((t for t in mine if t.status == "completed"), key=lambda t: t.completed_at or t.opened_at)
        now = datetime.now(UTC)
        return render(page, "inbox.html", open_tasks=open_tasks, done=list(reversed(done))[:20], now=now)

    router.add_api_route("/inbox", signed_in(inbox_page), methods=["GET"])

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
                client,
                workflow_id,
                task_key,
                page.identity.participant_id,
                answer.model_dump(mode="json"),
                reopened=task.reopened,
            )
        except PilotError as error:
            if error.code in _SHOWN_AS_PAGES:
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
            if refusal.code in _SHOWN_AS_PAGES:
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
        return HTMLResponse(html, headers=_SECURITY_HEADERS)

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
        now = datetime.now(UTC)
        try:
            delay = start_after_of(starts_on, now)
            workflow_id = await start_pilot(
                client,
                pool,
                programme=values["programme"],
                kommunkod=values["kommunkod"],
                template_key=values["template_key"],
                task_queue=task_queue,
                municipality_name=values["name"] or None,
                deciding_organ=values["organ"] or None,
                start_after=delay,
            )
        except PilotError as refusal:
            if refusal.code in _SHOWN_AS_PAGES:
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
        if delay is None:
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
        return HTMLResponse(html, headers=_SECURITY_HEADERS)

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
            if refusal.code in _SHOWN_AS_PAGES:
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
            await records.running(workflow_id)
            step = appeal_step(action=action, actor_id=actor_id, **{k: v for k, v in fields.items() if v is not None})
            await record_appeal(client, workflow_id, step)

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


def _task_address(request: Request) -> tuple[str, str]:
    return request.path_params["workflow_id"], request.path_params["task_key"]


def _local_path(path: str) -> str:
    """Only a path on this site: a sign-in must not send anyone on to another one."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


def _local_moment(value: str, *, field: str = "due_at") -> datetime:
    """A moment typed in a datetime-local field (2026-12-01T16:00, Swedish time), read as every edge reads one."""
    try:
        return moment_of(value)
    except ValueError:
        raise PilotError(
            f"{field}: skriv dag och tid som ÅÅÅÅ-MM-DD TT:MM / write the day and time as YYYY-MM-DD HH:MM",
            "invalid_input",
        ) from None


def _sign_in_mail(sender: str, participant: Participant, link: str) -> EmailMessage:
    body = (
        f"Hej {participant.display_name}!\n\nHär är din inloggningslänk till Leda för resultat. "
        f"Den gäller i en timme och loggar in en gång.\n{link}\n\n"
        "Bad du inte om länken kan du bortse från det här mejlet.\n"
    )
    if participant.language == "en":
        body += (
            f"\n-- In English --\nHello {participant.display_name},\n\nHere is your sign-in link to Lead for "
            f"Results. It is valid for an hour and signs in once.\n{link}\n\n"
            "If you did not ask for it, you can ignore this mail.\n"
        )
    subject = "Din inloggningslänk till Leda / Your sign-in link to Leda"
    return envelope(sender, (participant.display_name, participant.email), subject, body)
