"""Reports rendered from a pilot's folded state: one HTML page per pilot, and one per cohort."""

from reports.cohort_report import render_cohort_overview
from reports.loading import load_pilot_state, write_report
from reports.pilot_report import render_pilot_report

__all__ = ["load_pilot_state", "render_cohort_overview", "render_pilot_report", "write_report"]
