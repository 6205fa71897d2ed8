"""The Kolada client against the dev stack's Kolada stand-in (synthetic sample data, real HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from activities.kolada import KoladaClient, KoladaError
from devstack.kolada import SAMPLES_DIR, KoladaSampleServer, load_samples
from devstack.ports import free_port
from domain.kpis import DATA_PACK_KPIS, RIKET, KpiObservation

HALLSBERG = "1861"
LJUSNARSBERG = "1864"
YEARS = list(range(2019, 2025))


@pytest.fixture(scope="module")
def kolada_server() -> Iterator[KoladaSampleServer]:
    server = KoladaSampleServer()
    server.start()
    yield server
    server.stop()


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
