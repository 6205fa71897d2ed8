"""Gathering the deep analysis's data pack from Kolada."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import GatherKpisRequest
from activities.kolada import KoladaClient, KoladaError
from domain.kpis import RIKET
from domain.payloads import KpiDataPack


class KpiGathering:
    def __init__(self, kolada: KoladaClient, base_url: str) -> None:
        self._kolada = kolada
        self._base_url = base_url

    @activity.defn(name="gather_kpis")
    async def gather_kpis(self, request: GatherKpisRequest) -> KpiDataPack:
        """The municipality's and the whole country's values for the data-pack KPIs over the given years."""
        municipalities = [request.kommunkod, RIKET]
        try:
            observations = await self._kolada.fetch(request.kpis, municipalities, request.years)
        except ValueError as error:
            raise ApplicationError(str(error), type="KoladaRequestInvalid", non_retryable=True) from error
        except KoladaError as error:
            # Kolada down or slow is transient, and Temporal retries with backoff; a 400 or 404 never heals.
            if not error.retryable:
                raise ApplicationError(str(error), type="KoladaRequestInvalid", non_retryable=True) from error
            raise ApplicationError(str(error), type="KoladaUnavailable") from error
        activity.logger.info("kpis gathered", extra={"kommunkod": request.kommunkod, "observations": len(observations)})
        return KpiDataPack(
            kolada_base_url=self._base_url,
            kpis=request.kpis,
            municipalities=municipalities,
            years=request.years,
            observations=observations,
        )
