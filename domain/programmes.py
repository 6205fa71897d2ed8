"""The programme templates Leda ships: the SKL pilot template and a demo template that runs in seconds."""

from __future__ import annotations

from datetime import timedelta

from domain.phases import Phase
from domain.roles import Role
from domain.template import ProgrammeTemplate, TaskTemplate


def _tasks(unit: timedelta) -> tuple[TaskTemplate, ...]:
    """The task graph, with every duration expressed in `unit` (a day for real pilots, a second for the demo)."""

    def d(n: float) -> timedelta:
        return unit * n

    return (
        # Phase 1: djupanalys
        TaskTemplate(
            key="kpi_data_pack",
            title_sv="Hämta statistikunderlag från Kolada",
            title_en="Gather the Kolada data pack",
            phase=Phase.DEEP_ANALYSIS,
            owner_role=Role.ANALYTIKER,
            payload_kind="kpi_data_pack",
            automation="gather_kpis",
        ),
        TaskTemplate(
            key="self_assessment",
            title_sv="Självskattning mot de åtta framgångsfaktorerna",
            title_en="Self-assessment against the eight success factors",
            phase=Phase.DEEP_ANALYSIS,
            owner_role=Role.FORVALTNINGSCHEF,
            payload_kind="self_assessment",
            due_after=d(21),
            reminders_before_due=(d(7), d(1)),
            escalate_after_due=d(3),
        ),
        TaskTemplate(
            key="strengths_weaknesses",
            title_sv="Styrkor och svagheter: bristfaktorer och positiva drivkrafter",
            title_en="Strengths and weaknesses synthesis",
            phase=Phase.DEEP_ANALYSIS,
            owner_role=Role.FORVALTNINGSCHEF,
            payload_kind="strengths_weaknesses",
            depends_on=("kpi_data_pack", "self_assessment"),
            due_after=d(14),
            reminders_before_due=(d(3),),
            escalate_after_due=d(3),
        ),
        TaskTemplate(
            key="analysis_reported",
            title_sv="Analysen anmäld till nämnden",
            title_en="Analysis reported to the nämnd",
            phase=Phase.DEEP_ANALYSIS,
            owner_role=Role.NAMNDSEKRETERARE,
            payload_kind="namnd_decision",
            depends_on=("strengths_weaknesses",),
            due_after=d(45),
            reminders_before_due=(d(7),),
            escalate_after_due=d(7),
        ),
        # Phase 2: skolutvecklingsplan
        TaskTemplate(
            key="plan_draft",
            title_sv="Utkast till skolutvecklingsplan",
            title_en="Draft the development plan",
            phase=Phase.DEVELOPMENT_PLAN,
            owner_role=Role.FORVALTNINGSCHEF,
            payload_kind="plan_draft",
            due_after=d(60),
            reminders_before_due=(d(14), d(3)),
            escalate_after_due=d(7),
        ),
        TaskTemplate(
            key="plan_adoption",
            title_sv="Nämndens beslut att anta skolutvecklingsplanen",
            title_en="The nämnd adopts the development plan",
            phase=Phase.DEVELOPMENT_PLAN,
            owner_role=Role.NAMNDSEKRETERARE,
            payload_kind="namnd_decision",
            depends_on=("plan_draft",),
            due_after=d(60),
            reminders_before_due=(d(14),),
            escalate_after_due=d(7),
        ),
        # Phase 3: genomförande
        TaskTemplate(
            key="yearly_follow_up",
            title_sv="Årlig uppföljning av planen (SKA)",
            title_en="Yearly follow-up of the plan (SKA)",
            phase=Phase.IMPLEMENTATION,
            owner_role=Role.ANALYTIKER,
            payload_kind="yearly_follow_up",
            due_after=d(300),
            reminders_before_due=(d(30), d(7)),
            escalate_after_due=d(14),
        ),
        TaskTemplate(
            key="annual_report",
            title_sv="Årlig rapport till nämnden",
            title_en="Annual report to the nämnd",
            phase=Phase.IMPLEMENTATION,
            owner_role=Role.NAMNDSEKRETERARE,
            payload_kind="namnd_decision",
            depends_on=("yearly_follow_up",),
            due_after=d(45),
            reminders_before_due=(d(14),),
            escalate_after_due=d(7),
        ),
        # Parallel track: jämförelse med Skolinspektionen
        TaskTemplate(
            key="inspection_decision",
            title_sv="Registrera Skolinspektionens beslut",
            title_en="Register the Schools Inspectorate's decision",
            phase=Phase.INSPECTION_COMPARISON,
            owner_role=Role.ANALYTIKER,
            payload_kind="inspection_decision",
        ),
        TaskTemplate(
            key="inspection_action_plan",
            title_sv="Åtgärdsplan för Skolinspektionens iakttagelser",
            title_en="Action plan for the inspection's findings",
            phase=Phase.INSPECTION_COMPARISON,
            owner_role=Role.FORVALTNINGSCHEF,
            payload_kind="inspection_action_plan",
            depends_on=("inspection_decision", "strengths_weaknesses"),
            due_after=d(30),
            reminders_before_due=(d(7),),
            escalate_after_due=d(3),
        ),
    )


LFR_SKOLA = ProgrammeTemplate(
    key="lfr-skola",
    title_sv="Leda för resultat i skolan",
    title_en="Lead for Results in schools",
    tasks=_tasks(timedelta(days=1)),
)

DEMO = ProgrammeTemplate(
    key="demo",
    title_sv="Leda för resultat (demo: dagar blir sekunder)",
    title_en="Lead for Results (demo: days become seconds)",
    tasks=_tasks(timedelta(seconds=0.25)),
)

TEMPLATES: dict[str, ProgrammeTemplate] = {t.key: t for t in (LFR_SKOLA, DEMO)}


def template(key: str) -> ProgrammeTemplate:
    """The template named `key`, or a ValueError that lists the ones there are."""
    try:
        return TEMPLATES[key]
    except KeyError:
        raise ValueError(f"unknown programme template {key!r}; known: {sorted(TEMPLATES)}") from None
