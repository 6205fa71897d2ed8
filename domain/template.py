"""A programme template: phases, their tasks, owners, deadlines and reminder policy, as validated data."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.payloads import PAYLOAD_MODELS, TaskPayload
from domain.phases import MAIN_TRACK, Phase
from domain.roles import LEVEL_ROLES, Role


class Repeat(StrEnum):
    """How many instances of a task a pilot gets."""

    ONCE = "once"
    PER_LEVEL = "per_level"  # one per assessment level (politik, förvaltning, rektorer, stödfunktioner)
    PER_YEAR = "per_year"  # one per implementation year
    PER_MEASURE = "per_measure"  # one per measure of the adopted plan, each year
    PER_CHANGE_PROJECT = "per_change_project"  # one per participant's förändringsprojekt, each year
    PER_FINDING = "per_finding"  # one per step remedying an inspection finding, due as scheduled backwards
    PER_DECISION = "per_decision"  # one per nämnd decision, due when its minutes must be posted
    PER_MEETING = "per_meeting"  # one per network meeting of the cohort, opened when the lead schedules it


YEARLY = frozenset({Repeat.PER_YEAR, Repeat.PER_MEASURE, Repeat.PER_CHANGE_PROJECT})


class TaskTemplate(BaseModel):
    """One task every pilot on the template goes through."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    title_sv: str
    title_en: str
    phase: Phase
    owner_role: Role
    payload_kind: str
    repeat: Repeat = Repeat.ONCE
    depends_on: tuple[str, ...] = ()
    due_after: timedelta | None = Field(
        default=None, description="time from opening to the deadline; None for tasks that wait on others"
    )
    reminders_before_due: tuple[timedelta, ...] = Field(
        default=(), description="a reminder this long before the deadline (0 = on the day)"
    )
    escalate_after_due: timedelta | None = Field(
        default=None, description="escalate to the programme lead when this overdue"
    )
    only_if: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$",
        description="'<task>.<field>': exists only where that task's answer (same year) has the field true",
    )
    automation: Literal["gather_kpis", "gather_follow_up_figures"] | None = Field(
        default=None, description="done by the system itself rather than by a participant"
    )

    @property
    def payload_model(self) -> type[TaskPayload]:
        return PAYLOAD_MODELS[self.payload_kind]

    @property
    def is_namnd_decision(self) -> bool:
        """Is this task the nämnd's decision (reminded of as a decision due at a meeting)?"""
        return self.payload_kind == "namnd_decision"

    @model_validator(mode="after")
    def _consistent(self) -> TaskTemplate:
        if self.payload_kind not in PAYLOAD_MODELS:
            raise ValueError(f"task {self.key}: unknown payload_kind {self.payload_kind!r}")
        if self.repeat in YEARLY and self.phase is not Phase.IMPLEMENTATION:
            raise ValueError(f"task {self.key}: only implementation tasks repeat every year ({self.repeat.value})")
        scheduled = self.repeat in (Repeat.PER_FINDING, Repeat.PER_DECISION, Repeat.PER_MEETING)
        if scheduled and self.due_after is not None:
            raise ValueError(f"task {self.key}: remediation steps are due as scheduled back from the deadline")
        if (
            not scheduled
            and self.due_after is None
            and (self.reminders_before_due or self.escalate_after_due is not None)
        ):
            raise ValueError(f"task {self.key}: reminders and escalation need a deadline (due_after)")
        durations = [self.due_after, self.escalate_after_due, *self.reminders_before_due]
        if any(d is not None and d < timedelta(0) for d in durations):
            raise ValueError(f"task {self.key}: deadlines, reminders and escalation cannot be negative")
        if self.due_after is not None and any(r > self.due_after for r in self.reminders_before_due):
            raise ValueError(f"task {self.key}: a reminder falls before the task opens")
        return self


TEMPLATE_KEY_PATTERN = r"^[a-z][a-z0-9-]{1,40}$"


