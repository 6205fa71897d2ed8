"""The guided demo: Hallsberg (1861) through every phase on the demo template, with simulated participants.

The stack is real (Temporal dev server, PostgreSQL, SMTP, a Kolada-format server over synthetic files); only
the participants are simulated, answering with the synthetic sample payloads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client

from database import create_pool, redacted
from devstack import sample_payloads
from devstack.stack import embedded_stack
from directory import read_participants_csv, upsert_participants
from domain.moments import SWEDISH_TIME
from domain.phases import PHASE_TITLES, Phase
from domain.state import TaskStatus
from domain.status import PilotStatus
from eventstore import EventStore
from eventstore.verify import verify_chains
from pilots import (
    PilotError,
    PilotRecords,
    appeal_step,
    complete_task,
    record_appeal,
    register_inspection,
    start_pilot,
    timeline,
)
from reports import load_pilot_state, render_pilot_report, write_report
from settings import Settings
from worker import connect_temporal, running_worker

KOMMUNKOD = "1861"
PARTICIPANTS_CSV = Path(__file__).parent / "sample_data" / "synthetic_participants_1861.csv"
LATE_TASK = "self_assessment@F"
"""The simulated förvaltningschef answers this one late, so a reminder and an escalation go out."""
ANALYST = "p-1861-analytiker"
LEAD = "p-1861-programledare"
APPEALED = "plan_adoption"
"""The demo's nämnd decision that someone appeals; the court lets it stand."""


def say(sv: str, en: str = "") -> None:
    print(f"{sv}" + (f"  /  {en}" if en else ""), flush=True)


async def run_demo(settings: Settings) -> None:
    started = time.monotonic()
    say("Startar den inbäddade stacken …", "starting the embedded stack")
    async with embedded_stack(settings) as stack:
        cfg = stack.settings
        assert cfg.database_url is not None
        pool = await create_pool(cfg.database_url)
        try:
            # Every synthetic directory: Hallsberg's for the demo, and the others (SKL's round of ten and its lead at
            # SKR, Ljusnarsberg, the kommunalförbund) for trying more with `make run` afterwards.
            for csv in sorted(PARTICIPANTS_CSV.parent.glob("synthetic_participants_*.csv")):
                await upsert_participants(pool, read_participants_csv(csv))
            client = await connect_temporal(cfg)
            async with running_worker(client, cfg, pool):
                programme = f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
                workflow_id = await start_pilot(
                    client,
                    pool,
                    programme=programme,
                    kommunkod=KOMMUNKOD,
                    template_key="demo",
                    task_queue=cfg.task_queue,
                )
                say(f"\nPilot startad: Hallsberg ({KOMMUNKOD}), workflow {workflow_id}", "pilot started")
                # The nämnd's decisions are dated the day they are taken: the demo's clock shortens their legal
                # periods (justering, anslag, the three weeks to appeal) as it shortens every other.
                final = await simulate_participants(
                    client, PilotRecords(pool), workflow_id, decided_days_ago=0, appeal=APPEALED
                )
                say(f"\nAlla faser klara på {time.monotonic() - started:.0f} s.", "every phase completed")
                await _print_timeline(EventStore(pool), workflow_id)
                _print_mail(stack.mail_dir, workflow_id)
                _print_comparison(final)
                audit = await verify_chains(pool)
                say(
                    f"\nRevisionsspåret: {audit.events} händelser i {audit.streams} strömmar, hashkedjorna intakta"
                    if audit.first_break is None
                    else f"\nRevisionsspåret är ändrat: {audit.first_break}",
                    "the audit record's hash chains, checked as 'leda verify' does",
                )
                report_path = await _write_report(EventStore(pool), workflow_id, cfg.data_dir / "reports")
        finally:
            await pool.close()
        say("\nAdresser / addresses:")
        print(f"  Rapport / report: {report_path.resolve().as_uri()}")
        print(f"  Temporal UI:   {stack.temporal_ui_url}/namespaces/{cfg.temporal_namespace}/workflows/{workflow_id}")
        print(f"  Temporal:      {cfg.temporal_address}")
        print(
            "  Historik i Temporal / Temporal history (med 'make run' igång / with 'make run' serving):\n"
            f"                 .venv/bin/temporal workflow show --workflow-id {workflow_id}"
        )
        print(
            "  Historik / history (domän + Temporal):  "
            f"LEDA_TOKEN=$(.venv/bin/leda token issue p-{KOMMUNKOD}-programledare --scope programme_lead) "
            f".venv/bin/leda history {KOMMUNKOD} --programme {programme}"
        )
        print(
            f"  Webbsidor / web pages (med 'make run' igång / with 'make run' serving): {cfg.web_base_url}\n"
            "                 'make run' skriver ut inloggningslänkar / prints sign-in links; or: "
            f".venv/bin/leda sign-in-link p-{KOMMUNKOD}-programledare --page /board"
        )
        print(f"  PostgreSQL:    {redacted(stack.database_url)}")
        print(f"  E-post / mail: {stack.mail_dir}")
        say("\nStackens tillstånd ligger kvar i .leda/; 'make run' startar den igen.", "state stays in .leda/")


