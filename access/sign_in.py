"""Signing in to the web pages: a mailed link opens a browser session (0014_web_sign_in, 0017).

A link's token does one thing, open a session for its participant, once, and only until it expires; it is no API
token. Following a link shows a page with one button; pressing it (a POST) uses the link up and opens a session
held by a cookie. A mail scanner that fetches every link in a mail therefore uses none of them up, and a link sent
to someone else cannot replace their session: the button's form carries a value the sign-in page set in the
visitor's own browser (see web.pages). A session ends when it expires, when its participant signs out, or when
they sign out everywhere. Links and sessions are stored as their SHA-256 only.

Who a session's participant is, and what they may do, is read from the directory at every request: a programme
lead by the directory is one on the web pages too, and an erased participant's session leads nowhere.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import quote

import asyncpg

from access.tokens import Identity, new_secret, token_hash
from domain.roles import Role

SIGN_IN_LINK_LIFETIME = timedelta(days=14)
"""A link in a task's mail: long enough for a reminder cycle (reminders come a week and a day before it is due)."""

ASKED_FOR_LINK_LIFETIME = timedelta(hours=1)
"""A link asked for on the sign-in page: the person is at their computer, waiting for it."""

SESSION_LIFETIME = timedelta(hours=12)
"""A working day; following the mail's link again opens a new one."""

SIGN_IN_REQUESTS = (3, timedelta(minutes=15))
"""How many links the sign-in page mails one participant within how long; more asks are answered alike, unmailed."""

_ISSUE_LINK = """
INSERT INTO sign_in_links (token_hash, participant_id, expires_at, asked_for)
SELECT $1, participant_id, now() + $2::interval, $4 FROM participants WHERE participant_id = $3
RETURNING participant_id
"""

# Locks the participant's row, so that asks at the same moment are counted one after the other.
_LOCK_PARTICIPANT = "SELECT 1 FROM participants WHERE participant_id = $1 FOR UPDATE"

_RECENTLY_ASKED = """
SELECT count(*) FROM sign_in_links WHERE participant_id = $1 AND asked_for AND created_at > now() - $2::interval
"""

_LIVE_LINK = """
SELECT l.participant_id FROM sign_in_links l JOIN participants p USING (participant_id)
 WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.revoked_at IS NULL AND l.expires_at > now()
"""

# Uses the link up: of two presses at the same moment, one signs in and the other finds it used.
_USE_LINK = """
UPDATE sign_in_links l SET used_at = now() FROM participants p
 WHERE l.token_hash = $1 AND p.participant_id = l.participant_id
   AND l.used_at IS NULL AND l.revoked_at IS NULL AND l.expires_at > now()
RETURNING l.participant_id, p.role
"""

_OPEN_SESSION = (
    "INSERT INTO web_sessions (session_hash, participant_id, expires_at) VALUES ($1, $2, now() + $3::interval)"
)

_SESSION = """
SELECT s.participant_id, p.role FROM web_sessions s JOIN participants p USING (participant_id)
 WHERE s.session_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now()
"""

_END_SESSION = "UPDATE web_sessions SET ended_at = now() WHERE session_hash = $1 AND ended_at IS NULL"

_END_ALL_SESSIONS = "UPDATE web_sessions SET ended_at = now() WHERE participant_id = $1 AND ended_at IS NULL"

_REVOKE_UNUSED_LINKS = """
UPDATE sign_in_links SET revoked_at = now() WHERE participant_id = $1 AND used_at IS NULL AND revoked_at IS NULL
"""


class NotInDirectory(ValueError):
    """A sign-in link was asked for someone the directory does not hold."""


async def issue_sign_in_link(
    pool: asyncpg.Pool | asyncpg.Connection,
    participant_id: str,
    *,
    lifetime: timedelta = SIGN_IN_LINK_LIFETIME,
    asked_for: bool = False,
) -> str:
    """A new sign-in token for a participant of the directory; it is returned once and stored only as its hash.

    `asked_for` marks a link asked for on the sign-in page; use `issue_asked_for_sign_in_link`, which limits them."""
    if lifetime <= timedelta(0):
        raise ValueError(f"lifetime must be positive, got {lifetime}")
    token = new_secret("leda_link_")
    issued = await pool.fetchval(_ISSUE_LINK, token_hash(token), lifetime, participant_id, asked_for)
    if issued is None:
        raise NotInDirectory(f"participant {participant_id!r} is not in the directory")
    return token


