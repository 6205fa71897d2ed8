"""Client for Kolada's v3 API (key figures per municipality and per organisational unit, e.g. a school).

Kolada retired v2; v3 (https://api.kolada.se/v3, Swagger at /v3/docs) keeps v2's paths and envelope
(``{"values": [...], "count": n}``) and pages with ``next_url``, the full address of the next page, until a page has
none. Each of a data request's lists (KPIs, municipalities or units, years) may hold at most 25 items, so longer
lists are asked for in several requests. Rate limiting (429) and server errors (5xx) are retried here a few times,
after the ``Retry-After`` the service gives or a growing pause; what still fails is a ``KoladaError`` whose
``retryable`` tells the activity whether Temporal should try again later, or whether the request itself is wrong.

Only the client lives here; the Temporal activity that fetches the deep-analysis data pack wraps it. The client
takes its ``httpx.AsyncClient`` from the caller so the worker can share one connection pool.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urljoin

import httpx

from domain.kpis import (
    DATA_PACK_KPIS,
    UNIT_KPIS,
    ComparisonGroup,
    KpiMetadata,
    KpiObservation,
    OrganisationalUnit,
    UnitObservation,
    kpi_problems,
)

log = logging.getLogger(__name__)

_Item = TypeVar("_Item")

KPI_ID = re.compile(r"^[A-Z]\d{5}$")
"""Kolada KPI ids: one capital letter and five digits (N15419, U15461)."""

MUNICIPALITY_ID = re.compile(r"^\d{4}$")
"""Four-digit kommunkod, with 0000 for Riket."""

UNIT_ID = re.compile(r"^[A-Z0-9]{4,20}$")
"""Organisational-unit ids: capitals and digits, like V15E186100001 (kept loose; only the examples are known)."""

GENDERS = frozenset({"T", "K", "M", "F"})
"""T total, K women; men appear as M in the API and as F in its README, so both are accepted."""

MAX_PER_PAGE = 5000
ITEMS_PER_LIST = 25
"""The most KPIs, municipalities, units or years one data request may name in each of its lists."""
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
"""The pauses before the second, third, ... try of a request answered 429 or 5xx (or not at all): the client
uses the first three unless told otherwise (LEDA_KOLADA_RETRIES)."""
LONGEST_RETRY_AFTER = 60.0
"""A longer Retry-After is not waited out here: the activity fails, and Temporal tries again later."""
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_MAX_PAGES = 10_000
_BODY_SNIPPET = 300


class KoladaError(Exception):
    """Kolada could not be reached, answered with an HTTP error, or sent something that is not its format."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{message} (url {url}, status {status if status is not None else 'none'})")
        self.url = url
        self.status = status
        self._transient = transient
        self.retry_after = retry_after
        """Seconds the service asked to wait before the next try (its Retry-After), when it said."""

    @property
    def retryable(self) -> bool:
        """Whether trying again later may help: no response at all, rate limiting, a server error, or a body cut
        short on the way. A 400 or 404 means the request itself is wrong and will fail the same way every time."""
        return self._transient or self.status is None or self.status == 429 or self.status >= 500


def check_api_version(base_url: str) -> str:
    """``base_url``, unless it is one of the API versions Kolada retired: a ValueError giving the v3 address."""
    version = base_url.rstrip("/").rsplit("/", 1)[-1]
    if version in ("v1", "v2"):
        raise ValueError(f"Kolada retired its {version} API; give the v3 address, such as https://api.kolada.se/v3")
    return base_url


