"""Signing in and out, and the frame every page shares: the stylesheet, the home page, the language chosen."""

from __future__ import annotations

import hmac
from email.message import Message
from pathlib import Path
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response

from access import (
    issue_asked_for_sign_in_link,
    open_session,
    sign_in_url,
)
from access.sign_in import end_all_sessions, end_session
from adapters.mail import envelope
from directory import (
    Participant,
    get_participant,
    participants_with_email,
)
from web.site import (
    FORM_TOKEN_FIELD,
    LANGUAGE_COOKIE,
    LINK_COOKIE,
    SESSION_COOKIE,
    Site,
    local_path,
)
from web.texts import LANGUAGES

log = structlog.get_logger("web")


def sign_in_router(site: Site) -> APIRouter:
    """The pages anyone may open: the frame, and signing in by a mailed link and out."""
    router = APIRouter(include_in_schema=False)
    pool, render, redirect, page_for = site.pool, site.render, site.redirect, site.page_for
    mailer, mail_sender, web_base_url = site.mailer, site.mail_sender, site.web_base_url
    set_session = site.set_session
    stylesheet = (Path(__file__).parent / "static" / "leda.css").read_text(encoding="utf-8")

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

    @router.get("/tillganglighet")
    async def accessibility_statement(request: Request) -> Response:
        """The accessibility statement (tillgänglighetsredogörelse) the law asks for, linked from every page."""
        page = await page_for(request)
        return render(page, "accessibility.html", contact=site.accessibility_contact)

    @router.get("/language")
    async def choose_language(request: Request, to: str = "sv", next: str = "/") -> Response:
        response = redirect(local_path(next))
        response.set_cookie(LANGUAGE_COOKIE, to if to in LANGUAGES else "sv", max_age=365 * 86400, samesite="lax")
        return response

    # ---- signing in and out ---------------------------------------------------------------------------------

    @router.get("/sign-in")
    async def sign_in_page(request: Request, next: str = "/", expired: str = "") -> Response:
        page = await page_for(request)
        notice = page.t("link_dead") if expired else ""
        return render(page, "sign_in.html", next=local_path(next), notice=notice, email="", error="")

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
        next_path = local_path(str(form.get("next", "/")))
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
        next_path = local_path(str(form.get("next", "/")))
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

    return router


def _sign_in_mail(sender: str, participant: Participant, link: str) -> Message:
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
