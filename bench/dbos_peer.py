"""A benchmark peer, not part of Leda: the human-task completion written with DBOS Transact instead.

One DBOS workflow per pilot waits for completions sent to it (`DBOS.recv`), validates each with a pydantic model,
appends one event to an append-only PostgreSQL table with an expected-version check (a unique violation on
`(stream_id, stream_version)` fails it) in a DBOS datasource transaction, and answers through `DBOS.set_event`; the
client measures from `DBOS.send` until `DBOS.get_event` returns the answer. DBOS 3 has no application database of
its own: the database write is a transaction on a `SQLAlchemyDatasource`, which commits the event and DBOS's step
checkpoint together, as DBOS's docs show. Run as its own process:

    python -m bench.dbos_peer DATABASE_URL --samples 200 --concurrency 20 --throughput-completions 400

DATABASE_URL is a superuser URL of an existing PostgreSQL server; the databases dbos_peer_app (the events) and
dbos_peer_sys (DBOS's system database) are created there when missing. Prints one line of JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import psycopg
from dbos import DBOS, DBOSConfig, SetWorkflowID, SQLAlchemyDatasource, WorkflowHandle
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import make_url, text
from sqlalchemy.exc import IntegrityError

TOPIC = "completion"
ANSWER_TIMEOUT_S = 60.0
WARMUP = 20
SEQUENTIAL_PILOTS = 20
EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS dbos_peer_events (
    stream_id text NOT NULL,
    stream_version bigint NOT NULL,
    event_id uuid PRIMARY KEY,
    event_type text NOT NULL,
    data jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, stream_version)
)"""


class Completion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task_key: str = Field(min_length=1)
    participant_id: str = Field(min_length=1)
    payload: dict[str, Any]


_events: SQLAlchemyDatasource
append_event: Callable[[str, int, Completion], dict[str, Any]]


def _append_event(stream_id: str, expected_version: int, completion: Completion) -> dict[str, Any]:
    """Runs in a datasource transaction: a second writer of the same version fails on the unique constraint."""
    event_id = str(uuid.uuid4())
    _events.sql_session().execute(
        text(
            "INSERT INTO dbos_peer_events (stream_id, stream_version, event_id, event_type, data)"
            " VALUES (:stream_id, :version, :event_id, 'TaskCompleted', CAST(:data AS jsonb))"
        ),
        {
            "stream_id": stream_id,
            "version": expected_version + 1,
            "event_id": event_id,
            "data": completion.model_dump_json(),
        },
    )
    return {"version": expected_version + 1, "event_id": event_id}


def open_events(app_url: str, pool_size: int) -> None:
    """The datasource exists only once the URL is known, so its transaction is decorated here, before launch."""
    global _events, append_event
    _events = SQLAlchemyDatasource.create(app_url, engine_kwargs={"pool_size": pool_size})
    append_event = _events.transaction(name="append_event", isolation_level="READ COMMITTED")(_append_event)


@DBOS.workflow()
def pilot(pilot_id: str, completions: int) -> int:
    appended = 0
    for n in range(completions):
        message = DBOS.recv(TOPIC, timeout_seconds=ANSWER_TIMEOUT_S)
        try:
            completion = Completion.model_validate(message)
        except ValidationError as error:
            DBOS.set_event(
                f"answer-{n}",
                {"ok": False, "error": error.errors(include_url=False, include_context=False, include_input=False)},
            )
            continue
        try:
            result = append_event(pilot_id, appended, completion)
        except IntegrityError:
            DBOS.set_event(f"answer-{n}", {"ok": False, "error": "version conflict"})
            continue
        appended = result["version"]
        DBOS.set_event(f"answer-{n}", {"ok": True, **result})
    return appended


