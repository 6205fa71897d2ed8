"""Sweden's 290 municipalities, by their real kommunkoder (SCB's register, `domain.kommuner`), each with SYNTHETIC
people for the fleet benchmarks: one invented participant for every role its template needs, with an
`example.invalid` address and a name that says it is synthetic, and a synthetic deciding organ. Leda refuses a code
outside the register, so a benchmark of the whole country runs on the real codes; Kolada's data for them comes from
the synthetic Kolada server the benchmark starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from directory import Participant, upsert_participants
from domain.kommuner import KOMMUNER
from domain.template import ProgrammeTemplate

SWEDISH_MUNICIPALITIES = 290


@dataclass(frozen=True)
class SyntheticMunicipality:
    kommunkod: str
    name: str
    organ: str


def synthetic_municipalities(count: int = SWEDISH_MUNICIPALITIES) -> list[SyntheticMunicipality]:
    """The first `count` municipalities of the register, by kommunkod; synthetic people and organ."""
    if not 0 < count <= len(KOMMUNER):
        raise ValueError(f"between 1 and {len(KOMMUNER)} municipalities, not {count}")
    return [
        SyntheticMunicipality(kommunkod=code, name=KOMMUNER[code], organ="Barn- och utbildningsnämnden (syntetisk)")
        for code in sorted(KOMMUNER)[:count]
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
