"""People the tests put in the directory, and the Authorization headers their API tokens make."""

from __future__ import annotations

import uuid

import asyncpg

from access import Scope, issue_token
from directory import Participant, upsert_participants


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of an API token."""
    return {"Authorization": f"Bearer {token}"}


async def token_headers(pool: asyncpg.Pool, participant_id: str, scope: Scope) -> dict[str, str]:
    """The Authorization header of a new API token of `participant_id` with `scope`."""
    return bearer(await issue_token(pool, participant_id, scope))


def programme_person(participant_id: str, programme: str) -> Participant:
    """A lead of a whole programme, at SKR or the region: in the directory under the programme, not a municipality
    (synthetic)."""
    return Participant(
        participant_id=participant_id,
        programme=programme,
        role="programledare",
        display_name="Exempel Programledare (syntetisk)",
        email=f"{participant_id}@example.invalid",
    )


async def programme_lead(pool: asyncpg.Pool, programme: str, *, prefix: str = "p-skr") -> tuple[str, dict[str, str]]:
    """A new lead of a whole programme, put in the directory, and the headers of their token."""
    lead = programme_person(f"{prefix}-{uuid.uuid4().hex[:8]}", programme)
    await upsert_participants(pool, [lead])
    return lead.participant_id, await token_headers(pool, lead.participant_id, "programme_lead")
