"""The template task keys the code reads by name: the rules, the pilot's state, the follow-up's figures and the
report look these tasks up. Every shipped template has them; a template may add tasks of its own, which the code
then only knows through the template (their phase, owner, dependencies and payload kind)."""

from __future__ import annotations

KPI_DATA_PACK = "kpi_data_pack"
SELF_ASSESSMENT = "self_assessment"
STRENGTHS_WEAKNESSES = "strengths_weaknesses"
PLAN_DRAFT = "plan_draft"
PLAN_REVISION = "plan_revision"
FOLLOW_UP_FIGURES = "follow_up_figures"
SKA_FOLLOW_UP = "ska_follow_up"
INSPECTION_DECISION = "inspection_decision"
"""Also what holds the inspection track open until the first decision is registered (which may never come)."""
REMEDIATION = "remediation"