class TemplateRef(BaseModel):
    """One version of a programme template, named by its key and the SHA-256 of its canonical JSON.

    What a pilot's workflow input carries instead of the whole template: `programmes.versions` keeps every version
    a pilot may have started with, so the worker holds one copy per version however many pilots follow it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=TEMPLATE_KEY_PATTERN)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ProgrammeTemplate(BaseModel):
    """The whole programme: which tasks make up each phase and what each waits for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=TEMPLATE_KEY_PATTERN)
    title_sv: str
    title_en: str
    tasks: tuple[TaskTemplate, ...]
    year_length: timedelta = Field(default=timedelta(days=365), description="one implementation year")
    day_length: timedelta = Field(default=timedelta(days=1), description="a day (shorter in the demo)")
    comparison_group: str | None = Field(
        default=None,
        description="the kind of Kolada municipality group the data pack compares with, e.g. 'Liknande kommuner "
        "grundskola' (the municipality's own group of that kind); unset: Riket only",
    )

    @model_validator(mode="after")
    def _well_formed(self) -> ProgrammeTemplate:
        keys = [t.key for t in self.tasks]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"task keys must be unique; repeated: {duplicates}")
        built_in = sorted(set(keys) & set(NETWORK_TASK_KEYS))
        if built_in:
            raise ValueError(f"task keys {built_in} are the network meetings' own, which every programme has")
        known = set(keys)
        for task in self.tasks:
            missing = [d for d in task.depends_on if d not in known]
            if missing:
                raise ValueError(f"task {task.key} depends on unknown tasks {missing}")
            later = [d for d in task.depends_on if _runs_later(self.task(d).phase, task.phase)]
            if later:
                # The earlier phase could never complete: its task would wait for a phase that cannot start.
                raise ValueError(f"task {task.key} ({task.phase.value}) depends on tasks of a later phase: {later}")
        for phase in MAIN_TRACK:
            if len(self.tasks_in(phase)) < 1:
                raise ValueError(f"phase {phase.value} has no tasks")
        self._check_acyclic()
        return self

    def _check_acyclic(self) -> None:
        deps = {t.key: t.depends_on for t in self.tasks}
        done: set[str] = set()

        def visit(key: str, path: tuple[str, ...]) -> None:
            if key in path:
                raise ValueError(f"tasks depend on each other in a cycle: {' -> '.join((*path, key))}")
            if key in done:
                return
            for dep in deps[key]:
                visit(dep, (*path, key))
            done.add(key)

        for key in deps:
            visit(key, ())

    def task(self, key: str) -> TaskTemplate:
        for task in (*self.tasks, *self.network_tasks):
            if task.key == key:
                return task
        raise KeyError(key)

    def has_task(self, key: str) -> bool:
        return key in NETWORK_TASK_KEYS or any(t.key == key for t in self.tasks)

    @property
    def network_tasks(self) -> tuple[TaskTemplate, ...]:
        """The tasks of the cohort's network meetings, which every programme has (its pilots learn from each
        other): opened when a lead schedules a meeting, and when the pilot attended it, never by the phases; their
        reminders in this programme's days."""
        day = self.day_length
        return (
            TaskTemplate(
                key=NETWORK_CONTRIBUTION,
                title_sv="Förbered kommunens bidrag till nätverksträffen",
                title_en="Prepare the municipality's contribution to the network meeting",
                phase=Phase.NETWORK,
                owner_role=NETWORK_CONTACT_ROLE,
                payload_kind="network_contribution",
                repeat=Repeat.PER_MEETING,
                reminders_before_due=(day * 2, day * 0),
            ),
            TaskTemplate(
                key=NETWORK_REFLECTION,
                title_sv="Reflektion efter nätverksträffen",
                title_en="Reflection after the network meeting",
                phase=Phase.NETWORK,
                owner_role=NETWORK_CONTACT_ROLE,
                payload_kind="network_reflection",
                repeat=Repeat.PER_MEETING,
                reminders_before_due=(day * 3, day * 0),
            ),
        )

    def tasks_in(self, phase: Phase) -> tuple[TaskTemplate, ...]:
        return tuple(t for t in self.tasks if t.phase is phase)

    def roles_needed(self) -> frozenset[Role]:
        """Every role a pilot on this template must have a participant for."""
        per_level = any(t.repeat is Repeat.PER_LEVEL for t in self.tasks)
        levels = frozenset(LEVEL_ROLES.values()) if per_level else frozenset()
        return frozenset(t.owner_role for t in self.tasks) | {Role.PROGRAMLEDARE} | levels

    @property
    def in_real_time(self) -> bool:
        """Whether a day of the programme is a calendar day (every template but the demo's)."""
        return self.day_length == REAL_DAY

    def on_programme_clock(self, moment: datetime, *, reckoned_from: datetime) -> datetime:
        """When a moment set by the calendar (the end of an appeal period, a remediation step's day) falls on this
        programme's clock: the moment itself in real time; in a template whose days are shortened, `reckoned_from`
        plus the time until the moment, shortened as much as every day is."""
        if self.in_real_time:
            return moment
        return reckoned_from + (moment - reckoned_from) * (self.day_length / REAL_DAY)

    def prepares_namnd_decision(self, key: str) -> bool:
        """Whether the task's answer is what a nämnd decision rests on: a task a decision task depends on directly,
        so it must be ready in time for the meeting's notice (kallelse)."""
        task = self.task(key)
        return task.payload_kind not in NAMND_PAYLOADS and any(
            t.payload_kind in NAMND_PAYLOADS and key in t.depends_on for t in self.tasks
        )


REAL_DAY = timedelta(days=1)

NETWORK_CONTRIBUTION = "network_contribution"
NETWORK_REFLECTION = "network_reflection"
NETWORK_TASK_KEYS = (NETWORK_CONTRIBUTION, NETWORK_REFLECTION)
NETWORK_CONTACT_ROLE = Role.FORVALTNINGSCHEF
"""Who speaks for a pilot at the cohort's network meetings: its head of administration, who leads the förvaltning's
part of the programme and answers for the governance chain it is about."""

NAMND_PAYLOADS = frozenset({"namnd_decision", "plan_revision"})
"""Tasks that need the nämnd to meet: they fall due at a meeting."""


def _runs_later(phase: Phase, than: Phase) -> bool:
    """Whether main phase `phase` starts only after main phase `than` is done (parallel tracks never do)."""
    return phase in MAIN_TRACK and than in MAIN_TRACK and MAIN_TRACK.index(phase) > MAIN_TRACK.index(than)