async def issue_asked_for_sign_in_link(pool: asyncpg.Pool, participant_id: str) -> str | None:
    """A link asked for on the sign-in page, or None when the participant has asked SIGN_IN_REQUESTS times already
    (or is not in the directory any more): the page then mails nothing, and answers as it always does."""
    most, within = SIGN_IN_REQUESTS
    async with pool.acquire() as connection, connection.transaction():
        if await connection.fetchval(_LOCK_PARTICIPANT, participant_id) is None:
            return None
        if await connection.fetchval(_RECENTLY_ASKED, participant_id, within) >= most:
            return None
        return await issue_sign_in_link(connection, participant_id, lifetime=ASKED_FOR_LINK_LIFETIME, asked_for=True)


def task_page(workflow_id: str, task_key: str) -> str:
    """The path of a task's page on the web pages (task keys may hold '@' and '/', as in change_project@y1/p-hr)."""
    return f"/pilots/{workflow_id}/tasks/{task_key}"


def sign_in_url(base_url: str, token: str, path: str) -> str:
    """The address of a page (`path`, absolute, like /inbox) that signs in whoever follows it with `token`."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"path must be absolute on the site, got {path!r}")
    return f"{base_url.rstrip('/')}{quote(path, safe='/@:+')}?token={token}"


async def link_holder(pool: asyncpg.Pool, link_token: str) -> str | None:
    """Whose link this is, while it can still sign in; looking does not use it up. None for a dead link."""
    if not link_token:
        return None
    participant_id: str | None = await pool.fetchval(_LIVE_LINK, token_hash(link_token))
    return participant_id


async def open_session(
    pool: asyncpg.Pool, link_token: str, *, lifetime: timedelta = SESSION_LIFETIME
) -> tuple[str, Identity] | None:
    """Use a live link up and open a session: its cookie value, and who it is for. None for a dead or used link."""
    if not link_token:
        return None
    async with pool.acquire() as connection, connection.transaction():
        row = await connection.fetchrow(_USE_LINK, token_hash(link_token))
        if row is None:
            return None
        session = new_secret("leda_session_")
        await connection.execute(_OPEN_SESSION, token_hash(session), row["participant_id"], lifetime)
    return session, _identity(row)


async def session_identity(pool: asyncpg.Pool, session: str) -> Identity | None:
    """Who holds a live session, with the scope their directory role gives; None for a dead or unknown one."""
    if not session:
        return None
    row = await pool.fetchrow(_SESSION, token_hash(session))
    return None if row is None else _identity(row)


def _identity(row: asyncpg.Record) -> Identity:
    """A participant (`participant_id`, `role`) as the web pages see them: a programme lead by their directory role."""
    scope = "programme_lead" if row["role"] == Role.PROGRAMLEDARE else "participant"
    return Identity(participant_id=row["participant_id"], scope=scope)


async def end_session(pool: asyncpg.Pool, session: str) -> None:
    """Sign out: the session's cookie leads nowhere from now on."""
    if session:
        await pool.execute(_END_SESSION, token_hash(session))


async def end_all_sessions(pool: asyncpg.Pool, participant_id: str) -> int:
    """Sign out everywhere: end every session of the participant and revoke their unused links.

    For someone who signed in on a shared computer or fears a link of theirs was read by someone else. Returns how
    many sessions ended. A link they need later, they ask for on the sign-in page."""
    async with pool.acquire() as connection, connection.transaction():
        ended: str = await connection.execute(_END_ALL_SESSIONS, participant_id)
        await connection.execute(_REVOKE_UNUSED_LINKS, participant_id)
    return int(ended.rsplit(" ", 1)[1])


def form_token(session: str) -> str:
    """The token every form of a session carries, so another site cannot post one on the participant's behalf."""
    return hashlib.sha256(f"leda-form:{session}".encode()).hexdigest()
