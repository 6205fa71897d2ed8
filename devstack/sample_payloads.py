"""SYNTHETIC task answers for the demo's simulated participants and for tests: invented, not a real pilot's.

Each function returns what a participant would submit for one task of the programme template.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.success_factors import INDICATOR_IDS

SYNTHETIC_NOTE = "SYNTETISKT EXEMPEL / SYNTHETIC EXAMPLE"


def self_assessment() -> dict[str, Any]:
    # Weak on follow-up (SF4) and catching pupils (SF7), strong on relationships (SF5): a made-up profile.
    scores = {i: 2 if i.startswith(("SF4", "SF7")) else 4 if i.startswith("SF5") else 3 for i in INDICATOR_IDS}
    return {
        "level": "F",
        "scores": scores,
        "evidence": {"SF4.e": f"{SYNTHETIC_NOTE}: nämnden diskuterar sällan resultat per skolenhet"},
    }


def strengths_weaknesses() -> dict[str, Any]:
    return {
        "strengths": [{"factor": "SF5", "text": f"{SYNTHETIC_NOTE}: förtroendefulla relationer mellan nivåerna"}],
        "weaknesses": [
            {"factor": "SF4", "text": f"{SYNTHETIC_NOTE}: uppföljningen når inte nämnden"},
            {"factor": "SF7", "text": f"{SYNTHETIC_NOTE}: sena insatser för elever i behov av stöd"},
        ],
        "prioritised_factors": ["SF4", "SF7"],
    }


def namnd_decision(meeting: date, paragraph: int, title: str) -> dict[str, Any]:
    return {
        "organ": "Bildningsnämnden",
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


def yearly_follow_up(year: int) -> dict[str, Any]:
    return {
        "year": year,
        "kpi_values": {"N15419": 74.0},
        "progress": f"{SYNTHETIC_NOTE}: resultatdialogerna är införda på alla skolenheter",
    }


def inspection_decision(decided_on: date) -> dict[str, Any]:
    return {
        "diarienummer": f"SI-{decided_on.year}:0000-SYNTETISK",
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
                "deadline": (decided_on + timedelta(days=120)).isoformat(),
            },
            {
                "area": "extra_anpassningar_och_sarskilt_stod",
                "intervention": "utvecklingsomrade",
                "description": f"{SYNTHETIC_NOTE}: stödet sätts in sent",
            },
        ],
    }


def inspection_action_plan(today: date) -> dict[str, Any]:
    return {
        "actions": [
            {
                "finding_index": 0,
                "measure": f"{SYNTHETIC_NOTE}: årlig resultatanalys per skolenhet till nämnden",
                "owner_role": "forvaltningschef",
                "due": (today + timedelta(days=90)).isoformat(),
            }
        ],
        "report_due": (today + timedelta(days=110)).isoformat(),
    }


def answer_for(task_key: str, today: date) -> dict[str, Any]:
    """A synthetic answer for any participant task of the shipped templates."""
    answers = {
        "self_assessment": self_assessment,
        "strengths_weaknesses": strengths_weaknesses,
        "analysis_reported": lambda: namnd_decision(today, 41, "analysen anmäls till nämnden"),
        "plan_draft": plan_draft,
        "plan_adoption": lambda: namnd_decision(today, 57, "nämnden antar skolutvecklingsplanen"),
        "yearly_follow_up": lambda: yearly_follow_up(today.year),
        "annual_report": lambda: namnd_decision(today, 88, "årlig rapport läggs till handlingarna"),
        "inspection_decision": lambda: inspection_decision(today - timedelta(days=30)),
        "inspection_action_plan": lambda: inspection_action_plan(today),
    }
    return answers[task_key]()
