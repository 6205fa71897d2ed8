"""The Kolada client against the dev stack's Kolada stand-in (synthetic sample data, real HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

import activities.kolada
from activities.kolada import KoladaClient, KoladaError
from devstack.kolada import SAMPLES_DIR, KoladaSampleServer, load_samples, load_unit_samples
from devstack.ports import free_port
from domain.kpis import DATA_PACK_KPIS, RIKET, UNIT_KPIS, KpiObservation, UnitObservation

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


async def test_fetch_follows_next_page_until_the_last_page(
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
        client = KoladaClient("https://kolada.invalid/v2", http)

        with pytest.raises(KoladaError, match="not JSON") as raised:
            await client.fetch(["N15419"], [HALLSBERG], [2023])

    assert raised.value.status == 200


async def test_unreachable_kolada_raises_retryable_kolada_error(http: httpx.AsyncClient) -> None:
    client = KoladaClient(f"http://127.0.0.1:{free_port()}/v2", http)

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


async def test_list_units_filters_by_title_and_follows_next_page(
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
    # next_page links keep the municipality filter, so the later pages hold no other municipality's units.
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


async def test_fetch_units_follows_next_page_and_splits_many_units(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    requested: list[httpx.URL] = []

    async def record(request: httpx.Request) -> None:
        requested.append(request.url)

    http.event_hooks["request"] = [record]
    one_page = await KoladaClient(kolada_server.base_url, http).fetch_units(UNIT_KPIS, HALLSBERG_SCHOOLS, YEARS)
    assert len(requested) == 1
    requested.clear()
    monkeypatch.setattr(activities.kolada, "UNITS_PER_REQUEST", 2)

    paged = await KoladaClient(kolada_server.base_url, http, per_page=5).fetch_units(
        UNIT_KPIS, HALLSBERG_SCHOOLS, YEARS
    )

    # Two requests of two units each; per unit pair: 3 year-9 KPIs and N15814 over 6 years.
    first_pair = (3 + 1) * 2 * len(YEARS)  # 48 objects: 10 pages of 5
    second_pair = (3 * 1 + 1 * 2) * len(YEARS)  # the F-6 school has only N15814: 30 objects, 6 pages
    assert len(requested) == -(-first_pair // 5) + -(-second_pair // 5)
    assert {url.path.split("/ou/")[1].split("/")[0] for url in requested} == {
        "V15E186100001,V15E186100002",
        "V15E186100003,V15E186100004",
    }
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
            "next_page": "https://kolada.invalid/v2/oudata/kpi/N15419/ou/V15E186100001/year/2023?page=2",
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
        client = KoladaClient("https://kolada.invalid/v2", http)
        observations = await client.fetch_units(["N15419"], ["V15E186100001", "V15E186100002"], [2023])

    assert requested[0].path == "/v2/oudata/kpi/N15419/ou/V15E186100001,V15E186100002/year/2023"
    assert observations == [
        UnitObservation(kpi="N15419", unit_id="V15E186100001", period=2023, gender="T", value=81.5),
        UnitObservation(kpi="N15419", unit_id="V15E186100001", period=2023, gender="F", value=None),
        UnitObservation(kpi="N15419", unit_id="V15E186100002", period=2023, gender="T", value=70.0, status="X"),
    ]


async def test_unit_data_object_without_a_unit_key_raises_kolada_error() -> None:
    body = {"count": 1, "values": [{"kpi": "N15419", "period": 2023, "values": []}]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    async with httpx.AsyncClient(transport=transport) as http:
        client = KoladaClient("https://kolada.invalid/v2", http)

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