class KoladaClient:
    """Fetches KPI values from ``base_url`` (``https://api.kolada.se/v3`` or the dev stack's stand-in)."""

    def __init__(
        self,
        base_url: str,
        http: httpx.AsyncClient,
        *,
        per_page: int | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS[:3],
        timeout: httpx.Timeout = REQUEST_TIMEOUT,
    ) -> None:
        """``per_page`` asks for smaller pages than Kolada's maximum of 5000 (tests use it to exercise paging);
        ``retry_delays`` are the pauses between the tries of a request that met 429 or 5xx."""
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"Kolada base URL must start with http:// or https://, got {base_url!r}")
        check_api_version(base_url)
        if per_page is not None and not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}")
        self._base_url = base_url.rstrip("/")
        self._http = http
        self._per_page = per_page
        self._retry_delays = tuple(retry_delays)
        self._timeout = timeout

    @property
    def base_url(self) -> str:
        return self._base_url

    async def fetch(
        self, kpis: Sequence[str], municipalities: Sequence[str], years: Sequence[int]
    ) -> list[KpiObservation]:
        """Every published value of ``kpis`` for ``municipalities`` in ``years``, one per gender, all pages.

        Combinations Kolada has no data for are simply absent from the result.
        """
        kpi_ids = _validated_ids(kpis, KPI_ID, "KPI id", "like N15419")
        municipality_ids = _validated_ids(municipalities, MUNICIPALITY_ID, "municipality id", "4 digits, e.g. 1861")
        periods = _validated_years(years)
        observations: list[KpiObservation] = []
        for kpi_part, place_part, year_part in _requests(kpi_ids, municipality_ids, periods):
            url = f"{self._base_url}/data/kpi/{kpi_part}/municipality/{place_part}/year/{year_part}"
            observations.extend(await self._collect(url, {}, _parse_data_object))
        log.debug("fetched %d Kolada values", len(observations))
        return observations

    async def kpis(self, kpis: Sequence[str]) -> dict[str, KpiMetadata]:
        """Kolada's metadata of each of ``kpis`` it knows, by id (``/kpi/{id,...}``); an unknown id is absent."""
        kpi_ids = _validated_ids(kpis, KPI_ID, "KPI id", "like N15419")
        found: dict[str, KpiMetadata] = {}
        for chunk in _chunks(kpi_ids):
            for item in await self._collect(f"{self._base_url}/kpi/{','.join(chunk)}", {}, _parse_kpi):
                found[item.id] = item
        return found

    async def municipality_groups(self, title: str) -> list[ComparisonGroup]:
        """Kolada's municipality groups whose title holds ``title`` (its own filter), with their members."""
        if not title.strip():
            raise ValueError("title must not be blank")
        return await self._collect(f"{self._base_url}/municipality_groups", {"title": title}, _parse_group)

    async def list_units(self, municipality: str, *, title: str | None = None) -> list[OrganisationalUnit]:
        """Kolada's organisational units (schools, preschools, ...) in ``municipality``, all pages.

        ``title`` keeps the units whose title contains it (Kolada's own filter, e.g. "skola").
        """
        (municipality_id,) = _validated_ids([municipality], MUNICIPALITY_ID, "municipality id", "4 digits, e.g. 1861")
        params: dict[str, str | int] = {"municipality": municipality_id}
        if title is not None:
            if not title.strip():
                raise ValueError("title must not be blank; leave it out to list every unit")
            params["title"] = title
        units = await self._collect(f"{self._base_url}/ou", params, _parse_unit)
        log.debug("listed %d Kolada units in %s", len(units), municipality_id)
        return units

    async def fetch_units(
        self, kpis: Sequence[str], unit_ids: Sequence[str], years: Sequence[int]
    ) -> list[UnitObservation]:
        """Every published value of ``kpis`` for the organisational units ``unit_ids`` in ``years``, all pages.

        One observation per gender, without ``unit_title`` (Kolada's unit data carries only the id). Many
        units are asked for in several requests. Combinations Kolada has no data for are absent.
        """
        kpi_ids = _validated_ids(kpis, KPI_ID, "KPI id", "like N15419")
        units = _validated_ids(unit_ids, UNIT_ID, "unit id", "capitals and digits like V15E186100001")
        periods = _validated_years(years)
        observations: list[UnitObservation] = []
        for kpi_part, unit_part, year_part in _requests(kpi_ids, units, periods):
            url = f"{self._base_url}/oudata/kpi/{kpi_part}/ou/{unit_part}/year/{year_part}"
            observations.extend(await self._collect(url, {}, _parse_unit_data_object))
        log.debug("fetched %d Kolada unit values for %d unit(s)", len(observations), len(units))
        return observations

    async def _collect(
        self, url: str, params: dict[str, str | int], parse: Callable[[dict[str, Any]], list[_Item]]
    ) -> list[_Item]:
        items: list[_Item] = []
        async for envelope, final_url, status in self._pages(url, params):
            for position, obj in enumerate(envelope["values"]):
                try:
                    if not isinstance(obj, dict):
                        raise TypeError(f"expected an object, got {type(obj).__name__}")
                    items.extend(parse(obj))
                except (KeyError, TypeError, ValueError) as exc:
                    raise KoladaError(
                        f"malformed Kolada object at values[{position}]: {exc}; object: {str(obj)[:200]}",
                        url=final_url,
                        status=status,
                    ) from exc
        return items

    async def _pages(
        self, first_url: str, params: dict[str, str | int]
    ) -> AsyncIterator[tuple[dict[str, Any], str, int]]:
        """Each page's envelope, following ``next_url`` until there is none."""
        url: str | None = first_url
        query: dict[str, str | int] | None = dict(params)
        if self._per_page:
            query = {**params, "per_page": self._per_page}
        visited: set[str] = set()
        while url is not None:
            if url in visited or len(visited) >= _MAX_PAGES:
                raise KoladaError("Kolada's next_url links do not end", url=url, status=None)
            visited.add(url)
            envelope, final_url, status = await self._get_json(url, query or None)
            query = None  # next_url links carry their own query
            yield envelope, final_url, status
            next_url = envelope.get("next_url")
            if next_url is not None and not isinstance(next_url, str):
                raise KoladaError(f"next_url is {type(next_url).__name__}, not a URL", url=final_url, status=status)
            url = urljoin(final_url, next_url) if next_url else None

    async def _get_json(self, url: str, params: dict[str, str | int] | None) -> tuple[dict[str, Any], str, int]:
        """One page, tried again after the pauses of ``retry_delays`` while the failure is one that may pass."""
        for delay in self._retry_delays:
            try:
                return await self._get_json_once(url, params)
            except KoladaError as error:
                pause = delay if error.retry_after is None else error.retry_after
                if not error.retryable or pause > LONGEST_RETRY_AFTER:
                    raise
                log.info("Kolada request failed (%s); trying again in %.1f s", error, pause)
                await asyncio.sleep(pause)
        return await self._get_json_once(url, params)  # the last try: what fails now is the caller's to handle

    async def _get_json_once(self, url: str, params: dict[str, str | int] | None) -> tuple[dict[str, Any], str, int]:
        try:
            # The live API is served over https and may redirect plain http.
            response = await self._http.get(url, params=params, follow_redirects=True, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise KoladaError(f"could not reach Kolada: {type(exc).__name__}: {exc}", url=url) from exc
        final_url = str(response.url)
        status = response.status_code
        if status != httpx.codes.OK:
            snippet = response.text[:_BODY_SNIPPET].strip()
            raise KoladaError(
                f"Kolada answered HTTP {status} {response.reason_phrase}: {snippet}",
                url=final_url,
                status=status,
                retry_after=_retry_after(response.headers.get("Retry-After")),
            )
        try:
            body = response.json()
        except ValueError as exc:
            # Cut short on the way (a dropped connection mid-body): the same request may well succeed next time.
            snippet = response.text[:_BODY_SNIPPET].strip()
            raise KoladaError(
                f"Kolada sent a body that is not JSON: {snippet!r}", url=final_url, status=status, transient=True
            ) from exc
        if not isinstance(body, dict) or not isinstance(body.get("values"), list):
            raise KoladaError('Kolada sent JSON without the {"values": [...]} envelope', url=final_url, status=status)
        return body, final_url, status


def _parse_data_object(data_object: dict[str, Any]) -> list[KpiObservation]:
    kpi = data_object["kpi"]
    municipality = data_object["municipality"]
    if not isinstance(kpi, str) or not isinstance(municipality, str):
        raise TypeError("kpi and municipality must be strings")
    period = _period(data_object["period"])
    return [
        KpiObservation(kpi=kpi, municipality=municipality, period=period, gender=gender, value=value, status=status)
        for gender, value, status in _gender_values(data_object["values"])
    ]


def _parse_unit_data_object(data_object: dict[str, Any]) -> list[UnitObservation]:
    kpi = data_object["kpi"]
    # The README spells the unit key "out", third-party code reading the live API uses "ou": accept both.
    unit_id = data_object["ou"] if "ou" in data_object else data_object["out"]
    if not isinstance(kpi, str) or not isinstance(unit_id, str):
        raise TypeError("kpi and ou (or out) must be strings")
    period = _period(data_object["period"])
    return [
        UnitObservation(kpi=kpi, unit_id=unit_id, period=period, gender=gender, value=value, status=status)
        for gender, value, status in _gender_values(data_object["values"])
    ]


async def check_gathered_kpis(client: KoladaClient) -> tuple[dict[str, KpiMetadata], list[str]]:
    """Kolada's metadata of every KPI the data pack gathers, and what is wrong with them (``kpi_problems``).

    What `leda kolada check` shows, and what a worker warns of at start. Raises KoladaError when Kolada cannot be
    asked."""
    known = await client.kpis(list(dict.fromkeys((*DATA_PACK_KPIS, *UNIT_KPIS))))
    return known, kpi_problems(known)


def _parse_kpi(kpi: dict[str, Any]) -> list[KpiMetadata]:
    # Kolada writes its flags as 0/1 or as booleans, depending on the field.
    return [
        KpiMetadata(
            id=kpi["id"],
            title=kpi["title"],
            municipality_type=kpi.get("municipality_type"),
            is_divided_by_gender=bool(kpi.get("is_divided_by_gender")),
            has_ou_data=bool(kpi.get("has_ou_data")),
            operating_area=kpi.get("operating_area"),
        )
    ]


def _parse_group(group: dict[str, Any]) -> list[ComparisonGroup]:
    members = [member["id"] for member in group["members"]]
    if not all(isinstance(member, str) and MUNICIPALITY_ID.match(member) for member in members):
        raise ValueError("a group's members must be four-digit municipality ids")
    return [ComparisonGroup(id=group["id"], title=group["title"], members=members)]


def _parse_unit(unit: dict[str, Any]) -> list[OrganisationalUnit]:
    unit_id, title, municipality = unit["id"], unit["title"], unit["municipality"]
    if not all(isinstance(field, str) for field in (unit_id, title, municipality)):
        raise TypeError("id, title and municipality must be strings")
    return [OrganisationalUnit(id=unit_id, title=title, municipality=municipality)]


def _period(period: object) -> int:
    # The README prints the period as a string, the live API sends an integer: accept both.
    if isinstance(period, bool) or not isinstance(period, int | str) or not str(period).isdigit():
        raise ValueError(f"period {period!r} is not a year")
    return int(period)


def _gender_values(entries: object) -> list[tuple[str, float | None, str | None]]:
    """(gender, value, status) of each entry of a data object's ``values``."""
    if not isinstance(entries, list):
        raise TypeError(f"values must be a list, got {type(entries).__name__}")
    parsed = []
    for entry in entries:
        gender = entry["gender"]
        if gender not in GENDERS:
            raise ValueError(f"unknown gender {gender!r}; expected one of {', '.join(sorted(GENDERS))}")
        value = entry["value"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TypeError(f"value {value!r} is not a number or null")
        status = entry.get("status")
        if status is not None and not isinstance(status, str):
            raise TypeError(f"status {status!r} is not a string")
        # Kolada sends "" when there is nothing to remark; None says that without a magic string.
        parsed.append((gender, None if value is None else float(value), status or None))
    return parsed


def _validated_ids(ids: Sequence[str], pattern: re.Pattern[str], what: str, expected: str) -> list[str]:
    if isinstance(ids, str):
        raise TypeError(f"pass the {what}s as a list, not the single string {ids!r}")
    if not ids:
        raise ValueError(f"at least one {what} is needed")
    bad = [item for item in ids if not isinstance(item, str) or not pattern.match(item)]
    if bad:
        raise ValueError(f"invalid {what}(s) {', '.join(repr(item) for item in bad)}: expected {expected}")
    return list(dict.fromkeys(ids))


def _validated_years(years: Sequence[int]) -> list[int]:
    if not years:
        raise ValueError("at least one year is needed")
    bad = [year for year in years if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100]
    if bad:
        raise ValueError(f"invalid year(s) {', '.join(repr(year) for year in bad)}: expected integers like 2023")
    return sorted(set(years))


def _requests(first: Sequence[str], second: Sequence[str], years: Sequence[int]) -> list[tuple[str, str, str]]:
    """The path segments of the requests that together ask for every combination, each list at most
    ITEMS_PER_LIST long (Kolada refuses longer ones)."""
    return [
        (",".join(a), ",".join(b), ",".join(str(year) for year in c))
        for a in _chunks(first)
        for b in _chunks(second)
        for c in _chunks(years)
    ]


def _chunks(items: Sequence[_Item]) -> list[Sequence[_Item]]:
    return [items[start : start + ITEMS_PER_LIST] for start in range(0, len(items), ITEMS_PER_LIST)]


def _retry_after(header: str | None) -> float | None:
    """Seconds to wait as a Retry-After header says: a number of seconds, or an HTTP date."""
    if header is None:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
