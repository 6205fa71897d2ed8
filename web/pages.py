"""The web pages: a participant's inbox and task forms, a programme lead's cohort board and municipality pages.

Server-rendered HTML with plain forms: no JavaScript and no front-end build, so a page works in any browser, with
the keyboard and a screen reader, and every action is an ordinary POST that the same checks guard as the HTTP
API's (`access.AccessPolicy`, then the workflow's own validators). Answers are validated against the task's
payload model before anything is sent, and each error is shown beside its field.

The pages stand in three routers by audience over one `web.site.Site`: signing in (`web.sign_in_pages`), the
participant's (`web.participant_pages`) and the programme lead's (`web.lead_pages`).
"""

from __future__ import annotations

import asyncpg
from fastapi import APIRouter
from temporalio.client import Client

from access import AccessPolicy
from adapters.mail import SmtpMailer
from pilots import PilotRecords
from projections.inbox import InboxProjection
from web.lead_pages import lead_router
from web.participant_pages import participant_router
from web.sign_in_pages import sign_in_router
from web.site import Site


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
    accessibility_contact: str = "tillganglighet@example.invalid",
) -> APIRouter:
    """The pages, on the same app as the HTTP API (which keeps /api/v1 and the OpenAPI schema)."""
    site = Site(
        pool=pool,
        client=client,
        task_queue=task_queue,
        records=records,
        access=access,
        inbox=inbox,
        web_base_url=web_base_url,
        mailer=mailer,
        mail_sender=mail_sender,
        accessibility_contact=accessibility_contact,
    )
    router = APIRouter(include_in_schema=False)
    for audience in (sign_in_router(site), participant_router(site), lead_router(site)):
        router.include_router(audience)
    return router