async def simulate_participants(
    client: Client,
    records: PilotRecords,
    workflow_id: str,
    *,
    say: Callable[..., None] = say,
    poll_interval: float = 0.2,
    analyst: str = ANALYST,
    answer_for: Callable[..., dict[str, Any]] = sample_payloads.answer_for,
    decided_days_ago: int = 40,
    inspection: bool = True,
    appeal: str | None = None,
    lead: str = LEAD,
    until: Callable[[PilotStatus], bool] | None = None,
) -> PilotStatus:
    """Answer every task of the pilot as its participants would, until the pilot completes (or its status meets
    `until`); return its status.

    They see the pilot as the API shows it to them, from its record (`records`); they answer through the client.
    The förvaltningschef answers LATE_TASK only once it has been escalated. The nämnd's decisions are dated
    `decided_days_ago` days back (0: today, so every legal period runs its full length on the template's clock).
    With `inspection`, Skolinspektionen decides during the plan and follows up in year 1; without, the programme
    ends with no inspection decision. The decision named by `appeal` is appealed once its minutes are posted, and
    the court (as the `lead` records) lets it stand. The benchmark of a whole fleet (`bench/fleet.py`) runs many
    of these at once, quietly (`say`) and on its own pacing (`poll_interval`), the one of all of Sweden through the
    deep analysis (`bench/sweden.py`) `until` the analysis is done; the one of a ten-year plan (`bench/history.py`)
    gives its own `answer_for`.
    """
    seen_phase: tuple[Phase, int] | None = None
    decision: dict[str, Any] | None = None
    followed_up = False
    appealed = False
    reported: set[str] = set()
    while True:
        try:
            status = await records.status(workflow_id)
        except PilotError as error:
            if error.code != "not_found":
                raise
            # Started, but its worker has not yet recorded PilotStarted (many pilots started at once, say).
            await asyncio.sleep(poll_interval)
            continue
        if (status.current_phase, status.implementation_year) != seen_phase and status.current_phase is not None:
            seen_phase = (status.current_phase, status.implementation_year)
            year = f", år {status.implementation_year} av {status.plan_years}" if status.implementation_year else ""
            say(f"\n== Fas: {PHASE_TITLES[seen_phase[0]][0]}{year} ==", PHASE_TITLES[seen_phase[0]][1])
        if status.completed_at is not None or (until is not None and until(status)):
            return status
        for task in status.tasks:
            if task.status is TaskStatus.COMPLETED and task.automated and task.key not in reported:
                reported.add(task.key)
                say(f"  ✓ {task.title_sv} (systemet hämtade data från Kolada)", "gathered by the system")
            if task.status is not TaskStatus.OPEN or task.automated:
                continue
            if task.key == LATE_TASK and not task.escalated:
                if f"wait-{task.key}" not in reported:
                    reported.add(f"wait-{task.key}")
                    say(f"  … {task.title_sv}: deltagaren dröjer (påminnelser och eskalering)", "participant is late")
                continue
            if task.key == "inspection_decision":
                continue  # registered below, when the inspectorate's decision arrives
            if task.template_key == "remediation" and not task.key.endswith("/atgardsplan") and not followed_up:
                continue  # the measures are still under way when the follow-up decision comes
            answer = answer_for(
                task.template_key,
                datetime.now(UTC).date(),
                level=task.level,
                year=task.year,
                organ=status.deciding_organ,
                decided_days_ago=decided_days_ago,
                prefill=task.prefill,
            )
            await complete_task(client, workflow_id, task.key, task.assignee_id, answer)
            extra = f" (påminnelser: {task.reminders_sent}, eskalerad)" if task.escalated else ""
            say(f"  ✓ {task.title_sv} — {task.assignee_id}{extra}", task.title_en)
            if task.prefill is not None:
                figures = ", ".join(
                    f"{kpi} {value:g}".replace(".", ",") for kpi, value in task.prefill["kpi_values"].items()
                )
                say(
                    f"    förifylld med Koladas värden för {task.prefill['year']}: {figures or 'inget publicerat'}",
                    "prefilled with Kolada's figures (synthetic)",
                )
        today = datetime.now(UTC).date()
        if inspection and decision is None and status.current_phase is Phase.DEVELOPMENT_PLAN:
            # Skolinspektionen's decision arrives while the plan is being written: the inspection runs in parallel.
            decision = sample_payloads.inspection_decision(today - timedelta(days=30))
            await register_inspection(client, records.pool, workflow_id, analyst, decision)
            say(
                f"  ! Skolinspektionens beslut {decision['diarienummer']} registrerat: föreläggande med tidsfrist",
                "inspection decision registered",
            )
        if decision is not None and not followed_up and status.implementation_year >= 1:
            follow_up = sample_payloads.inspection_follow_up(decision, today)
            await register_inspection(client, records.pool, workflow_id, analyst, follow_up)
            followed_up = True
            say(
                f"  ! Uppföljningsbeslut {follow_up['diarienummer']}: bristen avhjälpt, återstående steg stängs",
                "follow-up decision: deficiency cleared",
            )
        posted = next((d for d in status.decisions if d.key == appeal and d.anslag_date is not None), None)
        if posted is not None and not appealed:
            appealed = True
            await _appeal_and_uphold(client, records.pool, workflow_id, posted.key, lead, today, say)
        await asyncio.sleep(poll_interval)


