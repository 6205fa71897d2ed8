"""Leda's pools hand a connection back without resetting its session (database/pool.py): that is only safe while
no code run on a pooled connection leaves session state behind. This keeps it so, by reading the code."""

from __future__ import annotations

import re
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
OWN_CODE = [
    path
    for path in REPOSITORY.rglob("*.py")
    if not {".venv", "tests", "node_modules", ".leda"} & set(path.relative_to(REPOSITORY).parts)
]
OWN_CONNECTION = {Path("database/migrate.py")}
"""Code that opens a connection of its own rather than taking one from a pool."""

SESSION_STATE = {
    "a session advisory lock (take pg_advisory_xact_lock)": re.compile(r"pg_advisory_(?:lock|lock_shared)\("),
    "a session setting (SET LOCAL, or a function's own SET)": re.compile(r"""(?:["';])\s*SET\s+(?!LOCAL\b)"""),
    "a setting made for the session (set_config with is_local false)": re.compile(r"set_config\([^)]*false\s*\)"),
    "LISTEN on a pooled connection": re.compile(r"""["';]\s*LISTEN\s|\.add_listener\("""),
}


def test_no_code_leaves_session_state_on_a_pooled_connection() -> None:
    assert len(OWN_CODE) > 50  # the scan reads the code, not an empty directory
    found = [
        f"{path.relative_to(REPOSITORY)}: {what}"
        for path in OWN_CODE
        if path.relative_to(REPOSITORY) not in OWN_CONNECTION
        for what, pattern in SESSION_STATE.items()
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert not found, found


def test_the_scan_finds_each_kind_of_session_state() -> None:
    samples = {
        "a session advisory lock (take pg_advisory_xact_lock)": 'await c.execute("SELECT pg_advisory_lock(1)")',
        "a session setting (SET LOCAL, or a function's own SET)": "await c.execute(\"SET work_mem = '1GB'\")",
        "a setting made for the session (set_config with is_local false)": "SELECT set_config('x', 'y', false)",
        "LISTEN on a pooled connection": "await c.execute('LISTEN events')",
    }
    for what, sample in samples.items():
        assert SESSION_STATE[what].search(sample), what
    assert not SESSION_STATE["a session setting (SET LOCAL, or a function's own SET)"].search(
        'await c.execute("SET LOCAL work_mem = \'1GB\'")\n"""\nUPDATE t\n   SET x = 1"""'
    )
