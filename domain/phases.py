"""The phases a pilot moves through: deep analysis, development plan and implementation in turn, with the
inspection comparison and the decisions' follow-up beside them."""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """Main-track phases run in order; the inspection track runs beside them from the start."""

    DEEP_ANALYSIS = "djupanalys"
    DEVELOPMENT_PLAN = "skolutvecklingsplan"
    IMPLEMENTATION = "genomforande"
    INSPECTION_COMPARISON = "inspektionsjamforelse"
    DECISION_FOLLOW_UP = "beslutsuppfoljning"
    NETWORK = "natverk"
    """The cohort's network meetings: beside every phase, and never what a phase or the programme waits for."""


MAIN_TRACK: tuple[Phase, ...] = (Phase.DEEP_ANALYSIS, Phase.DEVELOPMENT_PLAN, Phase.IMPLEMENTATION)
PARALLEL_TRACKS: tuple[Phase, ...] = (Phase.INSPECTION_COMPARISON, Phase.DECISION_FOLLOW_UP)

PHASE_TITLES: dict[Phase, tuple[str, str]] = {
    Phase.DEEP_ANALYSIS: ("Djupanalys", "Deep analysis"),
    Phase.DEVELOPMENT_PLAN: ("Skolutvecklingsplan", "Development plan"),
    Phase.IMPLEMENTATION: ("Genomförande", "Implementation"),
    Phase.INSPECTION_COMPARISON: ("Jämförelse med Skolinspektionen", "Inspection comparison"),
    Phase.DECISION_FOLLOW_UP: ("Besluten justeras, anslås och vinner laga kraft", "Decisions approved, posted, final"),
    Phase.NETWORK: ("Nätverksträffar", "Network meetings"),
}
