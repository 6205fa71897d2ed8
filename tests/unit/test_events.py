"""Domain events: stored as (type, schema_version, data) and rebuilt from it without loss."""

from __future__ import annotations

import json
import typing
import uuid
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from domain.consolidation import AssessmentLevel, consolidate
from domain.events import (
    CURRENT_VERSIONS,
    AppealDecided,
    ComparisonItem,
    DecisionAppealed,
    DecisionBecameFinal,
    DecisionPosted,
    DecisionRecorded,
    DomainEvent,
    EscalationRecipient,
    Event,
    FailedStepRetried,
    ImplementationYearStarted,
    InspectionCompared,
    InspectionDecisionRegistered,
    InspectionTrackClosedWithoutDecision,
    NetworkMeetingAttendance,
    NetworkMeetingScheduled,
    PhaseCompleted,
    PhaseStarted,
    PilotCompleted,
    PilotPaused,
    PilotResumed,
    PilotStarted,
    PilotTerminated,
    PilotWithdrawn,
    RemediationEnded,
    RemediationScheduled,
    RosterChanged,
    SelfAssessmentsConsolidated,
    StepFailed,
    TaskClosed,
    TaskCompleted,
    TaskDeadlineExtended,
    TaskEscalated,
    TaskOpened,
    TaskReassigned,
    TaskReminderSent,
    TaskReopened,
    event_from_record,
    event_record,
)
from domain.phases import Phase
from domain.remediation import schedule_backwards, schedule_from_registration
from domain.roles import Role
from pilots.timeline import describe_event

AT = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)
ID = uuid.UUID(int=42)

