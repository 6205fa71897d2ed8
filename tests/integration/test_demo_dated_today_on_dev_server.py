"""A demo pilot whose nämnd decisions are dated today, with no inspection during its programme, on the real stack.

The demo template shortens every day to a tenth of a second, the legal periods included (justering, anslag and the
three-week appeal period), so the pilot completes on the demo's time scale although its decisions' legal dates lie
weeks ahead; and with no Skolinspektionen decision its inspection track closes saying so.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
from temporalio.client import Client

from devstack.demo import simulate_participants
from directory import Participant, upsert_participants
from eventstore import EventStore
from pilots import PilotRecords, start_pilot
from programmes import template
from reports import render_pilot_report
from settings import Settings
from worker import running_worker

pytestmark = pytest.mark.devserver

KOMMUNKOD = "2514"  # Kalix, with synthetic people: no other test uses it
COMPLETES_WITHIN = 120  # seconds; about 30 on two cores


def person(role: str) -> Participant:
    return Participant(
        participant_id=f"p-{KOMMUNKOD}-{role}",
        kommunkod=KOMMUNKOD,
        role=role,
        display_name=f"Syntetisk {role} {KOMMUNKOD}",
        email=f"{role}.{KOMMUNKOD}@example.invalid",
    )


async def test_a_demo_pilot_with_decisions_dated_today_and_no_inspection_completes(
    dev_client: Client, db_pool: asyncpg.Pool, base_settings: Settings
) -> None:
    settings = base_settings.model_copy(update={"task_queue": f"dated-today-{uuid.uuid4().hex[:8]}"})
    await upsert_participants(db_pool, [person(role.value) for role in template("demo").roles_needed()])
    today = datetime.now(UTC).date()
    async with running_worker(dev_client, settings, db_pool):
        workflow_id = await start_pilot(
            dev_client,
            db_pool,
            programme=f"today-{uuid.uuid4().hex[:8]}",
            kommunkod=KOMMUNKOD,
            template_key="demo",
            task_queue=settings.task_queue,
            municipality_name="Syntetisk kommun",
            deciding_organ="Barn- och utbildningsnämnden (syntetisk)",
        )
        final = await asyncio.wait_for(
            simulate_participants(
                dev_client,
                PilotRecords(db_pool),
                workflow_id,
                say=lambda *_: None,
                analyst=f"p-{KOMMUNKOD}-analytiker",
                decided_days_ago=0,
                inspection=False,
            ),
            COMPLETES_WITHIN,
        )

    assert final.completed_at is not None
    events = await EventStore(db_pool).read_stream(workflow_id)
    kinds = [e.event_type for e in events]
    # Every decision was met on the day of its meeting, posted the same day, and became final on the demo's clock:
    # its appeal period ends three weeks from now on the calendar.
    postings = [e for e in events if e.event_type == "DecisionPosted"]
    assert postings and all(date.fromisoformat(e.data["anslag_date"]) == today for e in postings)
    assert all(date.fromisoformat(e.data["appeal_period_ends"]) >= today + timedelta(weeks=3) for e in postings)
    assert kinds.count("DecisionBecameFinal") == kinds.count("DecisionRecorded") == len(postings)
    # No inspection: the track closed saying so, just before the pilot completed.
    assert kinds[-4:] == ["InspectionTrackClosedWithoutDecision", "TaskClosed", "PhaseCompleted", "PilotCompleted"]
    assert final.inspection_closed_without_decision is not None
    [end] = final.waiting_for
    assert end.kind == "ended"
    state = await PilotRecords(db_pool).state(workflow_id)
    report = render_pilot_report(state, generated_at=datetime.now(UTC))
    assert "Inget beslut från Skolinspektionen registrerades under programmet" in report
