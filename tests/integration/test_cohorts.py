"""Cohorts on the dev server: staggered starts, a kommunalförbund as one pilot, each municipality's own organ."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from access import issue_token
from api.app import create_app
from directory import read_participants_csv
from domain.moments import SWEDISH_TIME
from eventstore import EventStore
from pilots import start_cohort
from pilots.scheduled import scheduled_pilots
from programmes import template
from programmes.cohorts import Cohort, CohortPilot, load_cohort
from tests.people import bearer, programme_lead
from workflows.messages import StartPilot

SAMPLE_DATA = Path(__file__).parents[2] / "devstack" / "sample_data"


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


SKL_ROUND = {"0643", "0305", "2482", "1230", "1488", "0138", "0160", "1442", "1292", "1083+1272"}
"""SKL's ten pilots of Leda för resultat i skolan: nine municipalities and Sölvesborg-Bromölla kommunalförbund."""


def test_the_shipped_skl_round_is_its_ten_pilots_staggered_each_with_its_organ() -> None:
    cohort = load_cohort("lfr-skola-2015")
    assert {p.kommunkod for p in cohort.pilots} == SKL_ROUND
    assert cohort.template == "lfr-skola"
    assert all(p.organ for p in cohort.pilots), "every pilot names its organ: none of the ten is known to Leda"
    assert {p.kommunkod: p.organ for p in cohort.pilots}["1083+1272"] == "Direktionen"
    assert len({p.start_after_days for p in cohort.pilots}) > 1


def test_the_skl_round_has_one_lead_and_every_role_in_every_pilot_in_the_synthetic_directory() -> None:
    people = read_participants_csv(SAMPLE_DATA / "synthetic_participants_lfr_skola_2015.csv") + read_participants_csv(
        SAMPLE_DATA / "synthetic_participants_1083+1272.csv"
    )
    [lead] = [p for p in people if p.programme == "lfr-skola-2015"]
    assert lead.role == "programledare" and lead.kommunkod is None
    needed = {r.value for r in template("lfr-skola").roles_needed()} - {"programledare"}
    for code in SKL_ROUND:
        assert needed <= {p.role for p in people if p.kommunkod == code}, code


async def listed(http: httpx.AsyncClient, headers: dict[str, str], programme: str, expected: int) -> set[str]:
    """The pilots a listing shows, once visibility has caught up with `expected` of them (it is eventually
    consistent)."""
    shown: set[str] = set()
    for _ in range(100):
        response = await http.get("/api/v1/pilots", params={"programme": programme}, headers=headers)
        assert response.status_code == 200, response.text
        shown = {p["workflow_id"] for p in response.json()["pilots"]}
        if len(shown) >= expected:
            return shown
        await asyncio.sleep(0.1)
    return shown


async def test_one_api_call_starts_a_cohort_for_its_programme_lead_and_the_listing_shows_its_scheduled_pilots(
    dev_client: Client, db_pool: asyncpg.Pool
) -> None:
    # demo-cohort: Hallsberg now, Ljusnarsberg 30 demo days later; no other test starts it. No worker polls the
    # queue, so neither pilot is on record: both are scheduled, known only to Temporal.
    app = create_app(pool=db_pool, client=dev_client, task_queue=f"nobody-{uuid.uuid4().hex[:6]}")
    lead_id, headers = await programme_lead(db_pool, "demo-cohort", prefix="p-region")
    municipal_lead = bearer(await issue_token(db_pool, "p-1861-programledare", "programme_lead"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://leda.test") as http:
        refused = await http.post("/api/v1/cohorts/demo-cohort/start", headers=municipal_lead)
        assert refused.status_code == 403  # Hallsberg's own lead does not lead Ljusnarsberg: nothing starts
        assert (await http.post("/api/v1/cohorts/no-such/start", headers=headers)).json()["field"] == "cohort"

        started = await http.post("/api/v1/cohorts/demo-cohort/start", headers=headers)
        assert started.status_code == 201, started.text
        outcomes = started.json()["pilots"]
        assert [(o["kommunkod"], o["refused"]) for o in outcomes] == [("1861", None), ("1864", None)]
        workflow_ids = {o["workflow_id"] for o in outcomes}
        assert workflow_ids == {"leda-demo-cohort-1861", "leda-demo-cohort-1864"}

        assert await listed(http, headers, "demo-cohort", 2) == workflow_ids
        # Hallsberg's own lead is on its roster too (after the programme's lead), not on Ljusnarsberg's.
        assert await listed(http, municipal_lead, "demo-cohort", 1) == {"leda-demo-cohort-1861"}

        again = await http.post("/api/v1/cohorts/demo-cohort/start", headers=headers)
        assert again.status_code == 200
        assert {o["refused_code"] for o in again.json()["pilots"]} == {"already_started"}

        shipped = await http.get("/api/v1/cohorts", headers=headers)
        assert {c["name"] for c in shipped.json()} >= {"demo-cohort", "lfr-skola-2015", "orebro-skolkommun-2014"}

    scheduled = await scheduled_pilots(dev_client, EventStore(db_pool), programme="demo-cohort")
    assert {s.kommunkod: s.leads[0] for s in scheduled} == {"1861": lead_id, "1864": lead_id}
    [later] = [s for s in scheduled if s.kommunkod == "1864"]
    assert later.municipality_name == "Ljusnarsberg" and later.template_key == "demo"


async def test_a_pilot_started_for_a_later_day_begins_at_eight_that_morning_and_a_past_day_is_refused(
    dev_client: Client, db_pool: asyncpg.Pool
) -> None:
    app = create_app(pool=db_pool, client=dev_client, task_queue=f"nobody-{uuid.uuid4().hex[:6]}")
    programme = f"later-{uuid.uuid4().hex[:6]}"
    headers = bearer(await issue_token(db_pool, "p-1861-programledare", "programme_lead"))
    today = datetime.now(SWEDISH_TIME).date()
    body = {"programme": programme, "kommunkod": "1861", "template_key": "lfr-skola"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://leda.test") as http:
        past = await http.post(
            "/api/v1/pilots", json={**body, "starts_on": str(today - timedelta(days=1))}, headers=headers
        )
        assert past.status_code == 422 and past.json()["field"] == "starts_on", past.text
        far = await http.post(
            "/api/v1/pilots", json={**body, "starts_on": str(today + timedelta(days=400))}, headers=headers
        )
        assert far.status_code == 422 and far.json()["field"] == "starts_on"
        assert await EventStore(db_pool).stream_version(f"leda-{programme}-1861") == 0
        with pytest.raises(RPCError):
            await dev_client.get_workflow_handle(f"leda-{programme}-1861").describe()

        day = today + timedelta(days=3)
        started = await http.post("/api/v1/pilots", json={**body, "starts_on": str(day)}, headers=headers)
        assert started.status_code == 201, started.text

    begins = datetime.combine(day, time(8, 0), tzinfo=SWEDISH_TIME)
    assert datetime.fromisoformat(started.json()["starts_at"]) == begins
    described = await dev_client.get_workflow_handle(started.json()["workflow_id"]).describe()
    assert described.execution_time is not None
    assert abs(described.execution_time - begins) < timedelta(seconds=2)
