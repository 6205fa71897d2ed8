"""Skolinspektionen's decisions and how their findings map onto the success factors."""

from __future__ import annotations

from enum import StrEnum


class InspectionArea(StrEnum):
    """Assessment areas (bedömningsområden) of Skolinspektionen's current model of regular supervision, as
    Skolinspektionen publishes them: two at the organiser level, six at the school-unit level."""

    # Organiser level (huvudman)
    FORUTSATTNINGAR_UTBILDNINGEN = "forutsattningar_for_utbildningen"
    UTVECKLING_AV_UTBILDNINGEN = "utveckling_av_utbildningen"
    # School-unit level (skolenhet)
    UNDERVISNING_OCH_LARANDE = "undervisning_och_larande"
    EXTRA_ANPASSNINGAR = "extra_anpassningar_och_sarskilt_stod"
    BEDOMNING_OCH_BETYG = "bedomning_och_betygssattning"
    TRYGGHET_OCH_STUDIERO = "trygghet_studiero_krankande_behandling"
    FORUTSATTNINGAR_SKOLENHETEN = "forutsattningar_for_skolenheten"
    STYRNING_OCH_UTVECKLING = "styrning_och_utveckling_av_verksamheten"


class Intervention(StrEnum):
    """What the inspectorate decided about a finding: the interventions of skollagen (2010:800) 26 kap.
    (föreläggande 10 §, med vite 27 §, anmärkning 11 §, avstående 12 §), or a quality review's
    utvecklingsområde."""

    FORELAGGANDE = "forelaggande"
    FORELAGGANDE_MED_VITE = "forelaggande_med_vite"
    ANMARKNING = "anmarkning"
    AVSTAENDE = "avstaende"
    UTVECKLINGSOMRADE = "utvecklingsomrade"


class InspectionLevel(StrEnum):
    HUVUDMAN = "huvudman"
    SKOLENHET = "skolenhet"


class ReviewType(StrEnum):
    REGELBUNDEN_TILLSYN = "regelbunden_tillsyn"
    KVALITETSGRANSKNING = "kvalitetsgranskning"
    RIKTAD_TILLSYN = "riktad_tillsyn"
    UPPFOLJNING = "uppfoljning"


AREA_FACTORS: dict[InspectionArea, frozenset[str]] = {
    InspectionArea.FORUTSATTNINGAR_UTBILDNINGEN: frozenset({"SF1", "SF2", "SF6", "SF7"}),
    InspectionArea.UTVECKLING_AV_UTBILDNINGEN: frozenset({"SF1", "SF3", "SF4", "SF6", "SF8"}),
    InspectionArea.UNDERVISNING_OCH_LARANDE: frozenset({"SF2", "SF3"}),
    InspectionArea.EXTRA_ANPASSNINGAR: frozenset({"SF7"}),
    InspectionArea.BEDOMNING_OCH_BETYG: frozenset({"SF4"}),
    InspectionArea.TRYGGHET_OCH_STUDIERO: frozenset({"SF5"}),
    InspectionArea.FORUTSATTNINGAR_SKOLENHETEN: frozenset({"SF2", "SF7"}),
    InspectionArea.STYRNING_OCH_UTVECKLING: frozenset({"SF1", "SF4", "SF6"}),
}
"""Which success factors each inspection area bears on: a crosswalk Leda infers from the definitions of the
areas and the factors, not one that Skolinspektionen or SKL publishes; to be confirmed with the programme."""
