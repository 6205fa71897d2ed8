"""A pilot's domain timeline, read from the event store: what happened, when, and by whom."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.appeals import OUTCOME_TITLES
from domain.events import (
    AppealDecided,
    DecisionAppealed,
    DecisionBecameFinal,
    DecisionPosted,
    DecisionRecorded,
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
    event_of,
)
from domain.language import Language
from domain.moments import in_swedish_time
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


_REASSIGNED = {
    "reassign": ("omfördelad", "reassigned"),
    "delegate": ("delegerad", "delegated"),
    "stand_in": ("ersättare", "to a stand-in"),
    "return": ("återlämnad", "returned"),
}


def describe_event(event: Event, language: Language = "sv") -> str:
    """One line in domain terms, Swedish or English (ids, never names: the timeline is an audit record)."""
    sv, en = _lines(event)
    return sv if language == "sv" else en


def _lines(event: Event) -> tuple[str, str]:
    """The event's line in Swedish and in English."""
    match event:
        case PilotStarted():
            where = f"{event.municipality_name} ({event.kommunkod})"
            return (
                f"{where} startar i {event.programme} [{event.template_key}]",
                f"{where} starts in {event.programme} [{event.template_key}]",
            )
        case PhaseStarted():
            sv_phase, en_phase = PHASE_TITLES[event.phase]
            return f"fas startad: {sv_phase}", f"phase started: {en_phase}"
        case PhaseCompleted():
            sv_phase, en_phase = PHASE_TITLES[event.phase]
            return f"fas klar: {sv_phase}", f"phase completed: {en_phase}"
        case TaskOpened():
            task = f"{event.task_key} → {event.assignee_id}"
            due = in_swedish_time(event.due_at) if event.due_at else None
            return (
                f"uppgift öppnad: {task}" + (f", senast {due}" if due else ""),
                f"task opened: {task}" + (f", due {due}" if due else ""),
            )
        case TaskReminderSent():
            task = f"{event.task_key} → {event.recipient_id}"
            return f"påminnelse {event.reminder_number}: {task}", f"reminder {event.reminder_number}: {task}"
        case TaskEscalated():
            lead = ", ".join(r.participant_id for r in event.recipients if r.escalated_as == "lead")
            task = f"{event.task_key} → {lead}"
            managers = ", ".join(r.participant_id for r in event.recipients if r.escalated_as == "manager")
            return (
                f"eskalerad till programledaren: {task}" + (f", och till chefen {managers}" if managers else ""),
                f"escalated to the programme lead: {task}"
                + (f", and to the line manager {managers}" if managers else ""),
            )
        case TaskReassigned():
            sv_verb, en_verb = _REASSIGNED[event.kind]
            moved = f"{event.task_key} {event.from_participant} → {event.to_participant}"
            return (
                f"uppgift {sv_verb}: {moved} av {event.by} ({event.reason})",
                f"task {en_verb}: {moved} by {event.by} ({event.reason})",
            )
        case RosterChanged():
            role, by = event.role.value, f"({event.reason})"
            if event.joining and event.leaving:
                sv = f"{event.joining} ersätter {event.leaving} som {role}"
                en = f"{event.joining} replaces {event.leaving} as {role}"
            elif event.joining:
                sv, en = f"{event.joining} blir {role}", f"{event.joining} joins as {role}"
            else:
                sv, en = f"{event.leaving} är inte längre {role}", f"{event.leaving} is no longer {role}"
            return f"{sv}, av {event.by} {by}", f"{en}, by {event.by} {by}"
        case TaskDeadlineExtended():
            due = in_swedish_time(event.due_at)
            return (
                f"ny tidsfrist: {event.task_key} till {due} av {event.by} ({event.reason})",
                f"new deadline: {event.task_key} to {due} by {event.by} ({event.reason})",
            )
        case TaskCompleted():
            return (
                f"uppgift klar: {event.task_key} av {event.completed_by}",
                f"task completed: {event.task_key} by {event.completed_by}",
            )
        case DecisionRecorded():
            decision = f"{event.organ} {event.meeting_date} § {event.paragraph} ({event.diarienummer})"
            return (
                f"beslut: {decision}; överklagandetiden löper ut senast {event.appeal_period_ends_latest}",
                f"decision: {decision}; the appeal period ends {event.appeal_period_ends_latest} at the latest",
            )
        case DecisionPosted():
            return (
                f"beslut {event.decision_task_key}: justerat {event.justering_date}, anslaget {event.anslag_date}; "
                f"överklagandetiden löper ut {event.appeal_period_ends}",
                f"decision {event.decision_task_key}: approved (justerat) {event.justering_date}, posted "
                f"{event.anslag_date}; the appeal period ends {event.appeal_period_ends}",
            )
        case DecisionBecameFinal():
            return (
                f"beslut {event.decision_task_key} har vunnit laga kraft",
                f"decision {event.decision_task_key} has become final (laga kraft)",
            )
        case DecisionAppealed():
            case = f"{event.court}, mål {event.case_number}, {event.lodged_on}"
            return (
                f"beslut {event.decision_key} överklagat ({case}); registrerat av {event.by}",
                f"decision {event.decision_key} appealed ({event.court}, case {event.case_number}, "
                f"{event.lodged_on}); recorded by {event.by}",
            )
        case AppealDecided():
            sv_outcome, en_outcome = OUTCOME_TITLES[event.outcome]
            return (
                f"domstolen avgjorde mål {event.case_number} om {event.decision_key} {event.decided_on}: {sv_outcome}",
                f"the court decided case {event.case_number} on {event.decision_key} on {event.decided_on}: "
                f"{en_outcome}",
            )
        case InspectionDecisionRegistered():
            findings = len(event.decision.get("findings", []))
            follows = event.decision.get("follow_up_of")
            late_sv = (
                f"; registrerat efter redovisningsdagen för iakttagelse {_numbers(event.overdue_findings)}"
                if event.overdue_findings
                else ""
            )
            late_en = (
                f"; registered after the reporting deadline of finding {_numbers(event.overdue_findings)}"
                if event.overdue_findings
                else ""
            )
            return (
                f"Skolinspektionens {f'uppföljning av {follows}' if follows else 'beslut'} {event.diarienummer} "
                f"registrerat: {findings} iakttagelser{late_sv}",
                f"Skolinspektionen's {f'follow-up of {follows}' if follows else 'decision'} {event.diarienummer} "
                f"registered: {findings} findings{late_en}",
            )
        case InspectionTrackClosedWithoutDecision():
            return (
                "jämförelsen med Skolinspektionen stängd: inget beslut registrerades under programmet",
                "the inspection comparison closed: no Skolinspektionen decision was registered during the programme",
            )
        case RemediationScheduled():
            finding = f"{event.diarienummer} #{event.finding_index + 1}"
            steps = ", ".join(f"{s.key} {s.due}" for s in event.steps)
            if event.registered_late:
                return (
                    f"åtgärder för {finding} planerade från registreringen (redovisningsdagen {event.deadline} hade "
                    f"passerat): {steps}",
                    f"measures for {finding} planned from the registration (the reporting deadline {event.deadline} "
                    f"had passed): {steps}",
                )
            return (
                f"åtgärder för {finding} planerade bakåt från {event.deadline}: {steps}",
                f"measures for {finding} planned backwards from {event.deadline}: {steps}",
            )
        case RemediationEnded():
            finding = f"{event.diarienummer} #{event.finding_index + 1}"
            remedied = event.outcome == "avhjalpt"
            return (
                f"{finding} {'avhjälpt' if remedied else 'kvarstår'} enligt {event.by_decision}",
                f"{finding} {'remedied' if remedied else 'remains'} according to {event.by_decision}",
            )
        case TaskClosed():
            closed = f"{event.task_key} ({event.reason})"
            return f"uppgift stängd: {closed}", f"task closed: {closed}"
        case TaskReopened():
            due = in_swedish_time(event.due_at) if event.due_at else None
            return (
                f"uppgift öppnad igen: {event.task_key} ({event.reason})" + (f", senast {due}" if due else ""),
                f"task reopened: {event.task_key} ({event.reason})" + (f", due {due}" if due else ""),
            )
        case InspectionCompared():
            counts: dict[str, int] = {}
            for item in event.items:
                counts[item.classification] = counts.get(item.classification, 0) + 1
            counted = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            return (
                f"jämförelse med Skolinspektionen ({event.diarienummer}): {counted}",
                f"comparison with Skolinspektionen ({event.diarienummer}): {counted}",
            )
        case SelfAssessmentsConsolidated():
            c = event.consolidation
            levels, weakest = ", ".join(c.levels), ", ".join(c.weakest_factors(2))
            gaps = sum(1 for f in c.findings if f.within_level is None)
            inside = len(c.findings) - gaps
            within_sv = f", {inside} med stor skillnad inom en nivå" if inside else ""
            within_en = f", {inside} with a large spread within a level" if inside else ""
            return (
                f"självskattningar sammanställda ({levels}): svagast {weakest}; "
                f"{gaps} indikatorer med stor skillnad mellan nivåerna{within_sv}",
                f"self-assessments consolidated ({levels}): weakest {weakest}; "
                f"{gaps} indicators with a large gap between the levels{within_en}",
            )
        case ImplementationYearStarted():
            return f"genomförandeår {event.year} börjar", f"implementation year {event.year} begins"
        case PilotCompleted():
            return "piloten har gått igenom alla faser", "the pilot has gone through every phase"
        case PilotPaused():
            return (
                f"piloten pausad av {event.by} ({event.reason})",
                f"pilot paused by {event.by} ({event.reason})",
            )
        case PilotResumed():
            return (
                f"piloten återupptagen av {event.by} ({event.reason})",
                f"pilot resumed by {event.by} ({event.reason})",
            )
        case PilotWithdrawn():
            return (
                f"kommunen har lämnat programmet; avslutat av {event.by} ({event.reason})",
                f"the municipality has left the programme; ended by {event.by} ({event.reason})",
            )
        case StepFailed():
            return (
                f"steget misslyckades och väntar på nytt försök: {event.step} ({event.error})",
                f"step failed, waiting for a retry: {event.step} ({event.error})",
            )
        case FailedStepRetried():
            steps = ", ".join(event.steps)
            return (
                f"nytt försök med {steps} av {event.by} ({event.reason})",
                f"new attempt at {steps} by {event.by} ({event.reason})",
            )
        case PilotTerminated():
            return (
                f"arbetsflödet avbrutet (terminate) av {event.by} ({event.reason})",
                f"workflow terminated by {event.by} ({event.reason})",
            )
        case NetworkMeetingScheduled():
            when = in_swedish_time(event.held_at)
            place = f", {event.place}" if event.place else ""
            return (
                f"nätverksträff planerad av {event.by}: {event.title} ({when}{place})",
                f"network meeting scheduled by {event.by}: {event.title} ({when}{place})",
            )
        case NetworkMeetingAttendance():
            if not event.attended:
                return (
                    f"deltog inte i nätverksträffen {event.meeting_id}",
                    f"did not attend the network meeting {event.meeting_id}",
                )
            who = ", ".join(event.attendee_ids)
            return (
                f"deltog i nätverksträffen {event.meeting_id}: {who}",
                f"attended the network meeting {event.meeting_id}: {who}",
            )
    raise AssertionError(f"no description for {type(event).__name__}")


def _numbers(indexes: list[int]) -> str:
    """Finding indexes as the people who read them count: from 1."""
    return ", ".join(f"#{i + 1}" for i in indexes)


async def timeline(store: EventStore, workflow_id: str, language: Language = "sv") -> list[TimelineEntry]:
    """The pilot's record, oldest first, each event with its line in `language`."""
    return [
        TimelineEntry(
            recorded_at=stored.recorded_at,
            stream_id=stored.stream_id,
            version=stored.stream_version,
            event_type=stored.event_type,
            actor=str(stored.metadata.get("actor", "")),
            run_id=stored.metadata.get("run_id"),
            summary=describe_event(event_of(stored), language),
        )
        for stored in await store.read_stream(workflow_id)
    ]
