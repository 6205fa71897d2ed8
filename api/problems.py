"""Errors as RFC 7807 problem details (``application/problem+json``), naming the field at fault when one is."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from access import REFUSAL
from pilots import PilotError
from pilots.refusals import refusal_of

PROBLEM_MEDIA_TYPE = "application/problem+json"

PROBLEM_CODES: dict[str, tuple[int, str]] = {
    # The request itself
    "invalid_input": (422, "a field of the request is malformed or out of range; `field` names it"),
    "invalid_payload": (422, "the task's answer is refused by its form (`form_schema`) or contradicts the pilot"),
    "reason_required": (422, "a steering, control or roster step without a reason, or one naming a person"),
    "too_large": (413, "the request body is over the limit (LEDA_MAX_BODY_BYTES)"),
    # Who calls
    "unauthenticated": (401, "no bearer token, or one unknown, expired or revoked"),
    "forbidden": (403, "the caller may not take this step (the same answer whoever's task it is)"),
    "not_allowed": (403, "the pilot's rules do not let the caller take this step"),
    "not_assignee": (403, "the task is someone else's"),
    # Starting a pilot
    "unknown_municipality": (422, "kommunkod is not in SCB's register of the 290 municipalities"),
    "unknown_template": (422, "no programme template by that key"),
    "name_required": (422, "a kommunalförbund Leda does not know needs its name"),
    "organ_required": (422, "the municipality's deciding organ is not known to Leda: give `organ`"),
    "programme_required": (422, "the municipality takes part in several programmes: name the programme"),
    "missing_participants": (409, "the directory lacks someone for a role the programme needs"),
    "already_started": (409, "the municipality's pilot in this programme was started before"),
    # What the request refers to
    "not_found": (404, "no such pilot, task or route that the caller may see"),
    "unknown_task": (404, "the pilot has no such task open"),
    "unknown_decision": (404, "the pilot has no nämnd decision by that key"),
    "unknown_meeting": (404, "no network meeting by that id in the pilot's programme"),
    "method_not_allowed": (405, "the route does not take this method"),
    # The state of the pilot or the task
    "already_completed": (409, "the task was completed before, with another answer"),
    "not_open": (409, "the task is not open (yet, or any more)"),
    "automated": (409, "the task is the system's own (gathered from Kolada), not a person's"),
    "not_delegated": (409, "the task was not delegated, so it cannot be returned"),
    "not_attended": (422, "the pilot did not attend the meeting, so no reflection is asked of it"),
    "meeting_not_held": (409, "the meeting has not been held yet"),
    "already_recorded": (409, "the attendance was recorded before"),
    "already_scheduled": (409, "a meeting by that id was scheduled before, differently"),
    "pilot_paused": (409, "operations hold the pilot; try again when it is resumed"),
    "already_paused": (409, "the pilot is paused already"),
    "not_paused": (409, "the pilot is not paused, so it cannot be resumed"),
    "nothing_failed": (409, "the pilot has no failed step to retry"),
    "pilot_ended": (409, "the pilot has completed, was withdrawn or terminated: say when"),
    "not_running": (409, "the pilot's workflow is not running"),
    # Leda's side
    "temporal_error": (503, "Temporal did not answer or failed the request; worth retrying"),
    "rejected": (400, "the workflow refused the request without a more specific reason"),
}
"""Every problem `code` the API answers with: its HTTP status and what it means (the README lists them). Refusals
of the workflow and the service layer carry the same codes, so the CLI and the web pages see them too."""


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    422: "Unprocessable content",
    503: "Service unavailable",
}

FORBIDDEN_DETAIL = REFUSAL
"""The one answer to every refused authorization: it must not tell a caller whose task it is."""

# "Ogiltiga uppgifter / invalid payload: scores.SF1.a: Input should be ..." -> "scores.SF1.a"
_FIELD = re.compile(r"^(?P<field>[A-Za-z_][\w.@/\[\]-]*): ")


class ProblemBody(BaseModel):
    """The body of every error answer (RFC 7807, plus Leda's refusal `code` and the `field` at fault)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None


class Problem(Exception):
    """An answer the API gives instead of a result."""

    def __init__(
        self, status: int, code: str, detail: str, *, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.headers = headers

    def response(self) -> JSONResponse:
        body = ProblemBody(
            type=f"urn:leda:problem:{self.code}",
            title=_TITLES.get(self.status, "Error"),
            status=self.status,
            detail=self.detail,
            code=self.code,
            field=self.field,
        )
        return JSONResponse(
            body.model_dump(exclude_none=True),
            status_code=self.status,
            media_type=PROBLEM_MEDIA_TYPE,
            headers=self.headers,
        )


def forbidden() -> Problem:
    return Problem(403, "forbidden", FORBIDDEN_DETAIL)


def field_of(message: str) -> str | None:
    """The field a refusal names, as in 'scores.SF1.a: Input should be ...' after any 'invalid payload: '."""
    rest = message.split("invalid payload: ", 1)[-1]
    match = _FIELD.match(rest)
    return match["field"] if match else None


def invalid_input(error: ValidationError) -> Problem:
    """A step's model refusing what the request holds: 422, naming the field."""
    message = refusal_of(error)
    return Problem(422, "invalid_input", message, field=field_of(message))


def problem_of(error: PilotError) -> Problem:
    status = PROBLEM_CODES.get(error.code, (400, ""))[0]
    if status == 403:
        # The workflow's own refusal names the assignee; the caller only learns that they may not.
        return Problem(403, error.code, FORBIDDEN_DETAIL)
    message = str(error)
    # A refusal that starts with a field names it, whatever its status (422, or 404 for a decision it lacks).
    return Problem(status, error.code, message, field=field_of(message))


def _validation_problem(error: RequestValidationError) -> Problem:
    parts, fields = [], []
    for item in error.errors():
        location = [str(p) for p in item.get("loc", ())]
        if item.get("type") == "json_invalid":  # its location is a character offset, not a field
            reason = item.get("ctx", {}).get("error", "")
            parts.append(f"(body): not valid JSON at character {location[-1] if location else 0}: {reason}")
            fields.append(None)
            continue
        if location and location[0] in ("body", "query", "path", "header"):
            location = location[1:]
        where = ".".join(location) or "(body)"
        fields.append(".".join(location) or None)
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return Problem(422, "invalid_input", "; ".join(parts), field=fields[0] if fields else None)


# Responses every route may give, for the OpenAPI schema.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemBody, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": _TITLES[status]}
    for status in (400, 401, 403, 404, 409, 422, 503)
}


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error the app answers with a problem+json body."""

    async def on_problem(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, Problem)
        return error.response()

    async def on_pilot_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, PilotError)
        return problem_of(error).response()

    async def on_invalid_request(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return _validation_problem(error).response()

    async def on_http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "rejected")
        problem = Problem(error.status_code, code, str(error.detail), headers=getattr(error, "headers", None))
        return problem.response()

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(PilotError, on_pilot_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
