"""Fixtures for the domain's unit tests: a fixed clock, deterministic ids and a pilot driven through the rules."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devstack.sample_payloads import answer_for
from domain.calendar import SchoolCalendar
from domain.events import Event
from domain.follow_up import figures_year, follow_up_prefill, plan_kpis
from domain.inspection import check_registration, inspection_events
from domain.kpis import DATA_PACK_KPIS, RIKET, KpiObservation
from domain.payloads import FollowUpFigures, KpiDataPack
from domain.roles import Role
from domain.rulebook import CURRENT_RULES, Rulebook
from domain.rules import (
    advance,
    check_completion,
    completion_events,
    finality_events,
    next_finality_at,
    next_year_starts_at,
    start_events,
    start_next_year,
)
from domain.state import MunicipalityState, fold
from domain.template import ProgrammeTemplate
from programmes import LFR_SKOLA

START = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)
ORGAN = "Bildningsnämnden"


class CountingIds:
    """Deterministic event ids: UUID(int=1), UUID(int=2), …"""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> uuid.UUID:
        self._last += 1
        return uuid.UUID(int=self._last)


def one_participant_per_role() -> dict[Role, list[str]]:
    return {role: [f"p-{role.value}"] for role in Role}


def kpi_data_pack() -> dict[str, Any]:
    """What the gather_kpis automation submits: a small, invented Kolada data pack for Hallsberg and Riket."""
    observations = [
        KpiObservation(kpi=kpi, municipality=municipality, period=2023, gender="T", value=70.0 + index)
        for index, kpi in enumerate(DATA_PACK_KPIS)
        for municipality in ("1861", RIKET)
    ]
    return KpiDataPack(
        kolada_base_url="https://api.kolada.se/v3",
        kpis=list(DATA_PACK_KPIS),
        municipalities=["1861", RIKET],
        years=[2023],
        observations=observations,
    ).model_dump(mode="json")


def follow_up_figures(state: MunicipalityState, year: int) -> dict[str, Any]:
    """What the gather_follow_up_figures automation submits: invented values of the plan's KPIs for the year."""
    kpis = plan_kpis(state, year)
    figures_for = figures_year(state, year)
    observations = [
        KpiObservation(kpi=kpi, municipality=state.kommunkod, period=figures_for, gender="T", value=70.0 + index)
        for index, kpi in enumerate(kpis)
    ]
    return FollowUpFigures(
        kolada_base_url="https://api.kolada.se/v3", year=figures_for, kpis=kpis, observations=observations
    ).model_dump(mode="json")


