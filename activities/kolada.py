"""Client for Kolada's v2 data API (key figures per municipality), as documented in Hypergene/kolada.

Only the client lives here; the Temporal activity that fetches the deep-analysis data pack wraps it. The
client takes its ``httpx.AsyncClient`` from the caller so the worker can share one connection pool.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin

import httpx

from domain.kpis import KpiObservation

log = logging.getLogger(__name__)

KPI_ID = re.compile(r"^[A-Z]\d{5}$")
"""Kolada KPI ids: one capital letter and five digits (N15419, U15461)."""

MUNICIPALITY_ID = re.compile(r"^\d{4}$")
"""Four-digit kommunkod, with 0000 for Riket."""

GENDERS = frozenset({"T", "K", "M", "F"})
"""T total, K women; men appear as M in the API and as F in its README, so both are accepted."""

MAX_PER_PAGE = 5000
_MAX_PAGES = 10_000
_BODY_SNIPPET = 300


class KoladaError(Exception):
    """Kolada could not be reached, answered with an HTTP error, or sent something that is not its format."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(f"{message} (url {url}, status {status if status is not None else 'none'})")
        self.url = url
        self.status = status

    @property
    def retryable(self) -> bool:
        """Whether trying again later may help: no response at all, rate limiting or a server error.

        A 400 or 404 means the request itself is wrong and will fail the same way every time.
        """
        return self.status is None or self.status == 429 or self.status >= 500


class KoladaClient:
    """Fetches KPI values from ``base_url`` (``https://api.kolada.se/v2`` or the dev stack's stand-in)."""

    def __init__(self, base_url: str, http: httpx.AsyncClient, *, per_page: int | None = None) -> None:
        """``per_page`` asks for smaller pages than Kolada's maximum of 5000 (tests use it to exercise paging)."""
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"Kolada base URL must start with http:// or https://, got {base_url!r}")
        if per_page is not None and not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}")
        self._base_url = base_url.rstrip("/")
        self._http = http
        self._per_page = per_page

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
        url: str | None = (
            f"{self._base_url}/data/kpi/{','.join(kpi_ids)}"
            f"/municipality/{','.join(municipality_ids)}/year/{','.join(str(year) for year in periods)}"
        )
        params: dict[str, int] | None = {"per_page": self._per_page} if self._per_page else None
        observations: list[KpiObservation] = []
        visited: set[str] = set()
        while url is not None:
            if url in visited or len(visited) >= _MAX_PAGES:
                raise KoladaError("Kolada's next_page links do not end", url=url, status=None)
            visited.add(url)
            envelope, final_url, status = await self._get_json(url, params)
            params = None  # next_page links carry their own query
            observations.extend(_observations(envelope, final_url, status))
            next_page = envelope.get("next_page")
            if next_page is not None and not isinstance(next_page, str):
                raise KoladaError(f"next_page is {type(next_page).__name__}, not a URL", url=final_url, status=status)
            url = urljoin(final_url, next_page) if next_page else None
        log.debug("fetched %d Kolada values in %d page(s)", len(observations), len(visited))
        return observations

    async def _get_json(self, url: str, params: dict[str, int] | None) -> tuple[dict[str, Any], str, int]:
        try:
            # The live API is served over https and may redirect plain http.
            response = await self._http.get(url, params=params, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise KoladaError(f"could not reach Kolada: {type(exc).__name__}: {exc}", url=url) from exc
        final_url = str(response.url)
        status = response.status_code
        if status != httpx.codes.OK:
            snippet = response.text[:_BODY_SNIPPET].strip()
            raise KoladaError(
                f"Kolada answered HTTP {status} {response.reason_phrase}: {snippet}", url=final_url, status=status
            )
        try:
            body = response.json()
        except ValueError as exc:
            snippet = response.text[:_BODY_SNIPPET].strip()
            raise KoladaError(
                f"Kolada sent a body that is not JSON: {snippet!r}", url=final_url, status=status
            ) from exc
        if not isinstance(body, dict) or not isinstance(body.get("values"), list):
            raise KoladaError('Kolada sent JSON without the {"values": [...]} envelope', url=final_url, status=status)
        return body, final_url, status


def _observations(envelope: dict[str, Any], url: str, status: int) -> list[KpiObservation]:
    observations = []
    for position, data_object in enumerate(envelope["values"]):
        try:
            observations.extend(_parse_data_object(data_object))
        except (KeyError, TypeError, ValueError) as exc:
            raise KoladaError(
                f"malformed Kolada data object at values[{position}]: {exc}; object: {str(data_object)[:200]}",
                url=url,
                status=status,
            ) from exc
    return observations


def _parse_data_object(data_object: dict[str, Any]) -> list[KpiObservation]:
    kpi = data_object["kpi"]
    municipality = data_object["municipality"]
    if not isinstance(kpi, str) or not isinstance(municipality, str):
        raise TypeError("kpi and municipality must be strings")
    period = data_object["period"]
    # The README prints the period as a string, the live API sends an integer: accept both.
    if isinstance(period, bool) or not isinstance(period, int | str) or not str(period).isdigit():
        raise ValueError(f"period {period!r} is not a year")
    observations = []
    for entry in data_object["values"]:
        gender = entry["gender"]
        if gender not in GENDERS:
            raise ValueError(f"unknown gender {gender!r}; expected one of {', '.join(sorted(GENDERS))}")
        value = entry["value"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TypeError(f"value {value!r} is not a number or null")
        status = entry.get("status")
        if status is not None and not isinstance(status, str):
            raise TypeError(f"status {status!r} is not a string")
        observations.append(
            KpiObservation(
                kpi=kpi,
                municipality=municipality,
                period=int(period),
                gender=gender,
                value=None if value is None else float(value),
                # Kolada sends "" when there is nothing to remark; None says that without a magic string.
                status=status or None,
            )
        )
    return observations


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