ONE_OF_EACH: list[DomainEvent] = [
    PilotStarted(
        event_id=ID,
        occurred_at=AT,
        programme="leda-for-resultat",
        kommunkod="1861",
        municipality_name="Hallsberg",
        template_key="lfr-skola",
        deciding_organ="Bildningsnämnden",
        participants={Role.PROGRAMLEDARE: ["p-lead"], Role.REKTOR: ["p-rektor-1", "p-rektor-2"]},
    ),
    PhaseStarted(event_id=ID, occurred_at=AT, phase=Phase.DEEP_ANALYSIS),
    PhaseCompleted(event_id=ID, occurred_at=AT, phase=Phase.INSPECTION_COMPARISON),
    TaskOpened(
        event_id=ID,
        occurred_at=AT,
        task_key="self_assessment@F",
        template_key="self_assessment",
        phase=Phase.DEEP_ANALYSIS,
        assignee_id="p-chef",
        due_at=datetime(2024, 9, 23, 8, 0, tzinfo=UTC),
        level="F",
    ),
    SelfAssessmentsConsolidated(
        event_id=ID,
        occurred_at=AT,
        consolidation=consolidate(
            {AssessmentLevel.P: {"SF4.e": 4}, AssessmentLevel.R: {"SF4.e": 1}, AssessmentLevel.S: {"SF2.c": 2}}
        ),
    ),
    ImplementationYearStarted(event_id=ID, occurred_at=AT, year=2),
    TaskReminderSent(event_id=ID, occurred_at=AT, task_key="self_assessment", recipient_id="p-chef", reminder_number=2),
    TaskEscalated(
        event_id=ID,
        occurred_at=AT,
        task_key="self_assessment",
        overdue_since=AT,
        recipients=[
            EscalationRecipient(participant_id="p-lead", escalated_as="lead"),
            EscalationRecipient(participant_id="p-ordforande", escalated_as="manager"),
        ],
    ),
    TaskReassigned(
        event_id=ID,
        occurred_at=AT,
        task_key="self_assessment@R",
        from_participant="p-rektor",
        to_participant="p-tf-rektor",
        kind="delegate",
        reason="tillförordnad rektor",
        by="p-rektor",
    ),
    RosterChanged(
        event_id=ID,
        occurred_at=AT,
        role=Role.REKTOR,
        joining="p-rektor-ny",
        leaving="p-rektor",
        reason="ny rektor från 1 januari",
        by="p-lead",
    ),
    TaskDeadlineExtended(
        event_id=ID,
        occurred_at=AT,
        task_key="plan_draft",
        due_at=AT,
        previous_due_at=None,
        reason="nämnden sammanträder senare",
        by="p-lead",
    ),
    TaskCompleted(
        event_id=ID,
        occurred_at=AT,
        task_key="plan_draft",
        completed_by="p-chef",
        payload={"period_years": 3, "goals": [{"kpi": "N15419", "baseline": 71.0}]},
    ),
    DecisionRecorded(
        event_id=ID,
        occurred_at=AT,
        task_key="plan_adoption",
        organ="Bildningsnämnden",
        meeting_date=date(2016, 9, 15),
        paragraph=54,
        diarienummer="BUN/2016:360",
        justering_due=date(2016, 9, 29),
        anslag_due=date(2016, 10, 1),
        appeal_period_ends_latest=date(2016, 10, 22),
    ),
    DecisionPosted(
        event_id=ID,
        occurred_at=AT,
        decision_task_key="plan_adoption",
        justering_date=date(2016, 9, 22),
        anslag_date=date(2016, 9, 23),
        appeal_period_ends=date(2016, 10, 14),
    ),
    DecisionBecameFinal(event_id=ID, occurred_at=AT, decision_task_key="plan_adoption"),
    DecisionAppealed(
        event_id=ID,
        occurred_at=AT,
        decision_key="plan_adoption",
        court="Förvaltningsrätten i Karlstad",
        case_number="1234-16",
        lodged_on=date(2016, 10, 3),
        by="p-lead",
    ),
    AppealDecided(
        event_id=ID,
        occurred_at=AT,
        decision_key="plan_adoption",
        case_number="1234-16",
        outcome="upphavt",
        decided_on=date(2017, 1, 20),
        by="p-lead",
    ),
    InspectionDecisionRegistered(
        event_id=ID,
        occurred_at=AT,
        diarienummer="SI-2016:1234",
        decision={"diarienummer": "SI-2016:1234", "findings": []},
        registered_by="p-analys",
        overdue_findings=[0],
    ),
    InspectionTrackClosedWithoutDecision(event_id=ID, occurred_at=AT),
    RemediationScheduled(
        event_id=ID,
        occurred_at=AT,
        diarienummer="SI-2016:1234",
        finding_index=0,
        deadline=date(2016, 12, 1),
        steps=schedule_backwards(date(2016, 12, 1), today=date(2016, 8, 1)),
    ),
    RemediationScheduled(
        event_id=ID,
        occurred_at=AT,
        diarienummer="SI-2016:1235",
        finding_index=0,
        deadline=date(2016, 6, 1),
        steps=schedule_from_registration(today=date(2016, 8, 1)),
        registered_late=True,
    ),
    RemediationEnded(
        event_id=ID,
        occurred_at=AT,
        diarienummer="SI-2016:1234",
        finding_index=0,
        outcome="avhjalpt",
        by_decision="SI-2016:1234-UPPF",
    ),
    TaskClosed(event_id=ID, occurred_at=AT, task_key="remediation@SI-2016:1234#1/atgardsplan", reason="avhjälpt"),
    TaskReopened(event_id=ID, occurred_at=AT, task_key="plan_adoption", due_at=AT, reason="beslutet upphävt (1234-16)"),
    InspectionCompared(
        event_id=ID,
        occurred_at=AT,
        diarienummer="SI-2016:1234",
        items=[
            ComparisonItem(factor="SF4", classification="agreed", finding_indexes=[0]),
            ComparisonItem(factor="SF5", classification="self_only"),
        ],
    ),
    PilotCompleted(event_id=ID, occurred_at=AT),
    PilotPaused(event_id=ID, occurred_at=AT, reason="SMTP-reläet byts ut", by="p-1861-analytiker"),
    PilotResumed(event_id=ID, occurred_at=AT, reason="reläet är tillbaka", by="p-1861-analytiker"),
    PilotWithdrawn(event_id=ID, occurred_at=AT, reason="nämndbeslut om att avsluta", by="p-1861-programledare"),
    StepFailed(event_id=ID, occurred_at=AT, step="assignment mail: x → p", error="UnknownRecipient: p"),
    FailedStepRetried(
        event_id=ID, occurred_at=AT, steps=["assignment mail: x → p"], reason="adressen rättad", by="p-ops"
    ),
    PilotTerminated(event_id=ID, occurred_at=AT, reason="fel programmall", by="p-ops"),
    NetworkMeetingScheduled(
        event_id=ID,
        occurred_at=AT,
        meeting_id="2026-03-15-a1b2c3",
        title="Nätverksträff 1",
        held_at=AT,
        place="SKR",
        by="p-skr-programledare",
    ),
    NetworkMeetingAttendance(
        event_id=ID,
        occurred_at=AT,
        meeting_id="2026-03-15-a1b2c3",
        attended=True,
        attendee_ids=["p-1861-forvaltningschef"],
        by="p-skr-programledare",
    ),
]


