"""Gathering from Kolada: the deep analysis's data pack, and each implementation year's follow-up figures."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import GatherFollowUpFiguresRequest, GatherKpisRequest
from adapters.kolada import KoladaClient, KoladaError
from domain.kpis import (
    RIKET,
    TOTAL,
    UNIT_KPIS,
    ComparisonGroup,
    OrganisationalUnit,
    UnitObservation,
    comparison_group_for,
    is_school_unit,
)
from domain.municipalities import members_of, pilot_name
from domain.payloads import FollowUpFigures, KpiDataPack

_T = TypeVar("_T")


class KpiGathering:
    def __init__(self, kolada: KoladaClient, base_url: str) -> None:
        self._kolada = kolada
        self._base_url = base_url

    @activity.defn(name="gather_kpis")
    async def gather_kpis(self, request: GatherKpisRequest) -> KpiDataPack:
        """The data-pack KPIs over the given years for the municipality and the whole country, and the unit
        KPIs for each of the municipality's school units, so differences between the schools show.

        A municipality without school units in Kolada gets a pack with empty unit lists.
        """
        members = members_of(request.kommunkod)  # a kommunalförbund's pack covers each member municipality
        group = await self._comparison_group(request, members)
        others = [code for code in group.members if code not in members] if group else []
        municipalities = [*members, RIKET, *others]
        asked = list(UNIT_KPIS) if request.unit_kpis is None else request.unit_kpis
        unit_kpis = await self._published_per_unit(asked)
        observations = await _kolada_call(self._kolada.fetch(request.kpis, municipalities, request.years))
        units, unit_observations = await self._school_units(members, unit_kpis, request.years)
        activity.logger.info(
            "kpis gathered",
            extra={
                "kommunkod": request.kommunkod,
                "observations": len(observations),
                "school_units": len(units),
                "unit_observations": len(unit_observations),
            },
        )
        return KpiDataPack(
            kolada_base_url=self._base_url,
            kpis=request.kpis,
            municipalities=municipalities,
            years=request.years,
            observations=observations,
            unit_kpis=unit_kpis,
            units=units,
            unit_observations=unit_observations,
            comparison_group=group,
        )

    @activity.defn(name="gather_follow_up_figures")
    async def gather_follow_up_figures(self, request: GatherFollowUpFiguresRequest) -> FollowUpFigures:
        """The plan's KPIs for one year, for the municipality (each member of a kommunalförbund) and, where Kolada
        publishes them per unit, for each of its school units.

        A KPI without a value for the year is listed as not published: Kolada has not put it out (yet), and the
        follow-up is made without it. Kolada unreachable, or an answer that is not its format, fails the activity,
        which Temporal retries.
        """
        members = members_of(request.kommunkod)
        observations = (
            await _kolada_call(self._kolada.fetch(request.kpis, members, [request.year])) if request.kpis else []
        )
        unit_kpis = await self._published_per_unit(request.kpis)
        units, unit_observations = await self._school_units(members, unit_kpis, [request.year])
        published = {o.kpi for o in observations if o.gender == TOTAL and o.value is not None}
        not_published = [kpi for kpi in request.kpis if kpi not in published]
        activity.logger.info(
            "follow-up figures gathered",
            extra={
                "kommunkod": request.kommunkod,
                "year": request.year,
                "observations": len(observations),
                "unit_observations": len(unit_observations),
                "not_published": not_published,
            },
        )
        return FollowUpFigures(
            kolada_base_url=self._base_url,
            year=request.year,
            kpis=request.kpis,
            observations=observations,
            unit_kpis=unit_kpis,
            units=units,
            unit_observations=unit_observations,
            not_published=not_published,
        )

    async def _school_units(
        self, members: list[str], unit_kpis: list[str], years: list[int]
    ) -> tuple[list[OrganisationalUnit], list[UnitObservation]]:
        """The members' school units, and the values of `unit_kpis` for each of them in `years`."""
        listed = [unit for member in members for unit in await _kolada_call(self._kolada.list_units(member))]
        # Kolada lists every kind of unit (preschools too); only the schools carry these KPIs.
        units = [unit for unit in listed if is_school_unit(unit.id)]
        if not units or not unit_kpis:
            return units, []
        titles = {unit.id: unit.title for unit in units}
        fetched = await _kolada_call(self._kolada.fetch_units(unit_kpis, [unit.id for unit in units], years))
        return units, [
            observation.model_copy(update={"unit_title": titles.get(observation.unit_id)}) for observation in fetched
        ]

    async def _published_per_unit(self, kpis: list[str]) -> list[str]:
        """The unit KPIs Kolada's metadata says it publishes per organisational unit (``has_ou_data``); the others
        are left out of the pack, with a warning, instead of being asked for and coming back empty."""
        if not kpis:
            return []
        known = await _kolada_call(self._kolada.kpis(kpis))
        published = [kpi for kpi in kpis if kpi in known and known[kpi].has_ou_data]
        if left_out := [kpi for kpi in kpis if kpi not in published]:
            activity.logger.warning("unit KPIs Kolada does not publish per unit left out", extra={"kpis": left_out})
        return published

    async def _comparison_group(self, request: GatherKpisRequest, members: list[str]) -> ComparisonGroup | None:
        """The municipality's own Kolada group of the kind the template names; None when it names none, for a
        kommunalförbund (each member has a group of its own), and when Kolada has no such group for it."""
        name = pilot_name(request.kommunkod)
        if request.comparison_group is None or len(members) != 1 or name is None:
            return None
        groups = await _kolada_call(self._kolada.municipality_groups(request.comparison_group))
        group = comparison_group_for(groups, request.comparison_group, name)
        if group is None:
            activity.logger.warning(
                "no comparison group in Kolada",
                extra={"kommunkod": request.kommunkod, "kind": request.comparison_group},
            )
        return group


async def _kolada_call(call: Awaitable[_T]) -> _T:
    """Await a Kolada client call, turning its failures into what Temporal should do about them."""
    try:
        return await call
    except ValueError as error:
        raise ApplicationError(str(error), type="KoladaRequestInvalid", non_retryable=True) from error
    except KoladaError as error:
        # Kolada down or slow is transient, and Temporal retries with backoff; a 400 or 404 never heals.
        if not error.retryable:
            raise ApplicationError(str(error), type="KoladaRequestInvalid", non_retryable=True) from error
        raise ApplicationError(str(error), type="KoladaUnavailable") from error
