"""Results, each a ratio against a baseline measured in the same run, and BENCHMARKS.md written from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.machine import Machine


@dataclass(frozen=True)
class Result:
    """One measurement of Leda against its baseline from the same run.

    `ratio` is how the target is stated: Leda/baseline for times and memory, Leda/baseline for throughput too
    (so a throughput ratio above 1 is better, a time ratio below 1 is better); `target` says which.
    """

    benchmark: str
    measure: str
    leda: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None
    """None: nothing to meet (context only)."""
    note: str = ""


@dataclass
class Section:
    """One benchmark's part of the report: its results, how it was measured, and what it found."""

    title: str
    results: list[Result] = field(default_factory=list)
    method: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0


BUDGET_MINUTES = 15
"""`make bench`'s; `make bench-sweden` may take 30."""


def render(
    machine: Machine,
    sections: list[Section],
    *,
    total_seconds: float,
    load: tuple[float, float],
    preamble: list[str],
    command: str = "make bench",
    budget_minutes: int = BUDGET_MINUTES,
) -> str:
    budget = "within" if total_seconds < budget_minutes * 60 else "**over**"
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` (`python -m bench`); every number below is from one run of it. Absolute times on",
        "this machine vary by about ±40 % from run to run, so each result is a **ratio** against a baseline measured",
        "in the same run, on the same servers, one after the other or interleaved.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in machine.rows()),
        f"| whole run | {total_seconds / 60:.1f} min ({budget} the {budget_minutes}-minute budget of `{command}`) |",
        f"| load average (1 min) during the run | {load[0]:.1f} to {load[1]:.1f} (2 would be both cores busy) |",
        "",
        *preamble,
        "",
        "## Summary",
        "",
        "| benchmark | measure | Leda | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for section in sections:
        for r in section.results:
            ratio = "" if r.ratio is None else f"{r.ratio:.2f}×"
            met = "" if r.met is None else ("yes" if r.met else "**no**")
            lines.append(f"| {r.benchmark} | {r.measure} | {r.leda} | {r.baseline} | {ratio} | {r.target} | {met} |")
    for section in sections:
        lines += ["", f"## {section.title}", "", f"Took {section.seconds:.0f} s of the run.", ""]
        if section.method:
            lines += ["How it was measured:", "", *(f"- {m}" for m in section.method), ""]
        if section.results:
            notes = [r for r in section.results if r.note]
            lines += [f"- **{r.measure}**: {r.note}" for r in notes]
            if notes:
                lines.append("")
        if section.findings:
            lines += ["What it found:", "", *(f"- {f}" for f in section.findings), ""]
    return "\n".join(lines).rstrip() + "\n"


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
