"""Every refusal code the product can answer with is specific, registered with its HTTP status, and in the README."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from api.problems import PROBLEM_CODES

ROOT = Path(__file__).resolve().parents[2]
RAISERS = {"PilotError": 1, "TaskRejected": 0, "Problem": 1}
"""The calls that carry a code, and the position of the code among their arguments."""


def codes_in_source() -> dict[str, list[str]]:
    """Each code given as a literal to a refusal anywhere in the product (tests and benchmarks aside)."""
    found: dict[str, list[str]] = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in (".venv", "tests", "bench", ".leda"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in RAISERS:
                continue
            position = RAISERS[name]
            arg = node.args[position] if len(node.args) > position else None
            arg = next((k.value for k in node.keywords if k.arg == "code"), arg)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.setdefault(arg.value, []).append(f"{relative}:{node.lineno}")
    return found


def test_every_code_raised_is_registered_with_its_status():
    found = codes_in_source()

    assert len(found) > 25, found  # the scan reads the product, not nothing
    unregistered = {code: where for code, where in found.items() if code not in PROBLEM_CODES}
    assert unregistered == {}


def test_the_edge_s_own_codes_are_registered_too():
    edge = (ROOT / "api" / "edge.py").read_text(encoding="utf-8")
    for code in re.findall(r'"code": "([a-z_]+)"', edge):
        assert code in PROBLEM_CODES


def test_every_registered_code_is_explained_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Problem codes", 1)[1].split("\n## ", 1)[0]
    listed = dict(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", section, flags=re.MULTILINE))

    assert listed == {code: str(status) for code, (status, _) in PROBLEM_CODES.items()}
