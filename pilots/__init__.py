"""What the edges (CLI, and later the HTTP API) do with pilots: start, inspect, complete, read history."""

from pilots.client import (
    ListedPhase,
    ListedState,
    PilotError,
    PilotListing,
    change_roster,
    check_reason,
    complete_task,
    control_pilot,
    find_pilot,
    list_pilots,
    pilot_query,
    pilot_status,
    register_inspection,
    roster_change,
    start_cohort,
    start_pilot,
    steer_task,
    terminate_pilot,
)
from pilots.records import PilotRecords
from pilots.timeline import TimelineEntry, describe_event, timeline

__all__ = [
    "ListedPhase",
    "ListedState",
    "PilotError",
    "PilotListing",
    "PilotRecords",
    "change_roster",
    "check_reason",
    "control_pilot",
    "list_pilots",
    "pilot_query",
    "terminate_pilot",
    "TimelineEntry",
    "complete_task",
    "describe_event",
    "find_pilot",
    "pilot_status",
    "register_inspection",
    "roster_change",
    "start_cohort",
    "start_pilot",
    "steer_task",
    "timeline",
]
