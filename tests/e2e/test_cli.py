"""The `leda` CLI as a user runs it, against the dev server, PostgreSQL, SMTP and a worker process."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio

from access import issue_token, open_session, token_hash
from devstack import sample_payloads
from devstack.kolada import KoladaSampleServer
from devstack.mail import MailCapture
from devstack.temporal import TemporalDevServer

LEDA = str(Path(sys.executable).parent / "leda")
PARTICIPANTS_CSV = Path(__file__).parents[2] / "devstack" / "sample_data" / "synthetic_participants_1861.csv"


@pytest.fixture(scope="module")
def cli_env(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
    dev_server: TemporalDevServer,
    mail_capture: MailCapture,
    kolada_server: KoladaSampleServer,
) -> Iterator[dict[str, str]]:
    yield {
        **os.environ,
        "DATABASE_URL": database_url,
        "LEDA_TEMPORAL_ADDRESS": dev_server.address,
        "LEDA_TASK_QUEUE": f"e2e-{uuid.uuid4().hex[:8]}",
        "LEDA_SMTP_HOST": mail_capture.host,
        "LEDA_SMTP_PORT": str(mail_capture.port),
        "LEDA_KOLADA_BASE_URL": kolada_server.base_url,
        "LEDA_DATA_DIR": str(tmp_path_factory.mktemp("leda-data")),
    }


@pytest_asyncio.fixture(scope="module")
async def worker_process(cli_env: dict[str, str]) -> AsyncIterator[None]:
    process = await asyncio.create_subprocess_exec(
        LEDA, "worker", env=cli_env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    yield
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        process.kill()


async def leda(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        LEDA, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


LEAD = "p-1861-programledare"
_tokens: dict[str, str] = {}


async def as_(env: dict[str, str], participant_id: str) -> dict[str, str]:
    """The environment of `participant_id`'s CLI: their token, issued once by an administrator's `leda token`."""
    if participant_id not in _tokens:
        scope = "programme_lead" if participant_id.endswith("-programledare") else "participant"
        code, out, err = await leda(env, "token", "issue", participant_id, "--scope", scope)
        assert code == 0, err
        _tokens[participant_id] = out.strip()
    return {**env, "LEDA_TOKEN": _tokens[participant_id]}


async def wait_for_open(env: dict[str, str], programme: str, key: str) -> dict:
    for _ in range(100):
        code, out, err = await leda(await as_(env, LEAD), "tasks", "1861", "--programme", programme, "--json")
        # Until the worker's first append the pilot is not on record yet (slower on a busy machine): wait on.
        assert code == 0 or "is on record" in err, err
        for task in json.loads(out) if code == 0 else []:
            if task["key"] == key:
                return task
        await asyncio.sleep(0.2)
    raise AssertionError(f"{key} never opened")


async def test_a_programme_lead_and_participants_run_a_pilot_through_every_phase_with_the_cli(
    cli_env: dict[str, str], worker_process: None, mail_capture: MailCapture, tmp_path: Path
) -> None:
    env = cli_env
    programme = f"e2e-{uuid.uuid4().hex[:6]}"
    code, out, err = await leda(env, "participants", "import", str(PARTICIPANTS_CSV))
    assert code == 0 and "10 deltagare importerade" in out, err

    lead = await as_(env, LEAD)
    code, out, err = await leda(lead, "whoami")
    assert (code, out.strip()) == (0, f"{LEAD} (programme_lead)"), err
    code, out, err = await leda(lead, "start", "1861", "--template", "demo", "--programme", programme)
    assert code == 0, err
    assert f"leda-{programme}-1861" in out

    # Simulated participants answer whatever is open, each through the CLI; the plan runs for one year here.
    today = datetime.now(UTC).date()
    appealed = False
    for _ in range(200):
        code, out, err = await leda(lead, "status", "1861", "--programme", programme, "--json")
        status = json.loads(out)
        if status["completed_at"]:
            break
        todo = [
            t
            for t in status["tasks"]
            if t["status"] == "open"
            and not t["automated"]
            and (t["key"] != "inspection_decision" or status["current_phase"] == "skolutvecklingsplan")
        ]
        for task in todo:
            payload = sample_payloads.answer_for(
                task["template_key"], today, level=task["level"], year=task["year"], prefill=task.get("prefill")
            )
            if task["key"] == "plan_draft":
                payload["period_years"] = 1
            answer = tmp_path / "answer.json"
            answer.write_text(json.dumps(payload))
            if task["key"] == "inspection_decision":
                args = ["register-inspection", "1861", "--programme", programme, "--file", str(answer)]
            else:
                args = ["complete", "1861", task["key"], "--programme", programme, "--payload-file", str(answer)]
            code, out, err = await leda(await as_(env, task["assignee_id"]), *args)
            assert code == 0, f"{task['key']}: {err}"
        adoption = next((d for d in status["decisions"] if d["key"] == "plan_adoption"), None)
        if adoption is not None and adoption["anslag_date"] and not appealed:
            # Someone appealed the plan's adoption in time; the court let it stand.
            appealed = True
            pilot = ["1861", "plan_adoption", "--programme", programme, "--case", "2244-26"]
            court = ["--court", "Förvaltningsrätten i Karlstad", "--lodged", adoption["anslag_date"]]
            code, out, err = await leda(lead, "appeal", *pilot, *court)
            assert code == 0 and "appeal recorded: plan_adoption" in out, err
            code, out, err = await leda(lead, "status", "1861", "--programme", programme)
            assert "överklagad, i väntan på domstolen" in out and "Förvaltningsrätten i Karlstad, mål 2244-26" in out
            outcome = ["--outcome", "avslaget", "--decided", today.isoformat()]
            code, out, err = await leda(lead, "appeal-outcome", *pilot, *outcome)
            assert code == 0 and "outcome recorded" in out, err
        if not todo:
            await asyncio.sleep(0.3)

    for _ in range(100):
        code, out, err = await leda(lead, "status", "1861", "--programme", programme, "--json")
        if json.loads(out)["completed_at"]:
            break
        await asyncio.sleep(0.2)
    status = json.loads(out)
    assert status["completed_at"] is not None
    assert len(status["completed_phases"]) == 5  # three main phases and two parallel tracks
    adopted = next(d for d in status["decisions"] if d["key"] == "plan_adoption")
    assert appealed and adopted["status"] == "laga_kraft" and [a["outcome"] for a in adopted["appeals"]] == ["avslaget"]
    code, out, err = await leda(lead, "status", "1861", "--programme", programme)
    assert code == 0 and "ingenting: piloten är klar sedan" in out and "nothing: the pilot completed on" in out, err
    # A decision of Skolinspektionen that comes after the programme is not registered in it.
    late = tmp_path / "late.json"
    late.write_text(json.dumps(sample_payloads.inspection_decision(today) | {"diarienummer": "SI-2026:9"}))
    analyst = await as_(env, "p-1861-analytiker")
    code, out, err = await leda(analyst, "register-inspection", "1861", "--programme", programme, "--file", str(late))
    assert code == 1 and "the pilot completed on" in err, err

    code, out, err = await leda(lead, "history", "1861", "--programme", programme, "--source", "domain")
    assert code == 0, err
    lines = out.splitlines()
    for phase in (
        "Djupanalys",
        "Skolutvecklingsplan",
        "Genomförande",
        "Jämförelse med Skolinspektionen",
        "Besluten justeras, anslås och vinner laga kraft",
    ):
        assert any(f"fas klar: {phase}" in line for line in lines), phase
    assert "PilotStarted" in lines[0] and "PilotCompleted" in lines[-1]

    # The export merges both records: Temporal's timers, activities and Updates beside the domain events.
    code, out, err = await leda(lead, "history", "1861", "--programme", programme, "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["source"] for r in rows} == {"domain", "temporal"}
    assert {"TIMER_STARTED", "ACTIVITY_TASK_SCHEDULED", "WORKFLOW_EXECUTION_UPDATE_ACCEPTED"} <= {
        r["kind"] for r in rows
    }
    later = rows[len(rows) // 2]["at"]
    code, out, err = await leda(lead, "history", "1861", "--programme", programme, "--format", "csv", "--since", later)
    assert code == 0, err
    assert 0 < len(list(csv.DictReader(io.StringIO(out)))) < len(rows)

    code, out, err = await leda(lead, "report", "1861", "--programme", programme, "--out", str(tmp_path / "r.html"))
    assert code == 0, err
    page = (tmp_path / "r.html").read_text()
    assert "<svg" in page and "Hallsberg" in page

    assignment = await mail_capture.wait_for(
        lambda m: str(m["X-Leda-Notification"]).startswith(f"assignment; leda-{programme}-1861; annual_report")
    )
    assert "namndsekreterare.1861@example.invalid" in str(assignment[-1]["To"])


async def test_cli_mistakes_get_one_clear_line_and_a_non_zero_exit(
    cli_env: dict[str, str], worker_process: None
) -> None:
    env = cli_env
    programme = f"e2e-{uuid.uuid4().hex[:6]}"
    await leda(env, "participants", "import", str(PARTICIPANTS_CSV))
    lead = await as_(env, LEAD)
    errors = []

    code, _, err = await leda(env, "start", "1861", "--template", "demo", "--programme", programme)
    assert code == 1 and "set LEDA_TOKEN" in err
    errors.append(err)
    code, _, err = await leda({**env, "LEDA_TOKEN": "not-a-token"}, "inbox")
    assert code == 1 and "unknown, expired or revoked" in err
    errors.append(err)

    code, _, err = await leda(lead, "start", "1861", "--template", "demo", "--programme", programme)
    assert code == 0, err
    code, _, err = await leda(lead, "start", "1861", "--template", "demo", "--programme", programme)
    assert code == 1 and "already started" in err
    errors.append(err)

    await wait_for_open(env, programme, "self_assessment@F")
    code, _, err = await leda(
        await as_(env, "p-1861-rektor"), "complete", "1861", "no_such_task", "--programme", programme, "--payload", "{}"
    )
    assert code == 1 and "no task 'no_such_task' has opened" in err
    errors.append(err)

    code, _, err = await leda(
        await as_(env, "p-1861-forvaltningschef"),
        "complete",
        "1861",
        "self_assessment@F",
        "--programme",
        programme,
        "--payload",
        "{not json",
    )
    assert code == 1 and "not valid JSON" in err
    errors.append(err)

    extend = ["extend", "1861", "self_assessment@F", "--programme", programme, "--reason", "sjukdom", "--until"]
    code, _, err = await leda(lead, *extend, "next friday")
    assert code == 1 and "--until: 'next friday' is not a day or a moment like 2026-12-01" in err
    errors.append(err)

    # A bare date is the end of that office day in Swedish time, and shown so, with the zone named.
    code, _, err = await leda(lead, *extend, "2030-01-15")
    assert code == 0, err
    code, out, err = await leda(lead, "tasks", "1861", "--programme", programme, "--json")
    assert code == 0, err
    [task] = [t for t in json.loads(out) if t["key"] == "self_assessment@F"]
    assert datetime.fromisoformat(task["due_at"]) == datetime(2030, 1, 15, 15, 0, tzinfo=UTC)
    code, out, err = await leda(lead, "tasks", "1861", "--programme", programme)
    assert code == 0 and "2030-01-15 16:00 CET" in out, (out, err)

    code, _, err = await leda(lead, "status", "12")
    assert code == 1 and "four digits" in err
    errors.append(err)

    # One exit code per kind of outcome, whichever side refused: the command line itself (argparse's usage) is
    # refused as the workflow's refusals are, with 1; a failure to carry a request out is 3 (test_temporal_tls).
    code, _, err = await leda(lead, "start", "1861", "--no-such-option")
    assert code == 1 and "unrecognized arguments: --no-such-option" in err, err

    for stderr in errors:
        assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr


async def test_the_cli_acts_as_its_token_and_refuses_what_the_api_would(
    cli_env: dict[str, str], worker_process: None
) -> None:
    env = cli_env
    programme = f"e2e-{uuid.uuid4().hex[:6]}"
    await leda(env, "participants", "import", str(PARTICIPANTS_CSV))
    code, _, err = await leda(await as_(env, LEAD), "start", "1861", "--template", "demo", "--programme", programme)
    assert code == 0, err
    await wait_for_open(env, programme, "self_assessment@F")
    rektor, chef = await as_(env, "p-1861-rektor"), await as_(env, "p-1861-forvaltningschef")
    pilot = ["1861", "--programme", programme]

    # Someone else's task, someone else's inbox, a lead's step, the whole history: refused without a name.
    answer = json.dumps(sample_payloads.self_assessment("F"))
    refused = [
        ["complete", *pilot[:1], "self_assessment@F", *pilot[1:], "--payload", answer],
        ["inbox", "--participant", "p-1861-forvaltningschef"],
        ["extend", *pilot[:1], "self_assessment@R", *pilot[1:], "--until", "2030-01-01", "--reason", "x"],
        ["history", *pilot],
        ["start", "1864", "--template", "demo", "--programme", programme],
    ]
    for args in refused:
        code, _, err = await leda(rektor, *args)
        assert code == 1 and "you may not do this" in err, (args, err)
        assert "forvaltningschef" not in err and "example.invalid" not in err

    # What is theirs: their own tasks only, in the status and the inbox.
    code, out, err = await leda(rektor, "tasks", *pilot, "--json")
    assert code == 0, err
    assert {t["assignee_id"] for t in json.loads(out)} == {"p-1861-rektor"}
    code, out, err = await leda(chef, "inbox", "--kommunkod", "1861", "--json")
    assert code == 0, err
    mine = [t for t in json.loads(out) if t["stream_id"] == f"leda-{programme}-1861"]
    assert "self_assessment@F" in {t["task_key"] for t in mine}
    assert all(t["participant_id"] == "p-1861-forvaltningschef" for t in mine)

    # The holder completes it, as themselves: the record names the token's owner, not a flag.
    code, _, err = await leda(chef, "complete", *pilot[:1], "self_assessment@F", *pilot[1:], "--payload", answer)
    assert code == 0, err
    code, out, err = await leda(await as_(env, LEAD), "history", *pilot, "--json")
    assert code == 0, err
    [completed] = [e for e in json.loads(out) if e["kind"] == "TaskCompleted" and "self_assessment@F" in e["summary"]]
    assert completed["actor"] == "p-1861-forvaltningschef"


async def a_demo_pilot(env: dict[str, str]) -> tuple[str, dict[str, str], dict[str, str]]:
    """A new pilot of 1861 on the demo template, started by its lead; its programme, and the lead's and a rektor's
    CLI environments."""
    programme = f"e2e-{uuid.uuid4().hex[:6]}"
    await leda(env, "participants", "import", str(PARTICIPANTS_CSV))
    lead, rektor = await as_(env, LEAD), await as_(env, "p-1861-rektor")
    code, _, err = await leda(lead, "start", "1861", "--template", "demo", "--programme", programme)
    assert code == 0, err
    return programme, lead, rektor


async def test_a_lead_lists_pauses_and_resumes_a_pilot_and_a_participant_may_not(
    cli_env: dict[str, str], worker_process: None
) -> None:
    programme, lead, rektor = await a_demo_pilot(cli_env)
    pilot = ["1861", "--programme", programme, "--reason", "driftärende"]

    code, _, err = await leda(rektor, "pause", *pilot)
    assert code == 1 and "you may not do this" in err
    code, out, err = await leda(lead, "pause", *pilot)
    assert code == 0 and "paused" in out, err
    code, _, err = await leda(lead, "pause", *pilot)
    assert code == 1 and "already paused" in err

    for _ in range(50):  # visibility catches up within moments
        code, out, err = await leda(lead, "list", "--state", "paused", "--programme", programme)
        if f"leda-{programme}-1861" in out:
            break
        await asyncio.sleep(0.2)
    assert f"leda-{programme}-1861" in out and "temporal workflow list --query" in out
    code, out, err = await leda(lead, "resume", *pilot)
    assert code == 0 and "resumed" in out, err


async def test_operations_mint_a_sign_in_link_for_a_participant_of_the_directory(
    cli_env: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    env = {**cli_env, "LEDA_WEB_BASE_URL": "https://leda.example.invalid"}
    code, out, err = await leda(env, "sign-in-link", "p-1861-rektor", "--page", "/inbox")
    assert code == 0, err
    [url] = out.split()
    assert url.startswith("https://leda.example.invalid/inbox?token=")
    opened = await open_session(db_pool, url.rsplit("=", 1)[1])
    assert opened is not None and opened[1].participant_id == "p-1861-rektor"

    code, _, err = await leda(env, "sign-in-link", "p-1861-ingen")
    assert code == 1 and "no participant 'p-1861-ingen' in the directory" in err
    code, _, err = await leda(env, "sign-in-link", "p-1861-rektor", "--page", "//elsewhere.example")
    assert code == 1 and "path must be absolute on the site" in err


async def test_a_lead_changes_a_running_pilots_roster_and_a_participant_may_not(
    cli_env: dict[str, str], worker_process: None
) -> None:
    programme, lead, rektor = await a_demo_pilot(cli_env)
    await wait_for_open(cli_env, programme, "self_assessment@F")
    pilot = ["1861", "--programme", programme, "--reason", "tjänsten dras in"]

    code, _, err = await leda(rektor, "roster", *pilot, "--role", "ekonomi", "--leaving", "p-1861-ekonomi")
    assert code == 1 and "you may not do this" in err
    code, _, err = await leda(lead, "roster", *pilot, "--role", "rektor", "--joining", "p-1861-ingen")
    assert code == 1 and "joining: p-1861-ingen is not one of the municipality 1861" in err, err
    code, _, err = await leda(lead, "roster", *pilot, "--role", "ekonomi", "--leaving", "p-1861-ekonomi")
    assert code == 1 and "p-1861-ekonomi holds open tasks (self_assessment@S/p-1861-ekonomi)" in err, err
    # The region's support group holds no task of this programme: it may leave without a replacement.
    leaving = ("--role", "regional_skolstodsgrupp", "--leaving", "p-1861-regional")
    code, out, err = await leda(lead, "roster", *pilot, *leaving)
    assert code == 0 and "roster changed: regional_skolstodsgrupp" in out, err
    code, out, err = await leda(lead, "history", "1861", "--programme", programme, "--source", "domain")
    assert code == 0 and "p-1861-regional är inte längre regional_skolstodsgrupp" in out, err


async def test_a_lead_schedules_a_network_meeting_and_records_the_attendance_with_the_cli(
    cli_env: dict[str, str], worker_process: None
) -> None:
    programme, lead, rektor = await a_demo_pilot(cli_env)
    await wait_for_open(cli_env, programme, "self_assessment@F")
    held_at = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M+00:00")
    meeting = ["meeting", "schedule", programme, "--title", "Nätverksträff 1", "--at", held_at, "--place", "Örebro"]

    code, _, err = await leda(rektor, *meeting)
    assert code == 1 and "you may not do this" in err
    past = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M+00:00")
    code, _, err = await leda(lead, *meeting[:5], "--at", past)
    assert code == 1 and "held_at:" in err, err
    code, out, err = await leda(lead, *meeting)
    assert code == 0 and "✓ 1861: network_contribution@" in out, err
    meeting_id = out.split("network meeting ", 1)[1].split(",", 1)[0]

    await asyncio.sleep(0.5)  # the demo's clock: the meeting two days ahead is held a fifth of a second on
    attendance = ["meeting", "attendance", "1861", "--programme", programme, meeting_id]
    code, _, err = await leda(lead, *attendance, "--attendee", "p-1861-ingen")
    assert code == 1 and "attendee_ids: p-1861-ingen not on this pilot's roster" in err, err
    code, out, err = await leda(lead, *attendance, "--absent")
    assert code == 0 and "attendance recorded" in out, err
    code, out, err = await leda(lead, "history", "1861", "--programme", programme, "--source", "domain")
    assert code == 0 and f"deltog inte i nätverksträffen {meeting_id}" in out, err


async def test_operations_list_and_revoke_tokens_which_expire(
    cli_env: dict[str, str], db_pool: asyncpg.Pool, owner_pool: asyncpg.Pool, dev_api: httpx.AsyncClient
) -> None:
    participant = "p-1861-hr"
    code, out, err = await leda(cli_env, "token", "issue", participant, "--days", "7")
    assert code == 0, err
    token = out.strip()
    assert token.startswith("leda_api_")
    code, out, err = await leda(cli_env, "token", participant)  # the form scripts used before `issue` came
    assert code == 0 and out.strip().startswith("leda_api_"), err
    code, _, err = await leda(cli_env, "token", "issue", participant, "--days", "400")
    assert code == 1 and "--days" in err and "366" in err

    me = {"Authorization": f"Bearer {token}"}
    assert (await dev_api.get("/api/v1/me/inbox", headers=me)).status_code == 200
    code, out, err = await leda(cli_env, "token", "list", "--participant", participant, "--json")
    assert code == 0, err
    listed = {t["token_id"]: t for t in json.loads(out)}
    [mine] = [t for t in listed.values() if token_hash(token).startswith(t["token_id"])]
    assert mine["state"] == "live" and mine["last_used_at"] is not None  # the call above was noted
    assert timedelta(days=6) < datetime.fromisoformat(mine["expires_at"]) - datetime.now(UTC) <= timedelta(days=7)
    assert token not in out and token_hash(token) not in out

    code, out, err = await leda(cli_env, "token", "list")
    assert code == 0 and mine["token_id"] in out and token not in out, err
    code, out, err = await leda(cli_env, "token", "revoke", mine["token_id"])
    assert code == 0 and "revoked" in out, err
    assert (await dev_api.get("/api/v1/me/inbox", headers=me)).status_code == 401  # at once
    code, _, err = await leda({**cli_env, "LEDA_TOKEN": token}, "whoami")
    assert code != 0 and "revoked" in err
    code, _, err = await leda(cli_env, "token", "revoke", "0" * 12)
    assert code == 1 and "no token has the id" in err

    # Expired: refused although never revoked.
    other = await issue_token(db_pool, participant, "participant", lifetime=timedelta(days=1))
    await owner_pool.execute(  # back-dated as the owner: the application's role cannot move a token's times
        "UPDATE api_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' "
        "WHERE token_hash = $1",
        token_hash(other),
    )
    assert (await dev_api.get("/api/v1/me/inbox", headers={"Authorization": f"Bearer {other}"})).status_code == 401
    code, out, _ = await leda(cli_env, "token", "list", "--participant", participant, "--json")
    assert {t["state"] for t in json.loads(out)} == {"live", "expired", "revoked"}