async def _appeal_and_uphold(
    client: Client,
    pool: asyncpg.Pool,
    workflow_id: str,
    decision_key: str,
    lead: str,
    today: date,
    say: Callable[..., None],
) -> None:
    """Someone appeals the decision (laglighetsprövning); the court rejects the appeal and the decision stands."""
    case = {"decision_key": decision_key, "actor_id": lead, "case_number": "0001-SYNTETISKT"}
    court = "Förvaltningsrätten i Karlstad (syntetiskt mål)"
    await record_appeal(client, pool, workflow_id, appeal_step(action="lodged", court=court, lodged_on=today, **case))
    say(f"  ! {decision_key} överklagat till {court}: beslutet vinner inte laga kraft", "decision appealed")
    await record_appeal(
        client, pool, workflow_id, appeal_step(action="decided", outcome="avslaget", decided_on=today, **case)
    )
    say("  ! Domstolen avslog överklagandet: beslutet står fast", "the court rejected the appeal")


async def _print_timeline(store: EventStore, workflow_id: str) -> None:
    say("\nTidslinje ur händelseloggen (PostgreSQL)", "timeline from the event store")
    for entry in await timeline(store, workflow_id):
        local = entry.recorded_at.astimezone(SWEDISH_TIME)
        print(f"  {local:%H:%M:%S.%f}"[:-3] + f" {local:%Z}  #{entry.version:<3} {entry.summary}")


def _print_mail(mail_dir: Path, workflow_id: str) -> None:
    kinds = {"assignment": 0, "reminder": 0, "decision_due": 0, "escalation": 0}
    for path in sorted(mail_dir.glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if message["X-Leda-Notification"] is None:
            continue  # a daily digest, not about one task
        kind, mail_workflow, _ = (part.strip() for part in str(message["X-Leda-Notification"]).split(";"))
        if mail_workflow == workflow_id and kind in kinds:
            kinds[kind] += 1
    say(
        f"\nE-post i {mail_dir}: {kinds['assignment']} tilldelningar, {kinds['reminder']} påminnelser, "
        f"{kinds['decision_due']} om beslut, {kinds['escalation']} eskaleringar",
        "mail captured",
    )


async def _write_report(store: EventStore, workflow_id: str, directory: Path) -> Path:
    """The pilot's report (HTML with SVG charts), as `leda report` writes it."""
    state = await load_pilot_state(store, workflow_id)
    path = directory / f"{state.kommunkod}-{state.programme}.html"
    await asyncio.to_thread(write_report, path, render_pilot_report(state, generated_at=datetime.now(UTC)))
    say(f"\nRapporten med diagram är skriven till {path}", "the report with charts is written")
    return path


def _print_comparison(status: PilotStatus) -> None:
    names = {"agreed": "samstämmigt", "inspection_only": "bara Skolinspektionen", "self_only": "bara egen analys"}
    for diarienummer, items in status.comparisons.items():
        say(f"\nJämförelse med Skolinspektionens beslut {diarienummer}", "inspection comparison")
        for item in items:
            print(f"  {item.factor}: {names[item.classification]}")
    for decision in status.decisions:
        ends = decision.appeal_period_ends or decision.appeal_period_ends_latest
        appealed = " (överklagat; domstolen lät beslutet stå / appealed, upheld)" if decision.appeals else ""
        print(
            f"  Beslut {decision.organ} § {decision.paragraph} ({decision.diarienummer}): justeras senast "
            f"{decision.justering_due}, överklagandetiden löper ut {ends}{appealed}"
        )
