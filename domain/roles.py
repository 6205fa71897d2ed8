"""Who a task can be assigned to. Values stay Swedish: they are the municipality's own titles."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A participant's role in a pilot; tasks are assigned by role, then resolved to a participant id."""

    PROGRAMLEDARE = "programledare"  # programme lead (SKL/SKR or the region)
    POLITIKER = "politiker"  # member or chair of the nämnd
    NAMNDSEKRETERARE = "namndsekreterare"  # prepares minutes, records § and diarienummer
    FORVALTNINGSCHEF = "forvaltningschef"  # head of administration (skolchef, bildningschef)
    REKTOR = "rektor"  # principal
    HR = "hr"  # support function: personnel
    EKONOMI = "ekonomi"  # support function: finance
    ANALYTIKER = "analytiker"  # analyst or quality strategist at the förvaltning
    REGIONAL_SKOLSTODSGRUPP = "regional_skolstodsgrupp"  # the region's school support group (Örebro variant)
    KOMMUNDIREKTOR = "kommundirektor"  # head of the municipality's whole administration; the förvaltningschef's manager


LEVEL_ROLES: dict[str, Role] = {
    "P": Role.POLITIKER,
    "F": Role.FORVALTNINGSCHEF,
    "R": Role.REKTOR,
    "S": Role.HR,
}
"""The role that answers first for each assessment level: politik, förvaltning, rektorer, stödfunktioner."""

LEVEL_ROLE_GROUPS: dict[str, tuple[Role, ...]] = {
    "P": (Role.POLITIKER,),
    "F": (Role.FORVALTNINGSCHEF,),
    "R": (Role.REKTOR,),
    "S": (Role.HR, Role.EKONOMI),
}
"""Every role whose holders assess at each level: each rektor for their own school unit, and both support
functions (HR and ekonomi) at the level of the stödfunktioner."""


MANAGER_ROLE: dict[Role, Role] = {
    Role.REKTOR: Role.FORVALTNINGSCHEF,
    Role.ANALYTIKER: Role.FORVALTNINGSCHEF,
    Role.HR: Role.FORVALTNINGSCHEF,
    Role.EKONOMI: Role.FORVALTNINGSCHEF,
    Role.NAMNDSEKRETERARE: Role.FORVALTNINGSCHEF,
    Role.FORVALTNINGSCHEF: Role.KOMMUNDIREKTOR,  # an official answers to an official, never to a politician
}
"""Whose line manager an overdue task also escalates to, by the holder's role, where the directory names none."""

MANAGER_ROLE_FIRST_EDITION: dict[Role, Role] = {
    **MANAGER_ROLE,
    Role.FORVALTNINGSCHEF: Role.POLITIKER,
}
"""The line managers of runs that began before escalations followed the directory (domain.rulebook)."""

PROGRAMME_ROLES: frozenset[Role] = frozenset({Role.PROGRAMLEDARE, Role.REGIONAL_SKOLSTODSGRUPP})
"""Roles a person of a whole programme (at SKR or the region, not in one municipality) may hold."""
