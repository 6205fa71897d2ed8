"""SYNTHETIC task answers for the demo's simulated participants and for tests: invented, not a real pilot's.

Each function returns what a participant would submit for one task of the programme template.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Protocol

from domain.success_factors import indicators_for_level

SYNTHETIC_NOTE = "SYNTETISKT EXEMPEL / SYNTHETIC EXAMPLE"


LEVEL_BIAS = {"P": 1, "F": 0, "R": -1, "S": 0}
"""Politicians rate themselves higher than principals rate the whole: an invented, typical-looking spread."""


def self_assessment(level: str = "F") -> dict[str, Any]:
    # Weak on follow-up (SF4) and catching pupils (SF7), strong on relationships (SF5): a made-up profile.
    def score(indicator: str) -> int:
        base = 2 if indicator.startswith(("SF4", "SF7")) else 4 if indicator.startswith("SF5") else 3
        if indicator == "SF4.e":  # politicians' part in follow-up: seen very differently from each level
            base = {"P": 4, "F": 2, "R": 1, "S": 2}[level]
            return base
        if indicator.startswith(("SF1", "SF8")):  # each level sees its own leadership and goals a little brighter
            return max(1, min(4, base + LEVEL_BIAS[level]))
        return base

    return {
        "level": level,
        "scores": {i: score(i) for i in indicators_for_level(level)},
        "evidence": {"SF4.e": f"{SYNTHETIC_NOTE}: nämnden diskuterar sällan resultat per skolenhet"},
    }


def document_collection() -> dict[str, Any]:
    return {
        "documents": [
            {
                "kind": "kvalitetsrapport",
                "title": f"{SYNTHETIC_NOTE}: Kvalitetsrapport 2025",
                "reference": "BN/2025:12",
            },
            {"kind": "delegationsordning", "title": f"{SYNTHETIC_NOTE}: Delegationsordning", "reference": "BN/2024:3"},
        ]
    }


def interviews() -> dict[str, Any]:
    return {
        "groups": [
            {"level": "P", "interviewed": 5},
            {"level": "R", "interviewed": 8},
            {"level": "elever", "interviewed": 24},
        ],
        "themes": [f"{SYNTHETIC_NOTE}: eleverna efterfrågar tidigare stöd"],
    }


def consultation(function: str) -> dict[str, Any]:
    return {"supports_plan": True, "opinion": f"{SYNTHETIC_NOTE}: {function} tillstyrker planen"}


def ska_analysis() -> dict[str, Any]:
    return {
        "causes": [f"{SYNTHETIC_NOTE}: stödinsatser sätts in först i åk 9"],
        "differences_between_units": f"{SYNTHETIC_NOTE}: stora skillnader mellan de två högstadieskolorna",
    }


def ska_planning(year: int | None = None) -> dict[str, Any]:
    # In the second year the follow-up shows the plan lacks early support: the plan is revised.
    return {"priorities": [f"{SYNTHETIC_NOTE}: tidiga insatser i åk 4–6"], "plan_revision_needed": year == 2}


def plan_revision(meeting: date, organ: str) -> dict[str, Any]:
    revised = plan_draft()
    revised["goals"][0]["measures"].append("Tidiga stödinsatser i åk 4–6 (tillagd vid revideringen)")
    return {
        "decision": namnd_decision(meeting, 63, "nämnden antar den reviderade skolutvecklingsplanen", organ),
        "revised_plan": revised,
        "reason": f"{SYNTHETIC_NOTE}: uppföljningen visar att stödet kommer för sent",
    }


def measure_progress() -> dict[str, Any]:
    return {
        "status": "genomford",
        "progress": f"{SYNTHETIC_NOTE}: resultatdialoger hålls varje termin",
        "evidence": [f"{SYNTHETIC_NOTE}: protokoll från resultatdialogerna"],
    }


def change_project() -> dict[str, Any]:
    return {
        "title": f"{SYNTHETIC_NOTE}: Elevernas röst i resultatdialogen",
        "progress": f"{SYNTHETIC_NOTE}: elevråden deltar i två dialoger per år",
        "pupil_involvement": f"{SYNTHETIC_NOTE}: elever presenterar sin egen analys av enkätresultaten",
    }


def funding_applications() -> dict[str, Any]:
    return {
        "applications": [
            {
                "source": "statsbidrag",
                "name": f"{SYNTHETIC_NOTE}: Likvärdig skola",
                "amount_sek": 1200000,
                "outcome": "beviljad",
            }
        ]
    }


def strengths_weaknesses() -> dict[str, Any]:
    return {
        "strengths": [{"factor": "SF5", "text": f"{SYNTHETIC_NOTE}: förtroendefulla relationer mellan nivåerna"}],
        "positive_drivers": [{"factor": "SF2", "text": f"{SYNTHETIC_NOTE}: lärare som gärna lär av varandra"}],
        "weaknesses": [
            {"factor": "SF4", "text": f"{SYNTHETIC_NOTE}: uppföljningen når inte nämnden"},
            {"factor": "SF7", "text": f"{SYNTHETIC_NOTE}: sena insatser för elever i behov av stöd"},
        ],
        "prioritised_factors": ["SF4", "SF7"],
    }


def network_contribution() -> dict[str, Any]:
    return {
        "strengths": [f"{SYNTHETIC_NOTE}: förtroendefulla relationer mellan nämnd och förvaltning"],
        "weaknesses": [f"{SYNTHETIC_NOTE}: uppföljningen når inte nämnden"],
        "plan_goals": [f"{SYNTHETIC_NOTE}: fler elever behöriga till gymnasiet"],
        "question": f"{SYNTHETIC_NOTE}: hur får ni rektorernas analyser till nämnden?",
    }


def network_reflection() -> dict[str, Any]:
    return {
        "learned": f"{SYNTHETIC_NOTE}: en annan pilot låter rektorerna själva presentera för nämnden",
        "will_try": f"{SYNTHETIC_NOTE}: rektorerna presenterar sina analyser på nämndens möte i mars",
        "learned_from": [],
    }


def namnd_decision(meeting: date, paragraph: int, title: str, organ: str = "Bildningsnämnden") -> dict[str, Any]:
    return {
        "organ": organ,
        "meeting_date": meeting.isoformat(),
        "paragraph": paragraph,
        "diarienummer": f"BN/{meeting.year}:{100 + paragraph}",
        "decision_text": f"{SYNTHETIC_NOTE}: {title}",
    }


def plan_draft() -> dict[str, Any]:
    return {
        "period_years": 3,
        "goals": [
            {
                "title": f"{SYNTHETIC_NOTE}: fler elever i åk 9 godkända i alla ämnen",
                "addresses_factor": "SF4",
                "kpi": "N15419",
                "baseline": 71.0,
                "target": 80.0,
                "measures": ["Resultatdialoger mellan nämnd, förvaltning och rektorer varje termin"],
                "owner_role": "forvaltningschef",
            }
        ],
    }


def yearly_follow_up(year: int, prefill: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A follow-up of `year`; with the figures the system gathered (`prefill`), of their year and keeping them, or,
    where Kolada published none of them, with a figure of the municipality's own and its source."""
    progress = f"{SYNTHETIC_NOTE}: resultatdialogerna är införda på alla skolenheter"
    if prefill is None:
        return {"year": year, "kpi_values": {"N15419": 74.0}, "progress": progress}
    kpi_values = dict(prefill.get("kpi_values") or {})
    corrections = {}
    if not kpi_values:
        kpi_values = {"N15419": 74.0}
        corrections = {"N15419": f"{SYNTHETIC_NOTE}: Kolada har inget värde än; ur skolornas egen betygsstatistik"}
    return {"year": prefill["year"], "kpi_values": kpi_values, "corrections": corrections, "progress": progress}


