"""Structured logs (structlog) for every process, with workflow id, run id and municipality wherever known.

No secret reaches a log line. Tracebacks are plain, without local variables (a local holding a request, a session
cookie or a sign-in link would otherwise be printed), and every line, whatever library wrote it (uvicorn's access
log included), passes through `scrub` just before it is rendered: it blanks Leda's prefixed secrets wherever they
stand, the value of any `token=` (and the like) in a URL, the password of a URL, and the value of any key whose
name says it holds a secret.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from temporalio import activity, workflow

from domain.pilot_ids import PilotId


def _lift_temporal_context(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Turn the SDK's `temporal_workflow` / `temporal_activity` extras into flat, searchable keys."""
    info = event.pop("temporal_workflow", None) or {}
    act = event.pop("temporal_activity", None) or _running_activity()
    workflow_id = info.get("workflow_id") or act.get("workflow_id")
    if workflow_id:
        event.setdefault("workflow_id", workflow_id)
        event.setdefault("run_id", info.get("run_id") or act.get("workflow_run_id"))
        # A pilot's id ends in its kommunkod, or a kommunalförbund's member codes (leda-{programme}-1083+1272).
        pilot = PilotId.parse(workflow_id)
        if pilot is not None:
            event.setdefault("kommunkod", pilot.code)
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


REDACTED = "[redacted]"

_PREFIXED_SECRET = re.compile(r"leda_(?:api|link|session|cal)_[A-Za-z0-9_-]{8,}")
"""Every secret Leda issues starts with one of these prefixes (access.tokens.SECRET_PREFIXES)."""

_SECRET_PARAMETER = re.compile(
    r"(?i)\b((?:token|session|password|passwd|api_key|apikey|secret|nonce|_form)(?:=|%3D))[^&\s\"'<>]+"
)
"""A secret in a URL's query or a form body (also URL-encoded, as in a `next=` that carries a whole address)."""

_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@")
"""postgresql://user:password@host: the password goes, the user and host stay."""

_SECRET_KEY = re.compile(r"(?i)(?:^|_)(?:password|passwd|secret|token|cookie|cookies|authorization|api_key|session)$")
"""Keys of a log line whose value is a secret, such as `password=` or `set_cookie=`; not ids like `token_id`."""


def scrub_text(text: str) -> str:
    """`text` with every secret Leda can recognise in it blanked."""
    text = _PREFIXED_SECRET.sub(REDACTED, text)
    text = _SECRET_PARAMETER.sub(lambda m: m[1] + REDACTED, text)
    return _URL_PASSWORD.sub(lambda m: m[1] + REDACTED + "@", text)


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {key: _scrub_item(str(key), item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub_value(item) for item in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return scrub_text(str(value))  # anything else is rendered as text: scrub the text it would be


def _scrub_item(key: str, value: Any) -> Any:
    if value is not None and _SECRET_KEY.search(key):
        return REDACTED
    return _scrub_value(value)


def scrub(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """The last processor before rendering: no secret in any value, the exception's text included."""
    return {key: _scrub_item(key, value) if not key.startswith("_") else value for key, value in event.items()}


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
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
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
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,  # plain text, no local variables
                scrub,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # The ids go into their own keys instead of being appended to every message.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
