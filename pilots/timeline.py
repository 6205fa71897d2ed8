"""A pilot's domain timeline, read from the event store: what happened, when, and by whom."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.events import (
    DecisionBecameFinal,
    DecisionPosted,
    DecisionRecorded,
    Event,
    FailedStepRetried,
    ImplementationYearStarted,
    InspectionCompared,
    InspectionDecisionRegistered,
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
    SelfAssessmentsConsolidated,
    TaskClosed,
    TaskCompleted,
    TaskDeadlineExtended,
    TaskEscalated,
    TaskOpened,
    TaskReassigned,
    TaskReminderSent,
    event_from_record,
)
from domain.phases import PHASE_TITLES
from eventstore import EventStore


class TimelineEntry(BaseModel):
    recorded_at: datetime
    stream_id: str
    version: int
    event_type: str
    actor: str
    summary: str
    run_id: str | None = None


def describe_event(event: Event) -> str:
    """One line in Swedish domain terms (ids, never names: the timeline is an audit record)."""
    match event:
        case PilotStarted():
            return f"{event.municipality_name} ({event.kommunkod}) startar i {event.programme} [{event.template_key}]"
        case PhaseStarted():
            return f"fas startad: {PHASE_TITLES[event.phase][0]}"
        case PhaseCompleted():
            return f"fas klar: {PHASE_TITLES[event.phase][0]}"
        case TaskOpened():
            due = f", senast {event.due_at:%Y-%m-%d %H:%M:%S}" if event.due_at else ""
            return f"uppgift öppnad: {event.task_key} → {event.assignee_id}{due}"
        case TaskReminderSent():
            return f"påminnelse {event.reminder_number}: {event.task_key} → {event.recipient_id}"
        case TaskEscalated():
            return f"eskalerad till programledaren: {event.task_key} → {event.recipient_id}"
        case TaskReassigned():
            verb = {"reassign": "omfördelad", "delegate": "delegerad", "stand_in": "ersättare", "return": "återlämnad"}
            return (
                f"uppgift {verb[event.kind]}: {event.task_key} {event.from_participant} → {event.to_participant} "
                f"av {event.by} ({event.reason})"
            )
        case TaskDeadlineExtended():
            return f"ny tidsfrist: {event.task_key} till {event.due_at:%Y-%m-%d %H:%M} av {event.by} ({event.reason})"
        case TaskCompleted():
            return f"uppgift klar: {event.task_key} av {event.completed_by}"
        case DecisionRecorded():
            return (
                f"beslut: {event.organ} {event.meeting_date} § {event.paragraph} ({event.diarienummer}); "
                f"överklagandetiden löper ut senast {event.appeal_period_ends_latest}"
            )
        case DecisionPosted():
            return (
                f"beslut {event.decision_task_key}: justerat {event.justering_date}, anslaget {event.anslag_date}; "
                f"överklagandetiden löper ut {event.appeal_period_ends}"
            )
        case DecisionBecameFinal():
            return f"beslut {event.decision_task_key} har vunnit laga kraft"
        case InspectionDecisionRegistered():
            findings = event.decision.get("findings", [])
            follows = event.decision.get("follow_up_of")
            kind = f"uppföljning av {follows}" if follows else "beslut"
            return f"Skolinspektionens {kind} {event.diarienummer} registrerat: {len(findings)} iakttagelser"
        case RemediationScheduled():
            return (
                f"åtgärder för {event.diarienummer} #{event.finding_index + 1} planerade bakåt från "
                f"{event.deadline}: " + ", ".join(f"{s.key} {s.due}" for s in event.steps)
            )
        case RemediationEnded():
            outcome = "avhjälpt" if event.outcome == "avhjalpt" else "kvarstår"
            return f"{event.diarienummer} #{event.finding_index + 1} {outcome} enligt {event.by_decision}"
        case TaskClosed():
            return f"uppgift stängd: {event.task_key} ({event.reason})"
        case InspectionCompared():
            counts: dict[str, int] = {}
            for item in event.items:
                counts[item.classification] = counts.get(item.classification, 0) + 1
            return f"jämförelse med Skolinspektionen ({event.diarienummer}): " + ", ".join(
                f"{k} {v}" for k, v in sorted(counts.items())
            )
        case SelfAssessmentsConsolidated():
            c = event.consolidation
            weakest = ", ".join(c.weakest_factors(2))
            return (
                f"självskattningar sammanställda ({', '.join(c.levels)}): svagast {weakest}; "
                f"{len(c.findings)} indikatorer med stor skillnad mellan nivåerna"
            )
        case ImplementationYearStarted():
            return f"genomförandeår {event.year} börjar"
        case PilotCompleted():
            return "piloten har gått igenom alla faser"
        case PilotPaused():
            return f"piloten pausad av {event.by} ({event.reason})"
        case PilotResumed():
            return f"piloten återupptagen av {event.by} ({event.reason})"
        case PilotWithdrawn():
            return f"kommunen har lämnat programmet; avslutat av {event.by} ({event.reason})"
        case FailedStepRetried():
            return f"nytt försök med {', '.join(event.steps)} av {event.by} ({event.reason})"
        case PilotTerminated():
            return f"arbetsflödet avbrutet (terminate) av {event.by} ({event.reason})"
    raise AssertionError(f"no description for {type(event).__name__}")


async def timeline(store: EventStore, workflow_id: str) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            recorded_at=stored.recorded_at,
            stream_id=stored.stream_id,
            version=stored.stream_version,
            event_type=stored.event_type,
            actor=str(stored.metadata.get("actor", "")),
            run_id=stored.metadata.get("run_id"),
            summary=describe_event(
                event_from_record(stored.event_type, stored.event_id, stored.schema_version, stored.data)
            ),
        )
        for stored in await store.read_stream(workflow_id)
    ]
