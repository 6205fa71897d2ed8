"""The gather_kpis and gather_follow_up_figures activities against the dev stack's Kolada stand-in (synthetic
sample data, real HTTP)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import GatherFollowUpFiguresRequest, GatherKpisRequest
from activities.kpi_gathering import KpiGathering
from adapters.kolada import KoladaClient
from devstack.kolada import Fault, KoladaSampleServer
from devstack.ports import free_port
from domain.kpis import DATA_PACK_KPIS, RIKET, UNIT_KPIS
from domain.payloads import FollowUpFigures, KpiDataPack

HALLSBERG = "1861"
HABO = "0643"  # the samples list no units for Habo
YEARS = list(range(2019, 2025))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


def _gathering(base_url: str, http: httpx.AsyncClient) -> KpiGathering:
    return KpiGathering(KoladaClient(base_url, http, retry_delays=(0.01,)), base_url)


async def _gather(gathering: KpiGathering, kommunkod: str, **request: object) -> KpiDataPack:
    arguments: dict[str, object] = {"kommunkod": kommunkod, "kpis": list(DATA_PACK_KPIS), "years": YEARS, **request}
    result: KpiDataPack = await ActivityEnvironment().run(
        gathering.gather_kpis, GatherKpisRequest.model_validate(arguments)
    )
    return result


async def test_pack_holds_municipality_riket_every_year_and_each_school(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    pack = await _gather(_gathering(kolada_server.base_url, http), HALLSBERG)

    assert pack.kolada_base_url == kolada_server.base_url
    assert pack.municipalities == [HALLSBERG, RIKET]
    assert pack.years == YEARS
    for municipality in (HALLSBERG, RIKET):
        for kpi in DATA_PACK_KPIS:
            years = {
                o.period for o in pack.observations if (o.municipality, o.kpi, o.gender) == (municipality, kpi, "T")
            }
            assert years == set(YEARS), (municipality, kpi)

    # The preschool the listing also holds is not a school unit.
    assert [unit.id for unit in pack.units] == ["V15E186100001", "V15E186100002", "V15E186100003", "V15E186100004"]
    assert pack.unit_kpis == list(UNIT_KPIS)
    titles = {unit.id: unit.title for unit in pack.units}
    assert all(o.unit_title == titles[o.unit_id] for o in pack.unit_observations)
    assert {o.kpi for o in pack.unit_observations} == set(UNIT_KPIS)

    # Per unit, not an average: the schools' values differ in every year, for every unit KPI.
    totals: dict[tuple[str, int], dict[str, float | None]] = defaultdict(dict)
    for o in pack.unit_observations:
        if o.gender == "T":
            totals[(o.kpi, o.period)][o.unit_id] = o.value
    for kpi in UNIT_KPIS:
        for year in YEARS:
            values = [value for value in totals[(kpi, year)].values() if value is not None]
            assert len(values) >= 3 and len(set(values)) == len(values), (kpi, year, values)
    # The F-6 school has certified teachers but no year-9 results.
    f6 = {o.kpi for o in pack.unit_observations if o.unit_id == "V15E186100003"}
    assert f6 == {"N15814"}


async def test_pack_survives_the_payload_round_trip(kolada_server: KoladaSampleServer, http: httpx.AsyncClient) -> None:
    pack = await _gather(_gathering(kolada_server.base_url, http), HALLSBERG, kpis=["N15419"], years=[2024])

    assert KpiDataPack.model_validate_json(pack.model_dump_json()) == pack


async def test_pack_from_before_unit_data_stays_valid() -> None:
    old = {
        "kolada_base_url": "https://api.kolada.se/v3",
        "kpis": ["N15419"],
        "municipalities": [HALLSBERG, RIKET],
        "years": [2024],
        "observations": [],
    }

    pack = KpiDataPack.model_validate(old)

    assert pack.units == [] and pack.unit_observations == [] and pack.unit_kpis == []


async def test_municipality_without_units_gets_empty_unit_lists(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    pack = await _gather(_gathering(kolada_server.base_url, http), HABO)

    assert {o.municipality for o in pack.observations} == {HABO, RIKET}
    assert pack.units == []
    assert pack.unit_observations == []


async def test_requested_unit_kpis_replace_the_default(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    pack = await _gather(_gathering(kolada_server.base_url, http), HALLSBERG, unit_kpis=["N15814"], years=[2024])

    assert pack.unit_kpis == ["N15814"]
    assert {(o.kpi, o.period) for o in pack.unit_observations} == {("N15814", 2024)}
    assert len({o.unit_id for o in pack.unit_observations}) == 4


async def test_invalid_kommunkod_fails_without_retry(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    with pytest.raises(ApplicationError) as raised:
        await _gather(_gathering(kolada_server.base_url, http), "186")

    assert raised.value.type == "KoladaRequestInvalid"
    assert raised.value.non_retryable


async def test_kolada_404_fails_without_retry(kolada_server: KoladaSampleServer, http: httpx.AsyncClient) -> None:
    with pytest.raises(ApplicationError) as raised:
        await _gather(_gathering(kolada_server.base_url + "/no-such-api", http), HALLSBERG)

    assert raised.value.type == "KoladaRequestInvalid"
    assert raised.value.non_retryable


async def test_unreachable_kolada_is_retried(http: httpx.AsyncClient) -> None:
    with pytest.raises(ApplicationError) as raised:
        await _gather(_gathering(f"http://127.0.0.1:{free_port()}/v3", http), HALLSBERG)

    assert raised.value.type == "KoladaUnavailable"
    assert not raised.value.non_retryable


async def test_a_body_cut_short_or_a_server_error_is_for_temporal_to_retry(http: httpx.AsyncClient) -> None:
    """After the client's own tries, a failure that may pass is KoladaUnavailable: Temporal tries again later."""
    with KoladaSampleServer() as faulty:
        for fault in (Fault("500", times=10), Fault("truncated", times=10)):
            faulty.clear_faults()
            faulty.inject(fault)
            with pytest.raises(ApplicationError) as raised:
                await _gather(_gathering(faulty.base_url, http), HALLSBERG)
            assert raised.value.type == "KoladaUnavailable" and not raised.value.non_retryable
        faulty.clear_faults()
        pack = await _gather(_gathering(faulty.base_url, http), HALLSBERG)  # and once it passes, the pack comes
    assert pack.observations


