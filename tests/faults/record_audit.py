"""What must hold of the event store after faults: nothing lost, nothing twice, nothing altered.

- global positions contiguous from 1 (no gap) and every event id once (no duplicate);
- every stream's versions contiguous 1..n;
- `verify_chains` finds both hash chains intact;
- each pilot's stream, folded, is exactly the state its workflow ended in, and it records each one-off fact once:
  each task opened and completed once, each reminder and escalation once, each phase started and completed
  once, each decision and inspection decision once, the plan's years 1..n, PilotStarted first and
  PilotCompleted last, and exactly the completions the simulated participants made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable

import asyncpg

from domain.events import (
    DecisionBecameFinal,
    DecisionPosted,
    DecisionRecorded,
    Event,
    ImplementationYearStarted,
    InspectionCompared,
    InspectionDecisionRegistered,
    PhaseCompleted,
    PhaseStarted,
    PilotCompleted,
    PilotStarted,
    TaskClosed,
    TaskCompleted,
    TaskEscalated,
    TaskOpened,
    TaskReminderSent,
    event_from_record,
)
from domain.state import fold
from domain.status import PilotStatus
from eventstore import EventStore
from eventstore.verify import verify_chains
from programmes import template as load_template


def _once(facts: Iterable[Hashable], what: str, workflow_id: str) -> None:
    twice = sorted(str(fact) for fact, n in Counter(facts).items() if n > 1)
    assert not twice, f"{workflow_id}: {what} recorded more than once: {twice}"


def _one_off_fact(event: Event) -> Hashable | None:
    """What an event records that may happen only once in a pilot; None for events that may repeat."""
    match event:
        case TaskOpened() | TaskCompleted() | TaskEscalated() | TaskClosed():
            return (event.type, event.task_key)
        case TaskReminderSent():
            return (event.type, event.task_key, event.reminder_number)
        case PhaseStarted() | PhaseCompleted():
            return (event.type, event.phase)
        case ImplementationYearStarted():
            return (event.type, event.year)
        case DecisionRecorded() | InspectionDecisionRegistered() | InspectionCompared():
            return (event.type, event.diarienummer)
        case DecisionPosted() | DecisionBecameFinal():
            return (event.type, event.decision_task_key)
        case PilotStarted() | PilotCompleted():
            return (event.type,)
    return None


async def audit_store(pool: asyncpg.Pool, *, allow_position_holes: bool = False) -> tuple[int, int]:
    """Check the whole store (positions, ids, versions, chains); returns how many events it holds, and how many
    global positions below the last are unused.

    `allow_position_holes`: a global position may be missing where an append was rolled back after it drew its
    position (PostgreSQL stopped mid-append); the global chain, which links each stored event to the one
    stored before it, then proves no stored event went missing there.
    """
    totals = await pool.fetchrow(
        "SELECT count(*) AS n, count(DISTINCT event_id) AS ids, min(global_position) AS first,"
        " max(global_position) AS last FROM events"
    )
    assert totals["n"] > 0, "the store holds no events"
    assert totals["ids"] == totals["n"], f"{totals['n'] - totals['ids']} duplicate event ids"
    holes = totals["last"] - totals["first"] + 1 - totals["n"]
    if not allow_position_holes:
        assert totals["first"] == 1 and holes == 0, (
            f"global positions have gaps: {totals['n']} events at positions {totals['first']}..{totals['last']}"
        )
    streams = await pool.fetch(
        "SELECT stream_id, count(*) AS n, min(stream_version) AS first, max(stream_version) AS last,"
        " count(DISTINCT stream_version) AS versions FROM events GROUP BY stream_id"
    )
    for stream in streams:
        assert (stream["first"], stream["last"], stream["versions"]) == (1, stream["n"], stream["n"]), (
            f"stream {stream['stream_id']}: {stream['n']} events at versions {stream['first']}..{stream['last']}"
        )
    report = await verify_chains(pool)
    assert report.intact, f"hash chains broken ({report.breaks_total}): {report.first_break}"
    assert report.events == totals["n"] and report.streams == len(streams)
    return int(totals["n"]), int(holes + totals["first"] - 1)


async def audit_pilot(
    pool: asyncpg.Pool, final: PilotStatus, *, completed_by_participants: list[str], registered: list[str]
) -> int:
    """Check one completed pilot's stream against its workflow's final status and what its participants did
    (the tasks they completed, the inspection decisions they registered); returns its number of events."""
    workflow_id = final.workflow_id
    stored = await EventStore(pool).read_stream(workflow_id)
    events = [event_from_record(e.event_type, e.event_id, e.schema_version, e.data) for e in stored]
    assert len(events) == final.stream_version, (
        f"{workflow_id}: the workflow ended at version {final.stream_version}, the store holds {len(events)} events"
    )
    assert isinstance(events[0], PilotStarted) and isinstance(events[-1], PilotCompleted), (
        f"{workflow_id}: starts with {events[0].type}, ends with {events[-1].type}"
    )
    _once(filter(None, map(_one_off_fact, events)), "one-off facts", workflow_id)

    state = fold(events)
    folded = PilotStatus.of(workflow_id, load_template(state.template_key), state)
    assert folded.model_dump(exclude={"failed_steps"}) == final.model_dump(exclude={"failed_steps"}), (
        f"{workflow_id}: the stored events fold to a different state than the workflow ended in"
    )
    years = [e.year for e in events if isinstance(e, ImplementationYearStarted)]
    assert years == list(range(1, final.plan_years + 1)), f"{workflow_id}: implementation years {years}"
    by_participants = [
        e.task_key
        for e in events
        # Registering the first inspection decision completes the task that waited for it.
        if isinstance(e, TaskCompleted) and e.completed_by != "system" and e.task_key != "inspection_decision"
    ]
    assert Counter(by_participants) == Counter(completed_by_participants), (
        f"{workflow_id}: completions recorded {sorted(by_participants)} "
        f"differ from those made {sorted(completed_by_participants)}"
    )
    decisions = [e.diarienummer for e in events if isinstance(e, InspectionDecisionRegistered)]
    assert Counter(decisions) == Counter(registered), f"{workflow_id}: inspection decisions {decisions}"
    assert not final.failed_steps, f"{workflow_id}: steps failed for good: {final.failed_steps}"
    return len(events)
