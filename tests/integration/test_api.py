"""The HTTP API against a real worker on the time-skipping server: tokens, authorization, problem+json."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

from access import identify, issue_sign_in_link, issue_token
from api.app import create_app
from api.problems import FORBIDDEN_DETAIL
from devstack import sample_payloads
from eventstore import EventStore
from pilots.history import pilot_history
from tests.over_the_api import open_task
from tests.people import bearer
from tests.sign_in_links import link_page_form

FORVALTNINGSCHEF = "p-1861-forvaltningschef"
REKTOR = "p-1861-rektor"
PROGRAMLEDARE = "p-1861-programledare"
PROBLEM = "application/problem+json"


@pytest_asyncio.fixture
async def tokens(db_pool: asyncpg.Pool) -> dict[str, dict[str, str]]:
    """Authorization headers of three synthetic participants of 1861 and an operations user."""
    return {
        "forvaltningschef": bearer(await issue_token(db_pool, FORVALTNINGSCHEF, "participant")),
        "rektor": bearer(await issue_token(db_pool, REKTOR, "participant")),
        "lead": bearer(await issue_token(db_pool, PROGRAMLEDARE, "programme_lead")),
        "operations": bearer(await issue_token(db_pool, f"ops-{uuid.uuid4().hex[:6]}", "operations")),
    }


@pytest.fixture
def api(skipping_api: httpx.AsyncClient) -> httpx.AsyncClient:
    return skipping_api


@pytest_asyncio.fixture
async def api_without_temporal(db_pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    """For what never reaches a pilot: authentication and the schema."""
    app = create_app(pool=db_pool, client=Client.__new__(Client), task_queue="unused")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://leda.test") as http:
        yield http


async def start(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> str:
    body = {"programme": f"test-{uuid.uuid4().hex[:8]}", "kommunkod": "1861", "template_key": "lfr-skola"}
    response = await api.post("/api/v1/pilots", json=body, headers=tokens["lead"])
    assert response.status_code == 201, response.text
    return response.json()["workflow_id"]


async def data_pack_gathered(api: httpx.AsyncClient, headers: dict[str, str], workflow_id: str) -> None:
    """Wait until the system's own task is done, so the pilot's stream holds still."""
    for _ in range(200):
        tasks = (await api.get(f"/api/v1/pilots/{workflow_id}/status", headers=headers)).json()["tasks"]
        if any(t["key"] == "kpi_data_pack" and t["status"] == "completed" for t in tasks):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the Kolada data pack was never gathered")


def complete_url(workflow_id: str, task_key: str) -> str:
    return f"/api/v1/pilots/{workflow_id}/tasks/{task_key}/complete"


def steer_url(workflow_id: str, task_key: str) -> str:
    return f"/api/v1/pilots/{workflow_id}/tasks/{task_key}/steer"


async def test_tokens_are_stored_only_as_their_hash(db_pool: asyncpg.Pool) -> None:
    token = await issue_token(db_pool, REKTOR, "participant")
    stored = await db_pool.fetchval("SELECT count(*) FROM api_tokens WHERE token_hash = $1", token)
    assert stored == 0
    identity = await identify(db_pool, token)
    assert identity is not None and identity.participant_id == REKTOR and identity.scope == "participant"
    assert await identify(db_pool, token + "x") is None


async def test_a_request_without_a_known_token_is_unauthorized(
    api_without_temporal: httpx.AsyncClient,
) -> None:
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = await api_without_temporal.get("/api/v1/me/inbox", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["code"] == "unauthenticated"


async def test_the_openapi_schema_lists_the_routes_with_summaries(api_without_temporal: httpx.AsyncClient) -> None:
    schema = (await api_without_temporal.get("/openapi.json")).json()
    routes = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert routes == {
        ("/api/v1/me/inbox", "get"),
        ("/api/v1/pilots/{workflow_id}/tasks/{task_key}", "get"),
        ("/api/v1/pilots/{workflow_id}/tasks/{task_key}/complete", "post"),
        ("/api/v1/pilots/{workflow_id}/tasks/{task_key}/steer", "post"),
        ("/api/v1/pilots", "post"),
        ("/api/v1/pilots", "get"),
        ("/api/v1/pilots/{workflow_id}/status", "get"),
        ("/api/v1/pilots/{workflow_id}/inspection-decisions", "post"),
        ("/api/v1/pilots/{workflow_id}/roster", "post"),
        ("/api/v1/pilots/{workflow_id}/control", "post"),
        ("/api/v1/pilots/{workflow_id}/history", "get"),
        ("/api/v1/pilots/{workflow_id}/appeals", "post"),
        ("/api/v1/pilots/{workflow_id}/appeals/outcome", "post"),
        ("/api/v1/pilots/{workflow_id}/meetings/{meeting_id}/attendance", "post"),
        ("/api/v1/programmes/{programme}/meetings", "post"),
        ("/api/v1/programmes/{programme}/report", "get"),
        ("/api/v1/cohorts", "get"),
        ("/api/v1/cohorts/{cohort}/start", "post"),
        ("/api/v1/pilots/{workflow_id}/events", "get"),
        ("/api/v1/programmes/{programme}/events", "get"),
        ("/api/v1/me/calendar-feed", "post"),
        ("/calendar/{secret}.ics", "get"),
    }
    assert all(op.get("summary") for item in schema["paths"].values() for op in item.values())
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


async def test_the_inbox_lists_the_callers_tasks_only(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]
) -> None:
    workflow_id = await start(api, tokens)
    await open_task(api, tokens["lead"], workflow_id, "self_assessment@F")
    await open_task(api, tokens["lead"], workflow_id, "self_assessment@R")

    response = await api.get("/api/v1/me/inbox", params={"kommunkod": "1861"}, headers=tokens["forvaltningschef"])

    assert response.status_code == 200, response.text
    mine = [t["task_key"] for t in response.json() if t["workflow_id"] == workflow_id]
    assert "self_assessment@F" in mine and "self_assessment@R" not in mine
    assert all(t["status"] == "open" for t in response.json())
    rektors = (await api.get("/api/v1/me/inbox", headers=tokens["rektor"])).json()
    assert "self_assessment@R" in [t["task_key"] for t in rektors if t["workflow_id"] == workflow_id]


async def test_the_inbox_filters_by_phase_and_refuses_a_phase_there_is_not(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]
) -> None:
    workflow_id = await start(api, tokens)
    await open_task(api, tokens["lead"], workflow_id, "self_assessment@F")
    head = tokens["forvaltningschef"]

    deep = await api.get("/api/v1/me/inbox", params={"phase": "djupanalys"}, headers=head)
    assert deep.status_code == 200, deep.text
    assert "self_assessment@F" in [t["task_key"] for t in deep.json() if t["workflow_id"] == workflow_id]
    assert {t["phase"] for t in deep.json()} == {"djupanalys"}
    # Text PostgreSQL cannot hold (NUL) is refused at the edge, naming the parameter, like any unknown phase.
    for phase in ("\x00djupanalys", "no-such-phase"):
        refused = await api.get("/api/v1/me/inbox", params={"phase": phase}, headers=head)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "phase"


async def test_a_task_is_shown_with_its_form_schema_to_its_assignee_and_to_no_other_participant(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]
) -> None:
    workflow_id = await start(api, tokens)
    await open_task(api, tokens["lead"], workflow_id, "self_assessment@F")
    url = f"/api/v1/pilots/{workflow_id}/tasks/self_assessment@F"

    shown = await api.get(url, headers=tokens["forvaltningschef"])
    refused = await api.get(url, headers=tokens["rektor"])

    assert shown.status_code == 200, shown.text
    assert shown.json()["assignee_id"] == FORVALTNINGSCHEF
    assert {"level", "scores", "evidence"} <= set(shown.json()["form_schema"]["properties"])
    # The whole contract: the task's level and every indicator it scores, 1 to 4, none other.
    schema = shown.json()["form_schema"]
    assert schema["properties"]["level"]["const"] == "F"
    scores = schema["properties"]["scores"]
    assert set(scores["required"]) == set(scores["properties"]) == set(sample_payloads.self_assessment("F")["scores"])
    assert scores["additionalProperties"] is False
    # Another participant's task is answered as one that does not exist: the answer tells nothing of it.
    missing = await api.get(url.replace("self_assessment@F", "self_assessment@Q"), headers=tokens["rektor"])
    assert refused.status_code == 404 and refused.headers["content-type"] == PROBLEM
    assert refused.json() == missing.json() | {"detail": missing.json()["detail"].replace("@Q", "@F")}
    assert FORVALTNINGSCHEF not in refused.text
    assert (await api.get(url, headers=tokens["operations"])).status_code == 200


async def test_completing_another_participants_task_is_forbidden_and_records_nothing(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]], db_pool: asyncpg.Pool
) -> None:
    workflow_id = await start(api, tokens)
    await open_task(api, tokens["lead"], workflow_id, "self_assessment@F")
    await data_pack_gathered(api, tokens["lead"], workflow_id)
    version_before = await EventStore(db_pool).stream_version(workflow_id)

    response = await api.post(
        complete_url(workflow_id, "self_assessment@F"),
        json=sample_payloads.self_assessment("F"),
        headers=tokens["rektor"],
    )

    assert response.status_code == 404  # a task the caller may not see: as if there were none
    assert response.json()["code"] == "not_found"
    assert FORVALTNINGSCHEF not in response.text
    assert await EventStore(db_pool).stream_version(workflow_id) == version_before
    # The lead sees the task, and may not answer it for its holder: that is a refusal.
    by_lead = await api.post(
        complete_url(workflow_id, "self_assessment@F"),
        json=sample_payloads.self_assessment("F"),
        headers=tokens["lead"],
    )
    assert by_lead.status_code == 403 and by_lead.json()["detail"] == FORBIDDEN_DETAIL


async def test_an_invalid_answer_is_refused_as_problem_json_naming_the_field(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]
) -> None:
    workflow_id = await start(api, tokens)
    await open_task(api, tokens["lead"], workflow_id, "self_assessment@F")
    answer = sample_payloads.self_assessment("F")
    answer["scores"]["SF1.a"] = 7

    response = await api.post(
        complete_url(workflow_id, "self_assessment@F"), json=answer, headers=tokens["forvaltningschef"]
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "invalid_payload" and problem["status"] == 422
    assert problem["field"] == "scores.SF1.a"
    assert {"type", "title", "detail"} <= set(problem)


async def test_a_body_that_is_not_an_object_is_refused_as_problem_json(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]
) -> None:
    workflow_id = await start(api, tokens)

    response = await api.post(
        steer_url(workflow_id, "self_assessment@F"), json={"action": "teleport", "reason": "x"}, headers=tokens["lead"]
    )

    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == "action"


async def test_completing_ones_own_task_answers_200_and_takes_it_out_of_the_inbox(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]
) -> None:
    workflow_id = await start(api, tokens)
    await open_task(api, tokens["lead"], workflow_id, "self_assessment@F")

    response = await api.post(
        complete_url(workflow_id, "self_assessment@F"),
        json=sample_payloads.self_assessment("F"),
        headers=tokens["forvaltningschef"],
    )

    assert response.status_code == 200, response.text
    assert response.json()["task_key"] == "self_assessment@F"
    inbox = (await api.get("/api/v1/me/inbox", headers=tokens["forvaltningschef"])).json()
    assert "self_assessment@F" not in [t["task_key"] for t in inbox if t["workflow_id"] == workflow_id]


async def test_the_same_answer_sent_again_is_answered_as_a_repeat_and_another_answer_is_a_conflict(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]], db_pool: asyncpg.Pool
) -> None:
    workflow_id = await start(api, tokens)
    await open_task(api, tokens["lead"], workflow_id, "self_assessment@F")
    answer = sample_payloads.self_assessment("F")
    url, chef = complete_url(workflow_id, "self_assessment@F"), tokens["forvaltningschef"]

    first = await api.post(url, json=answer, headers=chef)
    assert first.status_code == 200 and first.json()["repeat"] is False, first.text
    await data_pack_gathered(api, tokens["lead"], workflow_id)
    recorded = await EventStore(db_pool).stream_version(workflow_id)

    # Each request is its own Update, so Temporal has no memory of the first: the pilot's record decides.
    again = await api.post(url, json=dict(reversed(list(answer.items()))), headers=chef)
    assert again.status_code == 200, again.text
    assert again.json()["repeat"] is True and again.json()["completed_at"] == first.json()["completed_at"]
    assert again.json()["opened_next"] == []
    assert await EventStore(db_pool).stream_version(workflow_id) == recorded

    changed = {**answer, "scores": {**answer["scores"], "SF1.a": 5 - answer["scores"]["SF1.a"]}}
    conflict = await api.post(url, json=changed, headers=chef)
    assert (conflict.status_code, conflict.json()["code"]) == (409, "already_completed"), conflict.text
    # The same answer from someone else is no repeat of theirs: they may not complete it at all.
    assert (await api.post(url, json=answer, headers=tokens["rektor"])).status_code in (403, 404)
    assert await EventStore(db_pool).stream_version(workflow_id) == recorded


async def test_operations_staff_read_the_status_but_cannot_complete_or_steer(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]
) -> None:
    workflow_id = await start(api, tokens)
    await open_task(api, tokens["operations"], workflow_id, "self_assessment@F")

    completed = await api.post(
        complete_url(workflow_id, "self_assessment@F"),
        json=sample_payloads.self_assessment("F"),
        headers=tokens["operations"],
    )
    steered = await api.post(
        steer_url(workflow_id, "self_assessment@F"),
        json={"action": "reassign", "reason": "prov", "to_participant": "p-1861-analytiker"},
        headers=tokens["operations"],
    )

    assert completed.status_code == 403 and steered.status_code == 403
    status = await api.get(f"/api/v1/pilots/{workflow_id}/status", headers=tokens["operations"])
    [task] = [t for t in status.json()["tasks"] if t["key"] == "self_assessment@F"]
    assert task["status"] == "open" and task["assignee_id"] == FORVALTNINGSCHEF


async def test_a_programme_lead_reassigns_a_task_with_a_reason_and_a_participant_may_not(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]
) -> None:
    workflow_id = await start(api, tokens)
    await open_task(api, tokens["lead"], workflow_id, "self_assessment@F")
    request = {"action": "reassign", "reason": "förvaltningschefen är föräldraledig", "to_participant": REKTOR}

    by_participant = await api.post(
        steer_url(workflow_id, "self_assessment@F"), json=request, headers=tokens["forvaltningschef"]
    )
    by_lead = await api.post(steer_url(workflow_id, "self_assessment@F"), json=request, headers=tokens["lead"])

    assert by_participant.status_code == 403
    assert by_lead.status_code == 200, by_lead.text
    task = await open_task(api, tokens["lead"], workflow_id, "self_assessment@F")
    assert task["assignee_id"] == REKTOR


async def test_twenty_concurrent_completions_through_the_api_record_exactly_one(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]], db_pool: asyncpg.Pool
) -> None:
    workflow_id = await start(api, tokens)
    await open_task(api, tokens["lead"], workflow_id, "self_assessment@F")
    answers = [{**sample_payloads.self_assessment("F"), "evidence": {"SF1.a": f"svar {n}"}} for n in range(20)]

    responses = await asyncio.gather(
        *(
            api.post(complete_url(workflow_id, "self_assessment@F"), json=a, headers=tokens["forvaltningschef"])
            for a in answers
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19, [r.text for r in responses if r.status_code not in (200, 409)]
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["code"] == "already_completed"
        assert "already completed" in refused.json()["detail"]
    events = await EventStore(db_pool).read_stream(workflow_id)
    completions = [e for e in events if e.event_type == "TaskCompleted" and e.data["task_key"] == "self_assessment@F"]
    assert len(completions) == 1


async def decided_and_posted(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]], pool: asyncpg.Pool
) -> tuple[str, str]:
    """A pilot whose analysis the nämnd took note of today, its minutes posted today: (workflow id, today)."""
    workflow_id = await start(api, tokens)
    for key in (
        "document_collection",
        "self_assessment@P",
        "self_assessment@F",
        "self_assessment@R",
        "self_assessment@S",
        "self_assessment@S/p-1861-ekonomi",
        "strengths_weaknesses",
    ):
        task = await open_task(api, tokens["lead"], workflow_id, key)
        answer = sample_payloads.answer_for(task["template_key"], date.today(), level=task["level"])
        participant = bearer(await issue_token(pool, task["assignee_id"], "participant"))
        response = await api.post(complete_url(workflow_id, key), json=answer, headers=participant)
        assert response.status_code == 200, response.text
    reported = await open_task(api, tokens["lead"], workflow_id, "analysis_reported")
    today = reported["opened_at"][:10]  # the workflow's clock: the time-skipping server may be ahead
    secretary = bearer(await issue_token(pool, reported["assignee_id"], "participant"))
    decision = sample_payloads.namnd_decision(date.fromisoformat(today), 41, "analysen anmäls")
    response = await api.post(complete_url(workflow_id, "analysis_reported"), json=decision, headers=secretary)
    assert response.status_code == 200, response.text
    await open_task(api, tokens["lead"], workflow_id, "decision_posted@analysis_reported")
    posting = {"justering_date": today, "anslag_date": today}
    url = complete_url(workflow_id, "decision_posted@analysis_reported")
    assert (await api.post(url, json=posting, headers=secretary)).status_code == 200
    return workflow_id, today


def api_pool(api: httpx.AsyncClient) -> asyncpg.Pool:
    return api._transport.app.state.pool  # type: ignore[attr-defined]


async def test_the_lead_records_an_appeal_and_its_outcome_and_the_status_shows_both(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]], db_pool: asyncpg.Pool
) -> None:
    workflow_id, today = await decided_and_posted(api, tokens, db_pool)
    appeal = {
        "decision_key": "analysis_reported",
        "court": "Förvaltningsrätten i Karlstad",
        "case_number": "1234-26",
        "lodged_on": today,
    }

    refused = await api.post(f"/api/v1/pilots/{workflow_id}/appeals", json=appeal, headers=tokens["forvaltningschef"])
    assert refused.status_code == 403
    lodged = await api.post(f"/api/v1/pilots/{workflow_id}/appeals", json=appeal, headers=tokens["lead"])
    assert lodged.status_code == 200, lodged.text

    status = (await api.get(f"/api/v1/pilots/{workflow_id}/status", headers=tokens["lead"])).json()
    [decision] = status["decisions"]
    assert decision["status"] == "overklagad" and decision["appeals"][0]["case_number"] == "1234-26"
    assert any(w["kind"] == "appeal" and "1234-26" in w["text_sv"] for w in status["waiting_for"])

    outcome = {"decision_key": "analysis_reported", "case_number": "1234-26", "outcome": "upphavt", "decided_on": today}
    decided = await api.post(f"/api/v1/pilots/{workflow_id}/appeals/outcome", json=outcome, headers=tokens["lead"])
    assert decided.status_code == 200, decided.text
    assert decided.json()["reopened_tasks"] == ["analysis_reported"]


async def test_an_appeal_that_does_not_fit_is_refused_naming_the_field(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]], db_pool: asyncpg.Pool
) -> None:
    workflow_id, today = await decided_and_posted(api, tokens, db_pool)
    base = {"decision_key": "analysis_reported", "court": "Förvaltningsrätten i Karlstad", "case_number": "1-26"}
    url = f"/api/v1/pilots/{workflow_id}/appeals"
    store = EventStore(db_pool)
    before = await store.stream_version(workflow_id)

    for body, status, field in (
        ({**base, "lodged_on": "2000-01-01"}, 422, "lodged_on"),
        ({**base, "lodged_on": today, "case_number": "x"}, 422, "case_number"),
        ({**base, "lodged_on": today, "decision_key": "plan_adoption"}, 404, "decision_key"),
    ):
        response = await api.post(url, json=body, headers=tokens["lead"])
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        assert response.json().get("field") == field, response.text
    assert await store.stream_version(workflow_id) == before


async def test_a_body_over_the_limit_is_413_before_anything_reads_it(
    db_pool: asyncpg.Pool, tokens: dict[str, dict[str, str]]
) -> None:
    """A 1 MB answer once crossed to Temporal before it was refused; now the edge refuses it, declared or streamed.

    The app has no Temporal client at all (any call to one would fail with a 500), so a 413 is the edge's."""
    app = create_app(pool=db_pool, client=Client.__new__(Client), task_queue="unused", max_body_bytes=64 * 1024)
    url = "/api/v1/pilots/leda-lfr-skola-1861/tasks/self_assessment@F/complete"
    answer = {"evidence": "x" * 1_000_000}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://leda.test") as http:
        declared = await http.post(url, json=answer, headers=tokens["rektor"])

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(100):
                yield b"x" * 1024

        streamed = await http.post(url, content=chunks(), headers=tokens["rektor"])
        form = await http.post("/sign-in", data={"email": "a@example.se", "next": "/" + "x" * 70_000})
        fits = await http.post(url, json={"evidence": "x" * 1000})
    for response in (declared, streamed, form):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "too_large" and "65536 bytes" in response.json()["detail"]
    assert fits.status_code == 401  # under the limit: on to the routes, which ask who is calling