class PilotDriver:
    """Plays a pilot through the rules as the workflow does: check, record, fold, advance, start the next year."""

    def __init__(self, template: ProgrammeTemplate, *, rules: Rulebook = CURRENT_RULES) -> None:
        self.template = template
        self.rules = rules
        self.new_id = CountingIds()
        self.now = START
        self.events: list[Event] = []
        self.state = MunicipalityState()

    def record(self, events: list[Event]) -> list[Event]:
        self.events.extend(events)
        self.state = fold(events, self.state)
        return events

    def start(
        self,
        participants: dict[Role, list[str]] | None = None,
        *,
        deciding_organ: str = ORGAN,
        calendar: SchoolCalendar | None = None,
    ) -> list[Event]:
        return self.record(
            start_events(
                programme="leda-for-resultat",
                kommunkod="1861",
                municipality_name="Hallsberg",
                deciding_organ=deciding_organ,
                template=self.template,
                participants=one_participant_per_role() if participants is None else participants,
                now=self.now,
                new_id=self.new_id,
                calendar=calendar,
            )
        )

    def advance(self) -> list[Event]:
        """Advance the rules; the system gathers a year's follow-up figures as soon as their task opens."""
        produced = self.record(advance(self.template, self.state, now=self.now, new_id=self.new_id, rules=self.rules))
        for task in self.state.open_tasks():
            if self.template.task(task.template_key).automation == "gather_follow_up_figures":
                produced += self.complete(task.key)
        return produced

    def answer(self, task_key: str) -> dict[str, Any]:
        """The synthetic answer the open instance's assignee (or the system, for automated tasks) gives."""
        task = self.state.tasks[task_key]
        automation = self.template.task(task.template_key).automation
        if automation == "gather_follow_up_figures":
            assert task.year is not None
            return follow_up_figures(self.state, task.year)
        if automation is not None:
            return kpi_data_pack()
        return answer_for(
            task.template_key,
            self.now.date(),
            level=task.level,
            year=task.year,
            organ=self.state.deciding_organ,
            prefill=follow_up_prefill(self.state, task_key),
        )

    def complete(self, task_key: str, payload: dict[str, Any] | None = None) -> list[Event]:
        """Complete an open instance as its assignee would, then advance; returns every event this produced."""
        task = self.state.tasks[task_key]
        automated = self.template.task(task.template_key).automation is not None
        participant = task.assignee_id
        validated = check_completion(
            self.template,
            self.state,
            task_key,
            participant,
            self.answer(task_key) if payload is None else payload,
            by_system=automated,
            today=self.now.date(),
            rules=self.rules,
        )
        recorded = self.record(
            completion_events(
                self.template,
                task_key,
                participant,
                validated,
                now=self.now,
                new_id=self.new_id,
                state=self.state,
                rules=self.rules,
            )
        )
        return recorded + self.advance()

    def register(self, decision: dict[str, Any], participant_id: str = "p-analytiker") -> list[Event]:
        """Register a Skolinspektionen decision outside the task, as the workflow's register_inspection does."""
        validated = check_registration(self.state, participant_id, decision, today=self.now.date(), rules=self.rules)
        if "inspection_decision" in self.state.tasks and not self.state.is_settled("inspection_decision"):
            events = completion_events(
                self.template,
                "inspection_decision",
                participant_id,
                validated,
                now=self.now,
                new_id=self.new_id,
                state=self.state,
                rules=self.rules,
            )
        else:
            events = inspection_events(
                self.template, self.state, validated, participant_id, now=self.now, new_id=self.new_id, rules=self.rules
            )
        return self.record(events) + self.advance()

    def instance_keys(self, key: str) -> list[str]:
        """`key` itself when it is an instance; else every open instance of the template task `key`."""
        if key in self.state.tasks:
            return [key]
        keys = [t.key for t in self.state.open_tasks() if t.template_key == key]
        if not keys:
            raise KeyError(f"{key!r} has no open instance; open: {[t.key for t in self.state.open_tasks()]}")
        return keys

    def complete_all(self, *keys: str) -> list[Event]:
        """Complete each instance named, or every open instance of each template task named, in order."""
        produced: list[Event] = []
        for key in keys:
            for instance in self.instance_keys(key):
                produced += self.complete(instance)
        return produced

    def next_year(self) -> list[Event]:
        """The year boundary, as the workflow meets it: the clock moves to it, the next year starts, tasks open."""
        boundary = next_year_starts_at(self.template, self.state)
        assert boundary is not None, "the plan has no year left"
        self.now = max(self.now, boundary)
        return self.record(start_next_year(self.state, now=self.now, new_id=self.new_id)) + self.advance()

    def decisions_become_final(self) -> list[Event]:
        """Every posted decision whose appeal period is over by now vinner laga kraft, as the workflow's timer does."""
        final = finality_events(self.template, self.state, now=self.now, new_id=self.new_id, rules=self.rules)
        return self.record(final) + self.advance() if final else []

    def wait_for_finality(self) -> list[Event]:
        """Let the clock run to the next posted decision's finality, and record it."""
        at = next_finality_at(self.template, self.state, rules=self.rules)
        assert at is not None, "no posted decision is waiting to become final"
        self.now = max(self.now, at)
        return self.decisions_become_final()

    def settle(self, *, leave: tuple[str, ...] = ()) -> None:
        """Answer every open instance, and those they open, except instances of the template tasks in `leave`;
        decisions whose appeal period is over become final as the clock moves on."""
        while open_tasks := [t for t in self.state.open_tasks() if t.template_key not in leave]:
            self.tick(timedelta(days=1))
            self.decisions_become_final()
            self.complete(open_tasks[0].key)
        self.decisions_become_final()

    def finish_year(self) -> None:
        """Answer every open instance until none is open (instances opened meanwhile included)."""
        self.settle()

    def walk(self, *, step: timedelta = timedelta(days=1), max_steps: int = 1000, leave: tuple[str, ...] = ()) -> None:
        """Answer every open instance, oldest first, a `step` apart, as time-driven events fall due; instances of
        the template tasks in `leave` are left unanswered.

        The next implementation year starts once the current one's instances are all done, as the workflow does
        at the year boundary; decisions become final when their appeal period is over.
        """
        for _ in range(max_steps):
            self.decisions_become_final()
            if self.state.completed_at is not None:
                return
            if open_tasks := [t for t in self.state.open_tasks() if t.template_key not in leave]:
                self.tick(step)
                self.complete(open_tasks[0].key)
                continue
            finality, year = (
                next_finality_at(self.template, self.state, rules=self.rules),
                next_year_starts_at(self.template, self.state),
            )
            if finality is not None and (year is None or finality <= year):
                self.wait_for_finality()
            elif year is not None:
                self.next_year()
            else:
                raise AssertionError(f"stuck: nothing open or to wait for; active {self.state.active_phases}")
        raise AssertionError(f"not completed after {max_steps} steps")

    def tick(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def new_id() -> CountingIds:
    return CountingIds()


@pytest.fixture
def participants() -> dict[Role, list[str]]:
    return one_participant_per_role()


@pytest.fixture
def kpi_pack() -> dict[str, Any]:
    return kpi_data_pack()


@pytest.fixture(scope="session")
def walked_pilot() -> Callable[..., PilotDriver]:
    """`walked_pilot(template, step)`: a pilot walked to PilotCompleted, once per session; read it, never drive it."""
    walked: dict[tuple[str, timedelta], PilotDriver] = {}

    def walk(template: ProgrammeTemplate, step: timedelta = timedelta(days=1)) -> PilotDriver:
        if (template.key, step) not in walked:
            driver = PilotDriver(template)
            driver.start()
            driver.advance()
            driver.walk(step=step)
            walked[template.key, step] = driver
        return walked[template.key, step]

    return walk


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


THROUGH_THE_PLAN = (
    "kpi_data_pack",
    "document_collection",
    "self_assessment",
    "strengths_weaknesses",
    "analysis_reported",
    "plan_draft",
    "consult_hr",
    "consult_finance",
    "plan_adoption",
)
"""The deep analysis and the plan of the shipped SKL template, in an order they can be completed in."""


@pytest.fixture(scope="session")
def implementing_once() -> PilotDriver:
    """The `implementing` pilot, driven there once per session; tests get copies of it."""
    driver = PilotDriver(LFR_SKOLA)
    driver.start()
    driver.advance()
    driver.complete_all(*THROUGH_THE_PLAN)
    return driver


@pytest.fixture
def implementing(implementing_once: PilotDriver) -> PilotDriver:
    """A pilot whose deep analysis and plan are done: implementation year 1 has just begun (its own copy)."""
    return copy.deepcopy(implementing_once)
