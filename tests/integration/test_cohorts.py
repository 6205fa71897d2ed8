"""Cohorts on the dev server: staggered starts, a kommunalförbund as one pilot, each municipality's own organ."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
from temporalio.client import Client

from pilots import start_cohort
from programmes.cohorts import Cohort, CohortPilot, load_cohort
from workflows.messages import StartPilot


async def test_a_cohort_starts_its_pilots_staggered_with_their_own_organs_and_a_kommunalforbund(
    dev_client: Client, db_pool: asyncpg.Pool
) -> None:
    cohort = Cohort(
        programme=f"cohort-{uuid.uuid4().hex[:6]}",
        template="lfr-skola",
        pilots=[
            CohortPilot(kommunkod="1861", start_after_days=0),
            CohortPilot(kommunkod="1864", start_after_days=60),
            CohortPilot(kommunkod="1083+1272", organ="Direktionen", start_after_days=30),
        ],
    )
    queue = f"cohort-{uuid.uuid4().hex[:6]}"  # no worker polls it: only the schedule is under test

    outcomes = await start_cohort(dev_client, db_pool, cohort, task_queue=queue)

    assert [o.refused for o in outcomes] == [None, None, None]
    described = {o.kommunkod: await dev_client.get_workflow_handle(o.workflow_id).describe() for o in outcomes}
    delays = {code: d.execution_time - d.start_time for code, d in described.items()}  # type: ignore[operator]
    assert delays["1861"] < timedelta(seconds=5)
    assert abs(delays["1864"] - timedelta(days=60)) < timedelta(seconds=5)
    assert abs(delays["1083+1272"] - timedelta(days=30)) < timedelta(seconds=5)

    history = await dev_client.get_workflow_handle(outcomes[2].workflow_id).fetch_history()
    attributes = history.events[0].workflow_execution_started_event_attributes
    [start] = await dev_client.data_converter.decode(attributes.input.payloads, [StartPilot])
    assert start.kommunkod == "1083+1272"
    assert start.municipality_name == "Sölvesborg-Bromölla kommunalförbund"
    assert start.deciding_organ == "Direktionen"
    organs = {}
    for o in outcomes[:2]:
        first = (await dev_client.get_workflow_handle(o.workflow_id).fetch_history()).events[0]
        [s] = await dev_client.data_converter.decode(
            first.workflow_execution_started_event_attributes.input.payloads, [StartPilot]
        )
        organs[o.kommunkod] = s.deciding_organ
    assert organs == {"1861": "Bildningsnämnden", "1864": "Kommunstyrelsen"}


async def test_a_pilot_without_a_known_organ_is_refused_and_the_others_still_start(
    dev_client: Client, db_pool: asyncpg.Pool
) -> None:
    cohort = Cohort(
        programme=f"cohort-{uuid.uuid4().hex[:6]}",
        template="lfr-skola",
        pilots=[CohortPilot(kommunkod="1083+1272"), CohortPilot(kommunkod="1861")],
    )
    outcomes = await start_cohort(dev_client, db_pool, cohort, task_queue="nobody-polls")
    assert outcomes[0].refused_code == "organ_required"
    assert (outcomes[0].refused or "").startswith("organ: which organ decides school matters in Sölvesborg-Bromölla")
    assert outcomes[1].workflow_id is not None


def test_the_shipped_orebro_cohort_starts_hallsberg_before_ljusnarsberg() -> None:
    cohort = load_cohort("orebro-skolkommun-2014")
    starts = {p.kommunkod: p.start_after_days for p in cohort.pilots}
    assert starts["1861"] < starts["1864"]
    assert cohort.template == "orebro-skolkommun"
