"""What the edges (CLI, and later the HTTP API) do with pilots: start, inspect, complete, read history."""

from pilots.client import (
    PilotError,
    complete_task,
    find_pilot,
    pilot_status,
    register_inspection,
    start_cohort,
    start_pilot,
    steer_task,
)
from pilots.timeline import TimelineEntry, describe_event, timeline

__all__ = [
    "PilotError",
    "TimelineEntry",
    "complete_task",
    "describe_event",
    "find_pilot",
    "pilot_status",
    "register_inspection",
    "start_cohort",
    "start_pilot",
    "steer_task",
    "timeline",
]
