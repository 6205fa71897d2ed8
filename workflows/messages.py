"""The workflow's inputs, Update requests, and what its status query answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from domain.calendar import SchoolCalendar
from domain.municipalities import PILOT_CODE_PATTERN
from domain.pilot_ids import PROGRAMME_PATTERN
from domain.roles import Role
from domain.state import MunicipalityState
from domain.template import ProgrammeTemplate, TemplateRef


class StartPilot(BaseModel):
    """The workflow's input; after a year boundary it also carries the pilot's whole state into the new run."""

    programme: str = Field(pattern=PROGRAMME_PATTERN)
    kommunkod: str = Field(pattern=PILOT_CODE_PATTERN, description="or a kommunalförbund's codes joined by '+'")
    municipality_name: str = Field(min_length=1, max_length=100)
    deciding_organ: str = Field(min_length=1, max_length=100, description="the nämnd (or KS) that decides")
    template_ref: TemplateRef | None = Field(
        default=None, description="the template's version, from the registry (programmes.versions)"
    )
    template: ProgrammeTemplate | None = Field(
        default=None, description="the whole template: how pilots started before templates were registered"
    )
    participants: dict[Role, list[str]]
    managers: dict[str, str] = Field(default_factory=dict, description="each participant's line manager, by id")
    kpi_years: list[int] = Field(min_length=1, description="years of the Kolada data pack")
    calendar: SchoolCalendar | None = Field(default=None, description="school holidays and the nämnd's meetings")
    carried: MunicipalityState | None = None

    @model_validator(mode="after")
    def _one_template(self) -> StartPilot:
        if (self.template_ref is None) == (self.template is None):
            raise ValueError("template_ref: name the template's version (or, as pilots once did, carry it whole)")
        return self

    @property
    def template_key(self) -> str:
        named = self.template_ref or self.template
        assert named is not None  # _one_template
        return named.key


class CompleteTask(BaseModel):
    task_key: str
    participant_id: str = Field(min_length=1)
    payload: dict[str, Any] = Field(default_factory=dict)


class RegisterInspection(BaseModel):
    participant_id: str = Field(min_length=1)
    decision: dict[str, Any]


class PilotControlled(BaseModel):
    """The answer to pause, resume, withdraw and retry: recorded, and where the pilot's record now stands."""

    action: str
    at: datetime
    stream_version: int


class RosterChangeRecorded(BaseModel):
    """The answer to a roster change: recorded, the open tasks it moved, and where the pilot's record now stands."""

    at: datetime
    stream_version: int
    moved_tasks: list[str]


class AppealRecorded(BaseModel):
    """The answer to an appeal step: recorded, the tasks an annulment reopened, and where the record now stands."""

    at: datetime
    stream_version: int
    reopened_tasks: list[str]


class MeetingRecorded(BaseModel):
    """The answer to a network meeting's scheduling or attendance: what it opened and closed, and where the pilot's
    record now stands (unchanged, when the same step had been recorded before)."""

    meeting_id: str
    stream_version: int
    opened_tasks: list[str]
    closed_tasks: list[str]


class TaskCompletion(BaseModel):
    task_key: str
    completed_at: datetime
    stream_version: int
    opened_next: list[str]
    repeat: bool = Field(
        default=False,
        description="the task was completed before with this very answer by the same participant: nothing new was "
        "recorded, `completed_at` is when it was, and `stream_version` where the record stands",
    )