def inspection_decision(decided_on: date) -> dict[str, Any]:
    """A regular-supervision decision with a föreläggande (deadline ~6 months ahead) and a development area."""
    return {
        "diarienummer": f"SI-{decided_on.year}:1861-SYNTETISK",
        "decided_on": decided_on.isoformat(),
        "level": "huvudman",
        "school_form": "grundskola",
        "review_type": "regelbunden_tillsyn",
        "findings": [
            {
                "area": "utveckling_av_utbildningen",
                "intervention": "forelaggande",
                "description": f"{SYNTHETIC_NOTE}: huvudmannen analyserar inte orsakerna till resultaten",
                "legal_references": ["4 kap. 3 § skollagen"],
                "deadline": (decided_on + timedelta(days=200)).isoformat(),
            },
            {
                "area": "extra_anpassningar_och_sarskilt_stod",
                "intervention": "utvecklingsomrade",
                "description": f"{SYNTHETIC_NOTE}: stödet sätts in sent",
            },
        ],
    }


def inspection_follow_up(original: dict[str, Any], decided_on: date, *, cleared: bool = True) -> dict[str, Any]:
    """Skolinspektionen's decision after follow-up: the föreläggande cleared (avhjälpt), or remaining."""
    first = original["findings"][0]
    finding = {**first, "follows_up": 0, "outcome": "avhjalpt" if cleared else "kvarstar"}
    if cleared:
        finding.pop("deadline", None)
    else:
        finding["deadline"] = (decided_on + timedelta(days=120)).isoformat()
    return {
        "diarienummer": f"{original['diarienummer']}-UPPF",
        "decided_on": decided_on.isoformat(),
        "level": original["level"],
        "school_form": original["school_form"],
        "review_type": "uppfoljning",
        "follow_up_of": original["diarienummer"],
        "findings": [finding],
    }


