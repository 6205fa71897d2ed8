"""`compare_with_inspection`: own weaknesses against Skolinspektionen's findings, via the AREA_FACTORS crosswalk."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from domain.events import ComparisonItem, InspectionDecisionRegistered
from domain.inspection import compare_with_inspection
from domain.inspectorate import AREA_FACTORS, InspectionArea
from domain.phases import Phase
from domain.state import MunicipalityState, TaskState, TaskStatus

AT = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)
DIARIENUMMER = "SI-2024:123"


def completed(key: str, phase: Phase, payload: dict[str, Any]) -> TaskState:
    return TaskState(
        key=key,
        template_key=key,
        phase=phase,
        status=TaskStatus.COMPLETED,
        assignee_id="p-analytiker",
        opened_at=AT,
        due_at=None,
        completed_at=AT,
        completed_by="p-analytiker",
        payload=payload,
    )


def state_with(*, weaknesses: list[str], finding_areas: list[str]) -> MunicipalityState:
    own = {
        "strengths": [{"factor": "SF5", "text": "goda relationer"}],
        "weaknesses": [{"factor": f, "text": f"svag på {f}"} for f in weaknesses],
        "positive_drivers": [{"factor": "SF5", "text": "förtroende mellan nivåerna"}],
        "prioritised_factors": weaknesses[:1],
    }
    decision = {
        "diarienummer": DIARIENUMMER,
        "decided_on": "2024-05-20",
        "level": "huvudman",
        "school_form": "grundskola",
        "review_type": "regelbunden_tillsyn",
        "findings": [
            {"area": area, "intervention": "anmarkning", "description": f"brist {i}"}
            for i, area in enumerate(finding_areas)
        ],
    }
    return MunicipalityState(
        tasks={"strengths_weaknesses": completed("strengths_weaknesses", Phase.DEEP_ANALYSIS, own)},
        inspections={
            DIARIENUMMER: InspectionDecisionRegistered(
                event_id=uuid.UUID(int=1),
                occurred_at=AT,
                diarienummer=DIARIENUMMER,
                decision=decision,
                registered_by="p-analytiker",
            )
        },
    )


def as_tuples(items: list[ComparisonItem]) -> list[tuple[str, str, list[int]]]:
    return [(i.factor, i.classification, i.finding_indexes) for i in items]


def test_weaknesses_sf4_and_sf7_against_two_findings_give_the_worked_example():
    # Finding 0, utveckling_av_utbildningen, points at SF1, SF3, SF4, SF6 and SF8;
    # finding 1, extra_anpassningar_och_sarskilt_stod, points at SF7.
    # Own weaknesses SF4 and SF7 are therefore both agreed; SF1, SF3, SF6, SF8 are the inspection's alone.
    state = state_with(
        weaknesses=["SF4", "SF7"],
        finding_areas=["utveckling_av_utbildningen", "extra_anpassningar_och_sarskilt_stod"],
    )

    assert as_tuples(compare_with_inspection(state, DIARIENUMMER)) == [
        ("SF1", "inspection_only", [0]),
        ("SF3", "inspection_only", [0]),
        ("SF4", "agreed", [0]),
        ("SF6", "inspection_only", [0]),
        ("SF7", "agreed", [1]),
        ("SF8", "inspection_only", [0]),
    ]


def test_a_weakness_no_finding_points_at_is_self_only_with_no_findings():
    state = state_with(weaknesses=["SF5"], finding_areas=["bedomning_och_betygssattning"])

    assert as_tuples(compare_with_inspection(state, DIARIENUMMER)) == [
        ("SF4", "inspection_only", [0]),
        ("SF5", "self_only", []),
    ]


def test_a_factor_several_findings_point_at_lists_each_finding_once_in_order():
    state = state_with(
        weaknesses=["SF7"],
        finding_areas=[
            "forutsattningar_for_skolenheten",
            "trygghet_studiero_krankande_behandling",
            "extra_anpassningar_och_sarskilt_stod",
        ],
    )

    assert as_tuples(compare_with_inspection(state, DIARIENUMMER)) == [
        ("SF2", "inspection_only", [0]),
        ("SF5", "inspection_only", [1]),
        ("SF7", "agreed", [0, 2]),
    ]


def test_a_decision_without_findings_leaves_every_weakness_self_only():
    state = state_with(weaknesses=["SF4", "SF7"], finding_areas=[])

    assert as_tuples(compare_with_inspection(state, DIARIENUMMER)) == [
        ("SF4", "self_only", []),
        ("SF7", "self_only", []),
    ]


def test_every_inspection_area_maps_to_at_least_one_success_factor():
    assert set(AREA_FACTORS) == set(InspectionArea)
    assert all(factors and factors <= {f"SF{n}" for n in range(1, 9)} for factors in AREA_FACTORS.values())


def test_the_pilot_records_the_comparison_of_its_own_answers(pilot):
    # The synthetic answers are the worked example: weaknesses SF4 and SF7, the same two findings.
    pilot.complete_all(
        "kpi_data_pack", "document_collection", "self_assessment", "inspection_decision", "strengths_weaknesses"
    )

    [(diarienummer, comparison)] = pilot.state.comparisons.items()
    assert diarienummer == pilot.state.tasks["inspection_decision"].payload["diarienummer"]
    assert as_tuples(comparison) == [
        ("SF1", "inspection_only", [0]),
        ("SF3", "inspection_only", [0]),
        ("SF4", "agreed", [0]),
        ("SF6", "inspection_only", [0]),
        ("SF7", "agreed", [1]),
        ("SF8", "inspection_only", [0]),
    ]
