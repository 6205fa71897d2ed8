"""The Kolada client against the dev stack's Kolada stand-in (synthetic sample data, real HTTP)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

import adapters.kolada
from adapters.kolada import KoladaClient, KoladaError, check_gathered_kpis
from devstack.kolada import SAMPLES_DIR, Fault, FaultKind, KoladaSampleServer, load_samples, load_unit_samples
from devstack.ports import free_port
from domain.kpis import DATA_PACK_KPIS, RIKET, UNIT_KPIS, KpiMetadata, KpiObservation, UnitObservation, kpi_problems
from settings import Settings

HALLSBERG = "1861"
LJUSNARSBERG = "1864"
YEARS = list(range(2019, 2025))
HALLSBERG_SCHOOLS = ["V15E186100001", "V15E186100002", "V15E186100003", "V15E186100004"]
SMALL_LJUSNARSBERG_SCHOOL = "V15E186400002"  # its year-9 figures are withheld (null) in 2022

# The session fixture ``kolada_server`` (tests/conftest.py) serves the synthetic samples.


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


def _key(observation: KpiObservation) -> tuple[str, str, int, str]:
    return (observation.kpi, observation.municipality, observation.period, observation.gender)


async def test_fetch_returns_every_year_and_gender_for_hallsberg_and_riket(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    client = KoladaClient(kolada_server.base_url, http)

    observations = await client.fetch(["N15419"], [HALLSBERG, RIKET], YEARS)

    assert {_key(o) for o in observations} == {
        ("N15419", municipality, year, gender)
        for municipality in (HALLSBERG, RIKET)
        for year in YEARS
        for gender in ("T", "K", "M")
    }
    sample = load_samples(SAMPLES_DIR)[("N15419", HALLSBERG, 2024)]
    expected_total = next(entry["value"] for entry in sample["values"] if entry["gender"] == "T")
    hallsberg_2024_total = next(
        o for o in observations if (o.municipality, o.period, o.gender) == (HALLSBERG, 2024, "T")
    )
    assert hallsberg_2024_total.value == expected_total
    assert hallsberg_2024_total.status is None


async def test_fetch_follows_next_url_until_the_last_page(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    requested: list[httpx.URL] = []

    async def record(request: httpx.Request) -> None:
        requested.append(request.url)

    http.event_hooks["request"] = [record]
    one_page = await KoladaClient(kolada_server.base_url, http).fetch(DATA_PACK_KPIS, [HALLSBERG, RIKET], YEARS)
    requested.clear()

    paged = await KoladaClient(kolada_server.base_url, http, per_page=7).fetch(
        DATA_PACK_KPIS, [HALLSBERG, RIKET], YEARS
    )

    data_objects = len(DATA_PACK_KPIS) * 2 * len(YEARS)  # 60 objects, 7 per page
    assert len(requested) == -(-data_objects // 7)
    assert requested[-1].params["page"] == str(len(requested))
    assert sorted(map(_key, paged)) == sorted(map(_key, one_page))
    assert len(paged) == len(one_page)


async def test_missing_values_come_back_as_none(kolada_server: KoladaSampleServer, http: httpx.AsyncClient) -> None:
    observations = await KoladaClient(kolada_server.base_url, http).fetch(["N15419"], [LJUSNARSBERG], [2020])

    by_gender = {o.gender: o.value for o in observations}
    assert by_gender["T"] is not None
    assert by_gender["K"] is None and by_gender["M"] is None


async def test_unknown_route_raises_kolada_error_with_status_404(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    client = KoladaClient(kolada_server.base_url + "/no-such-api", http)

    with pytest.raises(KoladaError) as raised:
        await client.fetch(["N15419"], [HALLSBERG], [2023])

    assert raised.value.status == 404
    assert "/no-such-api/data/kpi/N15419" in raised.value.url
    assert not raised.value.retryable


async def test_invalid_kpi_id_is_rejected_before_any_request(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    client = KoladaClient(kolada_server.base_url, http)

    with pytest.raises(ValueError, match=r"invalid KPI id\(s\) 'n15419'.*like N15419"):
        await client.fetch(["n15419"], [HALLSBERG], [2023])


async def test_invalid_municipality_id_is_rejected(kolada_server: KoladaSampleServer, http: httpx.AsyncClient) -> None:
    client = KoladaClient(kolada_server.base_url, http)

    with pytest.raises(ValueError, match="invalid municipality id"):
        await client.fetch(["N15419"], ["186"], [2023])


async def test_sample_server_answers_400_for_malformed_ids(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    response = await http.get(f"{kolada_server.base_url}/data/kpi/N15419/municipality/18x1/year/2023")

    assert response.status_code == 400
    assert "municipality id" in response.json()["error"]


async def test_body_that_is_not_json_raises_kolada_error() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>maintenance</html>"))
    async with httpx.AsyncClient(transport=transport) as http:
        client = KoladaClient("https://kolada.invalid/v3", http, retry_delays=())

        with pytest.raises(KoladaError, match="not JSON") as raised:
            await client.fetch(["N15419"], [HALLSBERG], [2023])

    assert raised.value.status == 200
    assert raised.value.retryable  # a page cut short, or a maintenance page: it may well pass


async def test_unreachable_kolada_raises_retryable_kolada_error(http: httpx.AsyncClient) -> None:
    client = KoladaClient(f"http://127.0.0.1:{free_port()}/v3", http, retry_delays=(0.01,))

    with pytest.raises(KoladaError, match="could not reach Kolada") as raised:
        await client.fetch(["N15419"], [HALLSBERG], [2023])

    assert raised.value.status is None
    assert raised.value.retryable


# Organisational units (schools) -----------------------------------------------------------------------------


def _unit_key(observation: UnitObservation) -> tuple[str, str, int, str]:
    return (observation.kpi, observation.unit_id, observation.period, observation.gender)


async def test_list_units_returns_the_municipalitys_units(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    units = await KoladaClient(kolada_server.base_url, http).list_units(HALLSBERG)

    assert [unit.id for unit in units] == [*HALLSBERG_SCHOOLS, "V11E186100001"]
    assert {unit.municipality for unit in units} == {HALLSBERG}
    assert all(unit.title.endswith("(syntetisk)") for unit in units)


async def test_list_units_filters_by_title_and_follows_next_url(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    requested: list[httpx.URL] = []

    async def record(request: httpx.Request) -> None:
        requested.append(request.url)

    http.event_hooks["request"] = [record]
    client = KoladaClient(kolada_server.base_url, http, per_page=2)

    units = await client.list_units(HALLSBERG)
    f9 = await client.list_units(HALLSBERG, title="f-9")

    assert [unit.id for unit in units] == [*HALLSBERG_SCHOOLS, "V11E186100001"]
    assert len(requested) == 3 + 1  # five units two per page, then one page for the title filter
    # next_url links keep the municipality filter, so the later pages hold no other municipality's units.
    assert all(url.params["municipality"] == HALLSBERG for url in requested)
    assert [unit.title for unit in f9] == ["Ekängsskolan F-9 (syntetisk)"]


async def test_list_units_of_a_municipality_without_units_is_empty(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    assert await KoladaClient(kolada_server.base_url, http).list_units("0643") == []


async def test_fetch_units_returns_each_units_values(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    observations = await KoladaClient(kolada_server.base_url, http).fetch_units(["N15419"], HALLSBERG_SCHOOLS, YEARS)

    year_9_schools = [unit for unit in HALLSBERG_SCHOOLS if unit != "V15E186100003"]  # the F-6 school has none
    assert {_unit_key(o) for o in observations} == {
        ("N15419", unit, year, gender) for unit in year_9_schools for year in YEARS for gender in ("T", "K", "M")
    }
    sample = load_unit_samples(SAMPLES_DIR).data[("N15419", "V15E186100002", 2023)]
    expected_total = next(entry["value"] for entry in sample["values"] if entry["gender"] == "T")
    total = next(o for o in observations if (o.unit_id, o.period, o.gender) == ("V15E186100002", 2023, "T"))
    assert total.value == expected_total
    assert total.unit_title is None  # Kolada's unit data carries only the id
    assert total.status is None


async def test_fetch_units_follows_next_url_and_splits_long_lists(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    requested: list[httpx.URL] = []

    async def record(request: httpx.Request) -> None:
        requested.append(request.url)

    http.event_hooks["request"] = [record]
    one_page = await KoladaClient(kolada_server.base_url, http).fetch_units(UNIT_KPIS, HALLSBERG_SCHOOLS, YEARS)
    assert len(requested) == 1
    requested.clear()
    monkeypatch.setattr(adapters.kolada, "ITEMS_PER_LIST", 2)

    paged = await KoladaClient(kolada_server.base_url, http, per_page=5).fetch_units(
        UNIT_KPIS, HALLSBERG_SCHOOLS, YEARS
    )

    # Every list of every request within the limit (here 2): KPIs, units and years alike, each page followed.
    segments = [url.path.removeprefix("/v3/oudata/kpi/").split("/") for url in requested]
    assert all(
        len(segment.split(",")) <= 2 for kpis, _, units, _, years in segments for segment in (kpis, units, years)
    )
    assert {units for _, _, units, _, _ in segments} == {"V15E186100001,V15E186100002", "V15E186100003,V15E186100004"}
    assert any("page=2" in str(url) for url in requested)
    assert sorted(map(_unit_key, paged)) == sorted(map(_unit_key, one_page))
    assert len(paged) == len(one_page)


async def test_withheld_unit_values_come_back_as_none(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    observations = await KoladaClient(kolada_server.base_url, http).fetch_units(
        ["N15419", "N15814"], [SMALL_LJUSNARSBERG_SCHOOL], [2022]
    )

    by_kpi_gender = {(o.kpi, o.gender): o.value for o in observations}
    assert by_kpi_gender[("N15419", "T")] is None
    assert by_kpi_gender[("N15419", "K")] is None and by_kpi_gender[("N15419", "M")] is None
    assert by_kpi_gender[("N15814", "T")] is not None


async def test_sample_server_names_the_unit_ou(kolada_server: KoladaSampleServer, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{kolada_server.base_url}/oudata/kpi/N15419/ou/V15E186100001/year/2024")

    (data_object,) = response.json()["values"]
    assert data_object["ou"] == "V15E186100001"
    assert "out" not in data_object


async def test_fetch_units_accepts_the_readmes_out_key() -> None:
    """The Kolada README spells the unit key "out"; a response in that spelling parses the same."""
    pages = {
        1: {
            "count": 1,
            "values": [
                {
                    "kpi": "N15419",
                    "out": "V15E186100001",
                    "period": "2023",
                    "values": [
                        {"count": 1, "gender": "T", "status": "", "value": 81.5},
                        {"count": 1, "gender": "F", "status": "", "value": None},
                    ],
                }
            ],
            "next_url": "https://kolada.invalid/v3/oudata/kpi/N15419/ou/V15E186100001/year/2023?page=2",
        },
        2: {
            "count": 1,
            "values": [
                {
                    "kpi": "N15419",
                    "ou": "V15E186100002",
                    "period": 2023,
                    "values": [{"count": 1, "gender": "T", "status": "X", "value": 70}],
                }
            ],
        },
    }
    requested: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(request.url)
        return httpx.Response(200, json=pages[int(request.url.params.get("page", "1"))])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = KoladaClient("https://kolada.invalid/v3", http)
        observations = await client.fetch_units(["N15419"], ["V15E186100001", "V15E186100002"], [2023])

    assert requested[0].path == "/v3/oudata/kpi/N15419/ou/V15E186100001,V15E186100002/year/2023"
    assert observations == [
        UnitObservation(kpi="N15419", unit_id="V15E186100001", period=2023, gender="T", value=81.5),
        UnitObservation(kpi="N15419", unit_id="V15E186100001", period=2023, gender="F", value=None),
        UnitObservation(kpi="N15419", unit_id="V15E186100002", period=2023, gender="T", value=70.0, status="X"),
    ]


async def test_unit_data_object_without_a_unit_key_raises_kolada_error() -> None:
    body = {"count": 1, "values": [{"kpi": "N15419", "period": 2023, "values": []}]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    async with httpx.AsyncClient(transport=transport) as http:
        client = KoladaClient("https://kolada.invalid/v3", http)

        with pytest.raises(KoladaError, match=r"malformed Kolada object at values\[0\]"):
            await client.fetch_units(["N15419"], ["V15E186100001"], [2023])


async def test_invalid_unit_id_is_rejected_before_any_request(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    client = KoladaClient(kolada_server.base_url, http)

    with pytest.raises(ValueError, match="invalid unit id"):
        await client.fetch_units(["N15419"], ["V15E1861/../x"], [2023])
    with pytest.raises(ValueError, match="invalid municipality id"):
        await client.list_units("Hallsberg")


# Against a server that misbehaves on purpose --------------------------------------------------------------------

QUICK = (0.01, 0.01, 0.01)
"""Pauses between tries short enough for a test; a Retry-After the server gives is still waited out."""


@pytest.fixture
def faulty() -> Iterator[KoladaSampleServer]:
    """A server of the test's own, with small pages, whose faults touch no other test."""
    with KoladaSampleServer(page_size=10) as server:
        yield server