class Client:
    """One pilot seen from outside: sends its completions and waits for each answer."""

    def __init__(self, pilot_id: str, workflow: WorkflowHandle[int]) -> None:
        self.pilot_id = pilot_id
        self.workflow = workflow
        self.sent = 0

    def complete(self, message: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        key = f"answer-{self.sent}"
        self.sent += 1
        start = time.perf_counter()
        DBOS.send(self.pilot_id, message, topic=TOPIC)
        answer = DBOS.get_event(self.pilot_id, key, timeout_seconds=ANSWER_TIMEOUT_S)
        elapsed = time.perf_counter() - start
        if answer is None:
            raise RuntimeError(f"{self.pilot_id}: no {key} within {ANSWER_TIMEOUT_S} s")
        return elapsed, answer

    def complete_task(self, number: int) -> float:
        message = {"task_key": f"task-{number}", "participant_id": "p-1", "payload": {"answer": "yes", "n": number}}
        elapsed, answer = self.complete(message)
        if not answer["ok"]:
            raise RuntimeError(f"{self.pilot_id}: completion {number} refused: {answer['error']}")
        return elapsed


def start_pilots(run: str, name: str, counts: list[int]) -> list[Client]:
    clients = []
    for i, count in enumerate(counts):
        pilot_id = f"{run}-{name}-{i}"
        with SetWorkflowID(pilot_id):
            clients.append(Client(pilot_id, DBOS.start_workflow(pilot, pilot_id, count)))
    return clients


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def throughput(clients: list[Client], counts: list[int]) -> float:
    barrier = threading.Barrier(len(clients))
    spans: list[tuple[float, float]] = []
    errors: list[BaseException] = []

    def drive(client: Client, count: int) -> None:
        try:
            barrier.wait()
            first = time.perf_counter()
            for number in range(count):
                client.complete_task(number)
            spans.append((first, time.perf_counter()))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=drive, args=pair) for pair in zip(clients, counts, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(counts) / (max(end for _, end in spans) - min(start for start, _ in spans))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dbos_peer", description=__doc__.splitlines()[0])
    parser.add_argument(
        "database_url",
        nargs="?",
        default=os.environ.get("DBOS_PEER_DATABASE_URL"),
        help="postgresql:// URL of a superuser on an existing server (default: $DBOS_PEER_DATABASE_URL, which keeps "
        "the password off the command line)",
    )
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--throughput-completions", type=int, default=400)
    options = parser.parse_args()

    if not options.database_url:
        parser.error("name the server: DATABASE_URL or $DBOS_PEER_DATABASE_URL")
    server = make_url(options.database_url).set(drivername="postgresql")
    admin_url = server.set(database="postgres").render_as_string(hide_password=False)
    app_url = server.set(database="dbos_peer_app").render_as_string(hide_password=False)
    ensure_database(admin_url, "dbos_peer_app")
    with psycopg.connect(app_url, autocommit=True) as conn:
        conn.execute(EVENTS_DDL)

    config: DBOSConfig = {
        "name": "dbos-peer",
        "system_database_url": server.set(database="dbos_peer_sys").render_as_string(hide_password=False),
        "log_level": "WARNING",
    }
    DBOS(config=config)
    open_events(app_url, pool_size=max(5, options.concurrency))
    DBOS.launch()
    try:
        run = uuid.uuid4().hex[:8]
        pilots = min(SEQUENTIAL_PILOTS, max(options.samples, 1))
        sequential = start_pilots(run, "seq", split(1 + WARMUP + options.samples, pilots))
        _, refused = sequential[0].complete({"task_key": "task-0", "participant_id": "", "payload": {}})
        if refused["ok"]:
            raise RuntimeError("an invalid completion was accepted")
        sequential_ms: list[float] = []
        for number in range(1, 1 + WARMUP + options.samples):
            elapsed = sequential[number % pilots].complete_task(number)
            if number > WARMUP:
                sequential_ms.append(round(elapsed * 1000, 3))
        counts = split(options.throughput_completions, options.concurrency)
        concurrent = start_pilots(run, "tp", counts)
        per_second = throughput(concurrent, counts)
        for client in sequential + concurrent:  # each has had all its completions: it ends now
            client.workflow.get_result()
    finally:
        DBOS.destroy()
    result = {
        "dbos_version": version("dbos"),
        "sequential_ms": sequential_ms,
        "throughput_per_s": round(per_second, 2),
        "throughput_completions": options.throughput_completions,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
