"""SYNTHETIC municipalities for the fleet benchmarks: as many as Sweden has (290), none of them real.

Kommunkoder 9001-9290 belong to no municipality (the county part, 01-25, never reaches 90), their names say
they are synthetic, and each gets one invented participant for every role its template needs, with an
`example.invalid` address. Kolada has no data for these codes, so their data packs come back empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from directory import Participant, upsert_participants
from domain.template import ProgrammeTemplate

SWEDISH_MUNICIPALITIES = 290


@dataclass(frozen=True)
class SyntheticMunicipality:
    kommunkod: str
    name: str
    organ: str


def synthetic_municipalities(count: int = SWEDISH_MUNICIPALITIES) -> list[SyntheticMunicipality]:
    if not 0 < count <= 999:
        raise ValueError(f"between 1 and 999 synthetic municipalities, not {count}")
    return [
        SyntheticMunicipality(
            kommunkod=f"{9000 + number}",
            name=f"Syntetisk kommun {number:03d}",
            organ="Barn- och utbildningsnämnden (syntetisk)",
        )
        for number in range(1, count + 1)
    ]


def participant_id(kommunkod: str, role: str) -> str:
    return f"syn-{kommunkod}-{role}"


async def register_participants(
    pool: asyncpg.Pool, municipalities: list[SyntheticMunicipality], template: ProgrammeTemplate
) -> None:
    """One synthetic participant per role the template needs, in every municipality."""
    roles = sorted(role.value for role in template.roles_needed())
    await upsert_participants(
        pool,
        [
            Participant(
                participant_id=participant_id(m.kommunkod, role),
                kommunkod=m.kommunkod,
                role=role,
                display_name=f"Syntetisk {role} {m.kommunkod}",
                email=f"{role}.{m.kommunkod}@example.invalid",
            )
            for m in municipalities
            for role in roles
        ],
    )