async def test_the_pack_holds_the_municipalitys_comparison_group_when_the_template_asks(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    gathering = _gathering(kolada_server.base_url, http)
    pack = await _gather(gathering, HALLSBERG, comparison_group="Liknande kommuner grundskola")

    group = pack.comparison_group
    assert group is not None and group.title == "Liknande kommuner grundskola, Hallsberg"
    assert HALLSBERG in group.members and len(group.members) > 3
    assert pack.municipalities[:2] == [HALLSBERG, RIKET] and set(group.members) <= set(pack.municipalities)
    for member in group.members:  # every member's figures, so the report can set the municipality among them
        assert any(o.municipality == member and o.kpi == "N15428" for o in pack.observations), member
    assert KpiDataPack.model_validate(pack.model_dump(mode="json")) == pack

    assert (await _gather(gathering, HALLSBERG)).comparison_group is None  # the template asks for none
    # A kind of group Kolada has none of for the municipality: Riket alone, and the pack still comes.
    assert (await _gather(gathering, HALLSBERG, comparison_group="Kommungrupp 2023")).comparison_group is None
    # A kommunalförbund's members each have a group of their own: none for the förbund.
    assert (
        await _gather(gathering, "1083+1272", comparison_group="Liknande kommuner grundskola")
    ).comparison_group is None


async def test_unit_kpis_are_those_kolada_says_it_publishes_per_unit(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    """N15428 counts the pupils living in the municipality: Kolada has no figure of it per school, and its metadata
    says so (has_ou_data false), so the pack leaves it out of the unit KPIs rather than asking and getting nothing."""
    pack = await _gather(
        _gathering(kolada_server.base_url, http), HALLSBERG, unit_kpis=["N15419", "N15428"], years=[2024]
    )
    assert pack.unit_kpis == ["N15419"]
    assert {o.kpi for o in pack.unit_observations} == {"N15419"}


# ---- each implementation year's follow-up figures ------------------------------------------------------------


async def _figures(gathering: KpiGathering, kommunkod: str, kpis: list[str], year: int) -> FollowUpFigures:
    request = GatherFollowUpFiguresRequest(kommunkod=kommunkod, kpis=kpis, year=year)
    result: FollowUpFigures = await ActivityEnvironment().run(gathering.gather_follow_up_figures, request)
    return result


async def test_the_follow_up_figures_are_the_plans_kpis_for_the_year_for_the_municipality_and_its_schools(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    """N15419 counts the municipality's own schools and is published per school; N15507 counts the pupils living
    in the municipality, so it has no figure per school."""
    figures = await _figures(_gathering(kolada_server.base_url, http), HALLSBERG, ["N15419", "N15507"], 2025)

    assert (figures.year, figures.kpis, figures.not_published) == (2025, ["N15419", "N15507"], [])
    assert set(figures.published(HALLSBERG)) == {"N15419", "N15507"}
    assert {(o.municipality, o.period) for o in figures.observations} == {(HALLSBERG, 2025)}  # no Riket, one year
    assert figures.unit_kpis == ["N15419"]
    assert {o.kpi for o in figures.unit_observations} == {"N15419"}
    assert {o.period for o in figures.unit_observations} == {2025}
    assert len({o.unit_id for o in figures.unit_observations}) >= 3
    assert FollowUpFigures.model_validate(figures.model_dump(mode="json")) == figures


async def test_a_year_kolada_has_not_published_is_recorded_as_no_value_published(
    kolada_server: KoladaSampleServer, http: httpx.AsyncClient
) -> None:
    figures = await _figures(_gathering(kolada_server.base_url, http), HALLSBERG, ["N15419", "N15507"], 2026)

    assert figures.not_published == ["N15419", "N15507"]
    assert figures.observations == [] and figures.unit_observations == []
    assert figures.published(HALLSBERG) == {}


async def test_the_follow_up_figures_come_through_an_empty_page_and_kolada_failing_is_for_temporal_to_retry(
    http: httpx.AsyncClient,
) -> None:
    with KoladaSampleServer() as faulty:
        faulty.inject(Fault("empty_page", times=1, path="/v3/data/"))
        figures = await _figures(_gathering(faulty.base_url, http), HALLSBERG, ["N15419"], 2025)
        assert "N15419" in figures.published(HALLSBERG)

        for fault in (Fault("500", times=10), Fault("truncated", times=10), Fault("429", times=10)):
            faulty.clear_faults()
            faulty.inject(fault)
            with pytest.raises(ApplicationError) as raised:
                await _figures(_gathering(faulty.base_url, http), HALLSBERG, ["N15419"], 2025)
            assert raised.value.type == "KoladaUnavailable" and not raised.value.non_retryable, fault.kind