def decision_posting(meeting: date, today: date | None = None) -> dict[str, Any]:
    """The minutes approved a week after the meeting and posted the day after, or both today if that is sooner."""
    justering, anslag = meeting + timedelta(days=7), meeting + timedelta(days=8)
    if today is not None:
        justering, anslag = min(justering, today), min(anslag, today)
    return {"justering_date": justering.isoformat(), "anslag_date": anslag.isoformat()}


def remediation_step() -> dict[str, Any]:
    return {"done": f"{SYNTHETIC_NOTE}: steget genomfört", "evidence": [f"{SYNTHETIC_NOTE}: protokollsutdrag"]}


class OpenTask(Protocol):
    """What an answer depends on of an open task, as a pilot's status shows it."""

    @property
    def template_key(self) -> str: ...
    @property
    def level(self) -> str | None: ...
    @property
    def year(self) -> int | None: ...
    @property
    def prefill(self) -> dict[str, Any] | None: ...


def answer_to(
    task: OpenTask, today: date, *, organ: str = "Bildningsnämnden", decided_days_ago: int = 40
) -> dict[str, Any]:
    """The synthetic answer to an open task as its status shows it (its level, year and what the system prefilled)."""
    return answer_for(
        task.template_key,
        today,
        level=task.level,
        year=task.year,
        organ=organ,
        decided_days_ago=decided_days_ago,
        prefill=task.prefill,
    )


def answer_for(
    task_key: str,
    today: date,
    *,
    level: str | None = None,
    year: int | None = None,
    organ: str = "Bildningsnämnden",
    decided_days_ago: int = 40,
    prefill: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A synthetic answer for any participant task of the shipped templates (`task_key` without instance), starting
    from what the system prefilled (the task's `prefill`) where it did.

    The nämnd met `decided_days_ago` days ago and its minutes were approved and posted within the week, or today
    when the meeting was today: with 40, the appeal period is long over; with 0, every legal period runs from today,
    as it would for a secretary who records a decision on the day of the meeting."""
    paragraph = 40 + 10 * (year or 0)
    meeting = today - timedelta(days=decided_days_ago)
    answers = {
        "document_collection": document_collection,
        "interviews": interviews,
        "self_assessment": lambda: self_assessment(level or "F"),
        "strengths_weaknesses": strengths_weaknesses,
        "regional_funding_application": funding_applications,
        "analysis_reported": lambda: namnd_decision(meeting, 41, "analysen anmäls till nämnden", organ),
        "plan_draft": plan_draft,
        "consult_hr": lambda: consultation("HR"),
        "consult_finance": lambda: consultation("ekonomi"),
        "plan_adoption": lambda: namnd_decision(meeting, 57, "nämnden antar skolutvecklingsplanen", organ),
        "ska_follow_up": lambda: yearly_follow_up(today.year, prefill),
        "ska_analysis": ska_analysis,
        "ska_planning": lambda: ska_planning(year),
        "plan_revision": lambda: plan_revision(meeting, organ),
        "measure_progress": measure_progress,
        "change_project": change_project,
        "funding_application": funding_applications,
        "annual_report": lambda: namnd_decision(meeting, paragraph + 8, "årlig rapport läggs till handlingarna", organ),
        "decision_posted": lambda: decision_posting(meeting, today),
        "inspection_decision": lambda: inspection_decision(today - timedelta(days=30)),
        "remediation": remediation_step,
        "network_contribution": network_contribution,
        "network_reflection": network_reflection,
    }
    return answers[task_key]()
