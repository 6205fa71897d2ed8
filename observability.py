"""Structured logs (structlog) for every process, with workflow id, run id and municipality wherever known."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from temporalio import activity, workflow

from domain.pilot_ids import pilot_of


def _lift_temporal_context(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Turn the SDK's `temporal_workflow` / `temporal_activity` extras into flat, searchable keys."""
    info = event.pop("temporal_workflow", None) or {}
    act = event.pop("temporal_activity", None) or _running_activity()
    workflow_id = info.get("workflow_id") or act.get("workflow_id")
    if workflow_id:
        event.setdefault("workflow_id", workflow_id)
        event.setdefault("run_id", info.get("run_id") or act.get("workflow_run_id"))
        # A pilot's id ends in its kommunkod, or a kommunalförbund's member codes (leda-{programme}-1083+1272).
        pilot = pilot_of(workflow_id)
        if pilot is not None:
            event.setdefault("kommunkod", pilot[1])
    if act.get("activity_type"):
        event.setdefault("activity", act["activity_type"])
        event.setdefault("attempt", act.get("attempt"))
    return event


def _running_activity() -> dict[str, Any]:
    """The running activity's ids, for lines other libraries (httpx, say) log while it runs."""
    if not activity.in_activity():
        return {}
    info = activity.info()
    return {
        "workflow_id": info.workflow_id,
        "workflow_run_id": info.workflow_run_id,
        "activity_type": info.activity_type,
        "attempt": info.attempt,
    }


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    """Route stdlib logging (the Temporal SDK's replay-aware loggers included) through structlog."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _lift_temporal_context,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # The ids go into their own keys instead of being appended to every message.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
