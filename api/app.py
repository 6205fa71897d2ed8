"""The HTTP API: a participant's inbox and tasks, steering, starting pilots, inspection decisions, status.

An edge of the house: it parses input, asks the access policy (from the caller's token) who may do what,
calls the service layer (`pilots`) or reads the inbox, and renders. Whether a completion or a steering step is
right for the pilot is the workflow's decision. Every refusal of authorization is the same answer, so it
never tells a caller whose task it is. The routes stand by audience: the caller (`api.callers`), the
participant's (`api.participant_routes`) and those of leads and operations (`api.lead_routes`); the web pages
(`web.pages`) are served by the same app.
"""

import asyncpg
from fastapi import FastAPI
from temporalio.client import Client

from adapters.mail import SmtpMailer
from api.calendar import calendar_router
from api.callers import ApiServices
from api.edge import MAX_BODY_BYTES, BodyLimit, StrictTransport
from api.event_feed import event_feed_router
from api.lead_routes import lead_router
from api.participant_routes import participant_router
from api.problems import install_problem_handlers
from web.pages import web_router


def create_app(
    *,
    pool: asyncpg.Pool,
    client: Client,
    task_queue: str,
    web_base_url: str = "http://127.0.0.1:8000",
    mailer: SmtpMailer | None = None,
    mail_sender: str = "Leda <leda@example.invalid>",
    max_body_bytes: int = MAX_BODY_BYTES,
    accessibility_contact: str = "tillganglighet@example.invalid",
) -> FastAPI:
    """The API on `pool` (directory, tokens, inbox) and `client` (pilots on `task_queue`), and the web pages.

    `web_base_url` is where the pages are reached (the links in mails start with it; https also turns on HSTS and
    Secure cookies); `mailer` sends the sign-in links people ask for on the sign-in page (without one, that page says
    it cannot). A request body over `max_body_bytes` is refused with 413 before anything reads it."""
    app = FastAPI(
        title="Leda API",
        version="1",
        description="Tasks, steering and status of Leda för resultat pilots. Errors are application/problem+json.",
    )
    install_problem_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    if web_base_url.startswith("https://"):
        app.add_middleware(StrictTransport)
    api = ApiServices(pool=pool, client=client, task_queue=task_queue)
    app.include_router(participant_router(api))
    app.include_router(lead_router(api))
    app.include_router(event_feed_router(api))
    app.include_router(calendar_router(api, web_base_url=web_base_url))
    app.include_router(
        web_router(
            pool=pool,
            client=client,
            task_queue=task_queue,
            records=api.records,
            access=api.access,
            inbox=api.inbox,
            web_base_url=web_base_url,
            mailer=mailer,
            mail_sender=mail_sender,
            accessibility_contact=accessibility_contact,
        )
    )
    return app
