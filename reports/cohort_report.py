"""A cohort's overview: one row per pilot, for the programme lead who follows many municipalities at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.phases import PHASE_TITLES
from domain.state import MunicipalityState, TaskStatus
from reports.charts import ProgressRow, progress_chart
from reports.page import bilingual, esc, html_page, require_aware, table


@dataclass(frozen=True)
class PilotSummary:
    """The figures of one cohort row, all computed from the pilot's state."""

    programme: str
    kommunkod: str
    municipality: str
    phase_sv: str
    phase_en: str
    implementation_year: int
    plan_years: int
    open_tasks: int
    overdue_tasks: int
    completed_tasks: int
    counted_tasks: int
    final_decisions: int
    decisions: int
    inspection_decisions: int


def summarise(state: MunicipalityState, *, now: datetime) -> PilotSummary:
    """One pilot's row; a task is overdue when it is open and its due time has passed at `now`."""
    require_aware(now)
    open_tasks = state.open_tasks()
    if state.completed_at is not None:
        phase_sv, phase_en = "Klar", "completed"
    elif (main := state.current_main_phase) is not None:
        phase_sv, phase_en = PHASE_TITLES[main]
    else:
        phase_sv, phase_en = "–", "no main phase"
    return PilotSummary(
        programme=state.programme,
        kommunkod=state.kommunkod,
        municipality=state.municipality_name or state.kommunkod,
        phase_sv=phase_sv,
        phase_en=phase_en,
        implementation_year=state.implementation_year,
        plan_years=state.plan_years,
        open_tasks=len(open_tasks),
        overdue_tasks=sum(1 for t in open_tasks if t.due_at is not None and t.due_at < now),
        completed_tasks=sum(1 for t in state.tasks.values() if t.status is TaskStatus.COMPLETED),
        # A closed task was no longer needed; counting it as undone would keep a finished pilot below 100 %.
        counted_tasks=sum(1 for t in state.tasks.values() if t.status is not TaskStatus.CLOSED),
        final_decisions=sum(1 for d in state.decisions if d.key in state.final_decisions),
        # An annulled decision is no longer one of the pilot's: the one taken again in its place counts.
        decisions=sum(1 for d in state.decisions if d.key not in state.annulled_decisions),
        inspection_decisions=len(state.inspections),
    )


def render_cohort_overview(states: list[MunicipalityState], *, generated_at: datetime) -> str:
    """Every pilot of a cohort on one page: a table and a bar chart of progress."""
    require_aware(generated_at)
    summaries = sorted(
        (summarise(s, now=generated_at) for s in states), key=lambda s: (s.municipality, s.kommunkod, s.programme)
    )
    programmes = sorted({s.programme for s in summaries})
    title = f"Kohortöversikt: {', '.join(programmes) or 'inga piloter'}"
    heading = f"<header><h1>{bilingual('Kohortöversikt', 'cohort overview')}</h1>"
    if not summaries:
        body = heading + f'<p class="missing">{bilingual("Inga piloter hittades.", "No pilots found.")}</p></header>'
        return html_page(title=title, body=body, generated_at=generated_at, source_note="")
    total_open = sum(s.open_tasks for s in summaries)
    total_overdue = sum(s.overdue_tasks for s in summaries)
    stamp = f"{generated_at:%Y-%m-%d %H:%M}"
    lead = bilingual(
        f"{len(summaries)} piloter i {', '.join(programmes)}. {total_open} öppna uppgifter, varav {total_overdue} "
        f"försenade ({stamp}).",
        f"{len(summaries)} pilots; {total_open} open tasks, {total_overdue} overdue.",
    )
    chart = progress_chart(
        chart_id="kohort-framsteg",
        title="Andel klara uppgifter per pilot",
        desc=(
            "Liggande staplar, en per pilot: klara uppgifter av alla hittills öppnade uppgifter "
            "(uppgifter som stängts som onödiga räknas inte). Samma siffror finns i tabellen."
        ),
        rows=[
            ProgressRow(
                f"{s.programme}-{s.kommunkod}", f"{s.municipality} ({s.kommunkod})", s.completed_tasks, s.counted_tasks
            )
            for s in summaries
        ],
    )
    body = (
        f'{heading}<p class="lead">{lead}</p></header>'
        f'<section aria-labelledby="piloter-h"><h2 id="piloter-h">{bilingual("Piloterna", "Pilots")}</h2>'
        f"{_pilot_table(summaries)}</section>"
        f'<section aria-labelledby="framsteg-h"><h2 id="framsteg-h">{bilingual("Framsteg", "Progress")}</h2>'
        f"<figure>{chart}<figcaption>"
        + bilingual(
            "Klara uppgifter av de uppgifter som hittills öppnats; senare faser öppnar fler.",
            "Completed of the tasks opened so far; later phases open more.",
        )
        + "</figcaption></figure></section>"
    )
    return html_page(
        title=title,
        body=body,
        generated_at=generated_at,
        source_note="Alla uppgifter är beräknade ur piloternas händelseloggar.",
    )


def _pilot_table(summaries: Sequence[PilotSummary]) -> str:
    several_programmes = len({s.programme for s in summaries}) > 1
    columns = [
        ("Kommun", "municipality", ""),
        *([("Program", "programme", "")] if several_programmes else []),
        ("Fas", "phase", ""),
        ("Genomförandeår", "implementation year", ' class="num"'),
        ("Öppna", "open tasks", ' class="num"'),
        ("Försenade", "overdue", ' class="num"'),
        ("Laga kraft / beslut", "final / decisions", ' class="num"'),
        ("Inspektionsbeslut", "inspection decisions", ' class="num"'),
        ("Klara", "tasks completed", ' class="num"'),
    ]
    head = "".join(f'<th scope="col"{cls}>{bilingual(sv, en)}</th>' for sv, en, cls in columns)
    rows = []
    for s in summaries:
        year = f"{s.implementation_year} av {s.plan_years}" if s.plan_years else "–"
        overdue = f"<strong>{s.overdue_tasks}</strong>" if s.overdue_tasks else "0"
        programme = f"<td>{esc(s.programme)}</td>" if several_programmes else ""
        rows.append(
            f'<tr data-pilot="{esc(s.programme)}-{esc(s.kommunkod)}">'
            f'<th scope="row">{esc(s.municipality)} ({esc(s.kommunkod)})</th>'
            f"{programme}<td>{bilingual(s.phase_sv, s.phase_en)}</td>"
            f'<td class="num">{esc(year)}</td><td class="num" data-col="open">{s.open_tasks}</td>'
            f'<td class="num" data-col="overdue">{overdue}</td>'
            f'<td class="num" data-col="decisions">{s.final_decisions} / {s.decisions}</td>'
            f'<td class="num" data-col="inspections">{s.inspection_decisions}</td>'
            f'<td class="num" data-col="completed">{s.completed_tasks} / {s.counted_tasks}</td></tr>'
        )
    return table(head, rows)