async def test_over_https_the_answers_carry_hsts_and_over_http_they_do_not(db_pool: asyncpg.Pool) -> None:
    for base, hsts in (("https://leda.kommun.example", True), ("http://127.0.0.1:8000", False)):
        app = create_app(pool=db_pool, client=Client.__new__(Client), task_queue="unused", web_base_url=base)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as http:
            for path in ("/sign-in", "/api/v1/me/inbox", "/openapi.json"):
                response = await http.get(path)
                assert ("strict-transport-security" in response.headers) == hsts, (base, path)
            if hsts:
                assert response.headers["strict-transport-security"].startswith("max-age=31536000")
            # The cookies of signing in are Secure exactly when the site is https.
            token = await issue_sign_in_link(db_pool, REKTOR)
            shown = await http.get(f"/inbox?token={token}")
            pressed = await http.post("/sign-in/link", data=link_page_form(shown.text))
            assert pressed.status_code == 303
            for cookie in (shown.headers["set-cookie"], pressed.headers.get_list("set-cookie")[0]):
                assert ("; secure" in cookie.lower()) == hsts, cookie
                assert "httponly" in cookie.lower()


async def test_a_pilots_history_comes_in_pages_by_position_with_an_etag(
    api: httpx.AsyncClient, tokens: dict[str, dict[str, str]], db_pool: asyncpg.Pool
) -> None:
    workflow_id = await start(api, tokens)
    await data_pack_gathered(api, tokens["lead"], workflow_id)
    url = f"/api/v1/pilots/{workflow_id}/history"

    pages, after = [], 0
    while after is not None:
        page = await api.get(url, params={"source": "domain", "after": after, "limit": 3}, headers=tokens["lead"])
        assert page.status_code == 200, page.text
        assert page.json()["after"] == after and len(page.json()["entries"]) <= 3
        pages.append(page)
        after = page.json()["next_after"]

    # The pages together are the record, as `leda history --format json --source domain` prints it.
    whole = [entry for page in pages for entry in page.json()["entries"]]
    printed, _ = await pilot_history(EventStore(db_pool), None, workflow_id)
    assert whole == [entry.model_dump(mode="json") for entry in printed]
    assert {page.json()["total"] for page in pages} == {len(whole)} and len(pages) == -(-len(whole) // 3)

    # A page the caller holds, unchanged, is answered 304 with no body; another ETag gets the page.
    first = pages[0]
    etag = first.headers["etag"]
    again = await api.get(
        url, params={"source": "domain", "limit": 3}, headers={**tokens["lead"], "If-None-Match": etag}
    )
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    stale = await api.get(
        url, params={"source": "domain", "limit": 3}, headers={**tokens["lead"], "If-None-Match": '"stale"'}
    )
    assert stale.status_code == 200 and stale.json() == first.json()

    past_the_end = await api.get(url, params={"source": "domain", "after": len(whole)}, headers=tokens["lead"])
    assert past_the_end.json()["entries"] == [] and past_the_end.json()["next_after"] is None
    refused = await api.get(url, params={"after": -1}, headers=tokens["lead"])
    assert refused.status_code == 422 and refused.json()["field"] == "after"
