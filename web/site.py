"""What every web page shares: the page a template gets (`Page`), the site's services and how a page is answered,
signed in and refused (`Site`), and the cookies and headers of every answer.

Signing in: a mailed link carries a `?token=` (see `access.sign_in`). Any page followed with one shows a page with
one button instead; pressing it posts the token to /sign-in/link, which uses the link up, opens a session, sets
its cookie and sends the browser on to the page without the token. The button's form also carries a value that
the link's page set as a cookie in the same browser, so a form on another site cannot sign anyone in (its post
carries no such cookie): nobody can swap a victim's session for one of their own.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg
import structlog
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from temporalio.client import Client

from access import (
    REFUSAL,
    AccessPolicy,
    Identity,
    form_token,
    session_identity,
)
from access.sign_in import SESSION_LIFETIME, link_holder, task_page
from adapters.mail import SmtpMailer
from directory import (
    Participant,
)
from domain.appeals import DECISION_STATUS_TITLES, DecisionStatusName
from domain.moments import in_swedish_time
from domain.municipalities import pilot_name
from domain.phases import PHASE_TITLES
from domain.status import TaskView
from eventstore import EventStore
from pilots import (
    PilotError,
    PilotRecords,
)
from projections.inbox import InboxProjection, InboxTask
from web.labels import Label
from web.texts import Language, text

SESSION_COOKIE = "leda_session"
LINK_COOKIE = "leda_sign_in"
"""Set by a sign-in link's page, and posted back by its button: the post comes from this browser and this site."""
LANGUAGE_COOKIE = "leda_language"
FORM_TOKEN_FIELD = "_form"
ACTION_FIELD = "_action"

_HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

log = structlog.get_logger("web")

SHOWN_AS_PAGES = ("not_found", "temporal_error")
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


@dataclass
class Site:
    """What every page shares: the services it calls, the templates, and how a page is answered, signed in and
    refused. Each audience's pages (`web.sign_in_pages`, `web.participant_pages`, `web.lead_pages`) are a router
    over one Site."""

    pool: asyncpg.Pool
    client: Client
    task_queue: str
    records: PilotRecords
    access: AccessPolicy
    inbox: InboxProjection
    web_base_url: str
    mailer: SmtpMailer | None
    mail_sender: str
    accessibility_contact: str = "tillganglighet@example.invalid"
    templates: Environment = field(default_factory=lambda: _environment())

    @property
    def store(self) -> EventStore:
        return EventStore(self.pool)

    @property
    def secure_cookies(self) -> bool:
        return self.web_base_url.startswith("https://")

    def render(self, page: Page, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.templates.get_template(template).render(page=page, t=page.t, **context)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    @staticmethod
    def redirect(location: str) -> RedirectResponse:
        return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)

    @staticmethod
    def language_of(request: Request) -> Language:
        chosen = request.cookies.get(LANGUAGE_COOKIE)
        return "en" if chosen == "en" else "sv"

    async def page_for(self, request: Request) -> Page:
        session = request.cookies.get(SESSION_COOKIE, "")
        identity = await session_identity(self.pool, session) if session else None
        return Page(request, self.language_of(request), identity, session if identity else "")

    def set_session(self, response: Response, session: str, participant: Participant | None) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            session,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            httponly=True,
            secure=self.secure_cookies,
            samesite="lax",
        )
        if participant is not None:
            response.set_cookie(LANGUAGE_COOKIE, participant.language, max_age=365 * 86400, samesite="lax")

    def signed_in(
        self,
        handler: Callable[[Request, Page], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        """A page for signed-in callers: a mailed `?token=` signs in first; no session sends to the sign-in page."""

        async def page_handler(request: Request) -> Response:
            token = request.query_params.get("token")
            if token is not None:
                return await self.link_page(request, token)
            page = await self.page_for(request)
            if page.identity is None:
                return self.redirect("/sign-in?" + urlencode({"next": request.url.path}))
            if request.method == "POST":
                form = await request.form()
                sent = str(form.get(FORM_TOKEN_FIELD, ""))
                if not hmac.compare_digest(sent, page.form_token):
                    return self.render(
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
                    return self.not_found(page)
                if error.code == "temporal_error":
                    return self.render(
                        page, "message.html", status=503, title=page.t("errors_title"), message=page.t("unavailable")
                    )
                raise

        return page_handler

    async def link_page(self, request: Request, token: str) -> Response:
        """A mailed link's page: one button that signs in. Fetching it uses nothing up (mail scanners fetch links)."""
        path = request.url.path
        holder = await link_holder(self.pool, token)
        if holder is None:
            return self.redirect("/sign-in?" + urlencode({"expired": "1", "next": path}))
        page = await self.page_for(request)
        if page.identity is not None and page.identity.participant_id == holder:
            return self.redirect(path)  # already signed in as the link's participant: the link stays unused
        nonce = secrets.token_urlsafe(32)
        response = self.render(page, "sign_in_link.html", token=token, next=path, nonce=nonce)
        response.set_cookie(
            LINK_COOKIE,
            nonce,
            max_age=3600,
            path="/sign-in/link",
            httponly=True,
            secure=self.secure_cookies,
            samesite="strict",
        )
        return response

    def forbidden(self, page: Page) -> HTMLResponse:
        return self.render(page, "message.html", status=403, title=page.t("forbidden_title"), message=REFUSAL)

    def not_found(self, page: Page) -> HTMLResponse:
        return self.render(
            page, "message.html", status=404, title=page.t("not_found_title"), message=page.t("not_found")
        )


def local_path(path: str) -> str:
    """Only a path on this site: a sign-in must not send anyone on to another one."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"