def event_types() -> set[type]:
    union, _discriminator = typing.get_args(Event)
    return set(typing.get_args(union))


def test_the_examples_cover_every_event_type():
    assert {type(e) for e in ONE_OF_EACH} == event_types()


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: e.type)
def test_an_event_round_trips_through_its_record(event):
    event_type, schema_version, data = event_record(event)

    assert event_from_record(event_type, event.event_id, schema_version, data) == event


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: e.type)
def test_an_event_round_trips_through_json_text(event):
    # The store keeps `data` as jsonb: the record must survive being written out as text and read back.
    event_type, schema_version, data = event_record(event)

    assert event_from_record(event_type, event.event_id, schema_version, json.loads(json.dumps(data))) == event


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: e.type)
def test_an_event_record_names_its_type_and_schema_version(event):
    event_type, schema_version, _data = event_record(event)

    assert event_type == type(event).__name__
    assert schema_version == (2 if event_type == "TaskEscalated" else 1)  # TaskEscalated's shape changed once


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: e.type)
def test_the_record_data_leaves_id_type_and_version_to_their_own_columns(event):
    _type, _version, data = event_record(event)

    assert {"event_id", "type", "schema_version"}.isdisjoint(data)
    assert "occurred_at" in data


def test_every_event_carries_the_schema_version_it_is_written_in():
    assert all(e.schema_version == CURRENT_VERSIONS[e.type] for e in ONE_OF_EACH)
    assert {t for t, v in CURRENT_VERSIONS.items() if v > 1} == {"TaskEscalated"}


def test_a_record_with_an_unknown_schema_version_is_refused():
    event_type, _version, data = event_record(ONE_OF_EACH[1])

    with pytest.raises(ValidationError, match="schema_version"):
        event_from_record(event_type, ID, 2, data)


def test_a_record_of_an_unknown_type_is_refused():
    with pytest.raises(ValidationError):
        event_from_record("PilotPaused", ID, 1, {"occurred_at": AT.isoformat()})


def test_a_record_with_a_field_the_type_does_not_have_is_refused():
    event_type, version, data = event_record(ONE_OF_EACH[-1])

    with pytest.raises(ValidationError, match="note"):
        event_from_record(event_type, ID, version, data | {"note": "hej"})


def test_events_are_immutable():
    with pytest.raises(ValidationError):
        ONE_OF_EACH[1].phase = Phase.IMPLEMENTATION


def test_an_event_carries_participant_ids_never_names():
    _type, _version, data = event_record(ONE_OF_EACH[0])

    assert data["participants"] == {"programledare": ["p-lead"], "rektor": ["p-rektor-1", "p-rektor-2"]}


def test_a_started_pilot_records_its_deciding_organ():
    _type, _version, data = event_record(ONE_OF_EACH[0])

    assert data["deciding_organ"] == "Bildningsnämnden"


def test_an_opened_instance_records_its_template_task_and_level():
    _type, _version, data = event_record(ONE_OF_EACH[3])

    assert (data["task_key"], data["template_key"], data["level"], data["year"], data["subject"]) == (
        "self_assessment@F",
        "self_assessment",
        "F",
        None,
        None,
    )


def test_a_consolidation_survives_its_record_with_its_levels_and_findings():
    event = ONE_OF_EACH[4]
    event_type, version, data = event_record(event)

    rebuilt = event_from_record(event_type, ID, version, json.loads(json.dumps(data)))

    assert rebuilt.consolidation.levels == (AssessmentLevel.P, AssessmentLevel.R, AssessmentLevel.S)
    assert [f.indicator for f in rebuilt.consolidation.findings] == ["SF4.e"]


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: e.type)
def test_an_event_is_told_on_one_line_in_swedish_and_in_english(event):
    swedish, english = describe_event(event, "sv"), describe_event(event, "en")

    assert swedish == describe_event(event)  # Swedish first
    assert swedish != english
    assert "\n" not in swedish + english and swedish.strip() == swedish and english.strip() == english