async def test_a_large_request_comes_over_several_pages_of_v3(
    faulty: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    observations = await KoladaClient(faulty.base_url, http).fetch(list(DATA_PACK_KPIS), [HALLSBERG, RIKET], YEARS)
    pages = [request for request in faulty.requests if request.startswith("/v3/data/")]
    assert len(pages) >= 6 and all("page=" in page for page in pages[1:])  # each next_url followed
    assert {o.kpi for o in observations} == set(DATA_PACK_KPIS)
    first = (
        await http.get(f"{faulty.base_url}/data/kpi/N15419/municipality/1861,0000/year/2019,2020,2021,2022,2023,2024")
    ).json()
    assert set(first) == {"values", "count", "next_url"} and first["count"] == 10
    assert first["next_url"].startswith(faulty.base_url)


async def test_long_lists_are_split_into_requests_the_service_accepts(
    faulty: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    codes = [f"{n:04d}" for n in range(1800, 1830)]  # 30 municipalities: more than one request may name
    refused = await http.get(f"{faulty.base_url}/data/kpi/N15419/municipality/{','.join(codes)}/year/2023")
    assert refused.status_code == 400 and "at most 25" in refused.json()["error"]
    faulty.requests.clear()

    await KoladaClient(faulty.base_url, http).fetch(["N15419"], [*codes, HALLSBERG], list(range(1990, 2025)))
    asked = [request.split("?")[0] for request in faulty.requests if request.startswith("/v3/data/")]
    assert len(set(asked)) == 4  # 31 municipalities in 2 lists, 35 years in 2
    assert all(len(part.split(",")) <= 25 for path in asked for part in path.split("/")[5::2])


async def test_rate_limiting_is_waited_out_as_retry_after_says(
    faulty: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    faulty.inject(Fault("429", seconds=1))
    started = time.monotonic()
    observations = await KoladaClient(faulty.base_url, http, retry_delays=QUICK).fetch(["N15419"], [HALLSBERG], [2023])
    assert time.monotonic() - started >= 1.0  # the service's Retry-After, not the client's own short pause
    assert len(observations) == 3 and len(faulty.requests) == 2


@pytest.mark.parametrize("kind", ["500", "truncated", "slow"])
async def test_a_failure_that_may_pass_is_tried_again(
    faulty: KoladaSampleServer, http: httpx.AsyncClient, kind: FaultKind
) -> None:
    faulty.inject(Fault(kind, times=2, seconds=1.0))
    client = KoladaClient(faulty.base_url, http, retry_delays=QUICK, timeout=httpx.Timeout(0.3))
    observations = await client.fetch(["N15419"], [HALLSBERG], [2023])
    assert len(observations) == 3 and len(faulty.requests) == 3


async def test_an_empty_page_does_not_end_the_listing(faulty: KoladaSampleServer, http: httpx.AsyncClient) -> None:
    whole = await KoladaClient(faulty.base_url, http).fetch(["N15419"], [HALLSBERG, RIKET], YEARS)
    faulty.inject(Fault("empty_page", path="page=2"))
    again = await KoladaClient(faulty.base_url, http).fetch(["N15419"], [HALLSBERG, RIKET], YEARS)
    assert sorted(map(_key, again)) == sorted(map(_key, whole))
    assert any("after_empty" in request for request in faulty.requests)


async def test_a_failure_that_persists_is_retryable_for_temporal_and_one_that_will_not_change_is_not(
    faulty: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    faulty.inject(Fault("500", times=10))
    with pytest.raises(KoladaError, match="HTTP 500") as persisting:
        await KoladaClient(faulty.base_url, http, retry_delays=QUICK).fetch(["N15419"], [HALLSBERG], [2023])
    assert persisting.value.retryable and len(faulty.requests) == 4  # the first try and three more
    faulty.clear_faults()
    faulty.requests.clear()

    with pytest.raises(KoladaError, match="HTTP 404") as wrong:
        await KoladaClient(f"{faulty.base_url}/nowhere", http, retry_delays=QUICK).fetch(
            ["N15419"], [HALLSBERG], [2023]
        )
    assert not wrong.value.retryable and len(faulty.requests) == 1  # not tried again: it will not change

    faulty.inject(Fault("429", seconds=3600))
    with pytest.raises(KoladaError, match="HTTP 429") as later:
        await KoladaClient(faulty.base_url, http, retry_delays=QUICK).fetch(["N15419"], [HALLSBERG], [2023])
    assert later.value.retryable and later.value.retry_after == 3600  # an hour is Temporal's to wait, not ours


def test_a_retired_api_version_is_refused_with_the_address_to_use() -> None:
    for retired in ("https://api.kolada.se/v2", "https://api.kolada.se/v2/", "http://127.0.0.1:8088/v1"):
        with pytest.raises(ValueError, match="https://api.kolada.se/v3"):
            KoladaClient(retired, httpx.AsyncClient())
        with pytest.raises(ValidationError, match="Kolada retired"):
            Settings(kolada_base_url=retired)
    assert Settings().kolada_base_url.endswith("/v3")


# KPI metadata: `leda kolada check` ------------------------------------------------------------------------------


async def test_every_kpi_the_data_pack_gathers_is_known_with_its_unit_data(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    known, problems = await check_gathered_kpis(KoladaClient(kolada_server.base_url, http))
    assert set(known) == {*DATA_PACK_KPIS, *UNIT_KPIS} and problems == []
    assert all(known[kpi].has_ou_data for kpi in UNIT_KPIS)
    assert known["N15428"].title.endswith("hemkommun, andel (%)")  # the pupils living there, not its own schools


def test_unknown_ids_and_unit_kpis_without_unit_data_are_reported_by_id() -> None:
    known = {
        "N15419": KpiMetadata(id="N15419", title="x", has_ou_data=True),
        "N15428": KpiMetadata(id="N15428", title="y", has_ou_data=False),
    }
    problems = kpi_problems(known, municipality_kpis=("N15419", "N99999"), unit_kpis=("N15419", "N15428"))
    assert problems == [
        "N99999: Kolada does not know this KPI",
        "N15428: gathered per school unit, but Kolada publishes it for municipalities only (has_ou_data is false)",
    ]


def test_leda_kolada_check_lists_every_kpi_and_names_what_is_wrong(
    kolada_server: KoladaSampleServer, tmp_path: Path
) -> None:
    leda = str(Path(sys.executable).parent / "leda")
    env = {**os.environ, "LEDA_KOLADA_BASE_URL": kolada_server.base_url}
    listed = subprocess.run([leda, "kolada", "check"], env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    for kpi in {*DATA_PACK_KPIS, *UNIT_KPIS}:
        assert kpi in listed.stdout
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert re.match(r"N15419 +municipality and school units +yes +yes +kommunala skolor +Elever", rows["N15419"])
    assert re.match(r"N15507 +municipality +no +yes +hemkommun +Elever", rows["N15507"])  # pupils living there
    as_json = subprocess.run([leda, "kolada", "check", "--json"], env=env, capture_output=True, text=True, timeout=60)
    populations = {k["id"]: k["population"] for k in json.loads(as_json.stdout)["kpis"]}
    assert populations["N15419"] == "kommunala_skolor" and populations["N15428"] == "hemkommun"

    samples = tmp_path / "samples"
    shutil.copytree(SAMPLES_DIR, samples)
    metadata = json.loads((samples / "synthetic_kpi.json").read_text())
    metadata["values"] = [
        {**kpi, "has_ou_data": False} if kpi["id"] == "N15505" else kpi
        for kpi in metadata["values"]
        if kpi["id"] != "N15006"
    ]
    (samples / "synthetic_kpi.json").write_text(json.dumps(metadata))
    with KoladaSampleServer(samples_dir=samples) as other:
        env["LEDA_KOLADA_BASE_URL"] = other.base_url
        checked = subprocess.run([leda, "kolada", "check"], env=env, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 1
    assert "N15006: Kolada does not know this KPI" in checked.stderr
    assert "N15505: gathered per school unit, but Kolada publishes it for municipalities only" in checked.stderr

    env["LEDA_KOLADA_BASE_URL"] = f"http://127.0.0.1:{free_port()}/v3"
    unreachable = subprocess.run([leda, "kolada", "check"], env=env, capture_output=True, text=True, timeout=60)
    assert unreachable.returncode == 3 and unreachable.stderr.count("\n") == 1
