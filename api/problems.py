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

# A refusal code of the workflow or the client, and the HTTP status it answers with; anything else is 400.
_STATUS_OF_CODE = {
    "invalid_input": 422,
    "invalid_payload": 422,
    "reason_required": 422,
    "unknown_municipality": 422,
    "unknown_template": 422,
    "name_required": 422,
    "organ_required": 422,
    "missing_participants": 409,
    "programme_required": 422,
    "not_found": 404,
    "unknown_task": 404,
    "unknown_decision": 404,
    "not_assignee": 403,
    "not_allowed": 403,
    "already_completed": 409,
    "already_started": 409,
    "not_open": 409,
    "not_delegated": 409,
    "pilot_ended": 409,
    "pilot_paused": 409,
    "not_attended": 422,
    "unknown_meeting": 404,
    "meeting_not_held": 409,
    "already_recorded": 409,
    "already_scheduled": 409,
    # Temporal not answering is not the caller's fault, and worth retrying.
    "temporal_error": 503,
}

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
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
    status = _STATUS_OF_CODE.get(error.code, 400)
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
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        problem = Problem(error.status_code, code, str(error.detail), headers=getattr(error, "headers", None))
        return problem.response()

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(PilotError, on_pilot_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
