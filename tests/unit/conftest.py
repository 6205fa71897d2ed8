"""Fixtures for the domain's unit tests: a fixed clock, deterministic ids and a pilot driven through the rules."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devstack.sample_payloads import answer_for
from domain.events import Event
from domain.kpis import DATA_PACK_KPIS, RIKET, KpiObservation
from domain.payloads import KpiDataPack
from domain.programmes import LFR_SKOLA
from domain.roles import Role
from domain.rules import advance, check_completion, completion_events, start_events
from domain.state import MunicipalityState, fold
from domain.template import ProgrammeTemplate

START = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)


class CountingIds:
    """Deterministic event ids: UUID(int=1), UUID(int=2), …"""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def __call__(self) -> uuid.UUID:
        return uuid.UUID(int=next(self._counter))


def one_participant_per_role() -> dict[Role, str]:
    return {role: f"p-{role.value}" for role in Role}


def kpi_data_pack() -> dict[str, Any]:
    """What the gather_kpis automation submits: a small, invented Kolada data pack for Hallsberg and Riket."""
    observations = [
        KpiObservation(kpi=kpi, municipality=municipality, period=2023, gender="T", value=70.0 + index)
        for index, kpi in enumerate(DATA_PACK_KPIS)
        for municipality in ("1861", RIKET)
    ]
    return KpiDataPack(
        kolada_base_url="https://api.kolada.se/v2",
        kpis=list(DATA_PACK_KPIS),
        municipalities=["1861", RIKET],
        years=[2023],
        observations=observations,
    ).model_dump(mode="json")


class PilotDriver:
    """Plays a pilot through the rules as the workflow does: check, record, fold, advance."""

    def __init__(self, template: ProgrammeTemplate) -> None:
        self.template = template
        self.new_id = CountingIds()
        self.now = START
        self.events: list[Event] = []
        self.state = MunicipalityState()

    def record(self, events: list[Event]) -> list[Event]:
        self.events.extend(events)
        self.state = fold(events, self.state)
        return events

    def start(self, assignees: dict[Role, str] | None = None) -> list[Event]:
        return self.record(
            start_events(
                programme="leda-for-resultat",
                kommunkod="1861",
                municipality_name="Hallsberg",
                template=self.template,
                assignees=one_participant_per_role() if assignees is None else assignees,
                now=self.now,
                new_id=self.new_id,
            )
        )

    def advance(self) -> list[Event]:
        return self.record(advance(self.template, self.state, now=self.now, new_id=self.new_id))

    def answer(self, task_key: str) -> dict[str, Any]:
        """The synthetic answer the task's owner (or the system, for automated tasks) gives."""
        if self.template.task(task_key).automation is not None:
            return kpi_data_pack()
        return answer_for(task_key, self.now.date())

    def complete(self, task_key: str, payload: dict[str, Any] | None = None) -> list[Event]:
        """Complete an open task as its assignee would, then advance; returns every event this produced."""
        automated = self.template.task(task_key).automation is not None
        participant = self.state.tasks[task_key].assignee_id
        validated = check_completion(
            self.template,
            self.state,
            task_key,
            participant,
            self.answer(task_key) if payload is None else payload,
            by_system=automated,
        )
        recorded = self.record(
            completion_events(self.template, task_key, participant, validated, now=self.now, new_id=self.new_id)
        )
        return recorded + self.advance()

    def complete_all(self, *task_keys: str) -> None:
        for key in task_keys:
            self.complete(key)

    def tick(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def new_id() -> CountingIds:
    return CountingIds()


@pytest.fixture
def assignees() -> dict[Role, str]:
    return one_participant_per_role()


@pytest.fixture
def kpi_pack() -> dict[str, Any]:
    return kpi_data_pack()


@pytest.fixture
def driver_for() -> type[PilotDriver]:
    """Make a driver for another template: `driver_for(DEMO)`."""
    return PilotDriver


@pytest.fixture
def driver() -> PilotDriver:
    """A pilot on the real (day-based) template, not started yet."""
    return PilotDriver(LFR_SKOLA)


@pytest.fixture
def started(driver: PilotDriver) -> PilotDriver:
    """A pilot with its PilotStarted event folded in, before the first `advance`."""
    driver.start()
    return driver


@pytest.fixture
def pilot(started: PilotDriver) -> PilotDriver:
    """A started pilot after its first `advance`: the first tasks are open."""
    started.advance()
    return started
