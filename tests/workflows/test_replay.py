"""Stored histories replay with today's workflow code: the proof that a change is safe for running pilots.

`tests/histories/<recording>/` holds every run of representative workflows, recorded from committed code by
`tests/histories/record.py` (`make histories`). A pilot runs for years, so workflows started by the code of
every recording may still be running: each must replay without a `NondeterminismError`. A change of workflow
logic therefore goes behind `workflow.patched(...)`; the last tests show that this net catches an unpatched
change and lets the patched one through (on the newest recording only: each of them replays its histories again,
and the first test already replays every recording). No server is needed: the Replayer runs the code against the
files.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

import workflows.municipality
from worker import WORKFLOWS
from workflows.municipality import MunicipalityWorkflow

HISTORIES = Path(__file__).resolve().parent.parent / "histories"


@dataclass(frozen=True)
class StoredHistory:
    recording: str
    recorded_at: datetime
    file: str
    workflow_type: str
    status: str
    history: WorkflowHistory

    @property
    def name(self) -> str:
        return f"{self.recording}/{self.file}"


@pytest.fixture(scope="module")
def stored() -> list[StoredHistory]:
    """Every history of every recording, as its manifest lists it."""
    histories = []
    for manifest_file in sorted(HISTORIES.glob("*/manifest.json")):
        manifest = json.loads(manifest_file.read_text())
        for entry in manifest["histories"]:
            text = (manifest_file.parent / entry["file"]).read_text()
            histories.append(
                StoredHistory(
                    recording=manifest_file.parent.name,
                    recorded_at=datetime.fromisoformat(manifest["recorded_at"]),
                    file=entry["file"],
                    workflow_type=entry["workflow_type"],
                    status=entry["status"],
                    history=WorkflowHistory.from_json(entry["workflow_id"], text),
                )
            )
    return histories


@pytest.fixture(scope="module")
def newest_municipality(stored: list[StoredHistory]) -> list[StoredHistory]:
    """The MunicipalityWorkflow histories of the most recent recording (by its manifest's `recorded_at`, since
    directory names of one day sort by commit hash).

    The tests of the net replay each change against these only: against every recording they would cost the suite
    a replay of all of them per change, growing with every recording, to show the same thing.
    """
    newest = max(stored, key=lambda h: h.recorded_at).recording
    return [h for h in stored if h.recording == newest and h.workflow_type == MunicipalityWorkflow.__name__]


async def replay_failures(workflow_classes: list[type], histories: list[StoredHistory]) -> dict[str, Exception]:
    """Replay `histories` with `workflow_classes`; each failing history's name and its failure."""
    replayer = Replayer(workflows=workflow_classes, data_converter=pydantic_data_converter)

    async def each() -> AsyncIterator[WorkflowHistory]:
        for stored_history in histories:
            yield stored_history.history

    results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
    names = {h.history.run_id: h.name for h in histories}
    return {names[run_id]: failure for run_id, failure in results.replay_failures.items()}


async def test_every_stored_history_replays_with_the_current_code(stored: list[StoredHistory]) -> None:
    assert stored, f"no stored histories under {HISTORIES}"
    failures = await replay_failures(WORKFLOWS, stored)
    assert failures == {}, "a change of workflow logic needs workflow.patched (README: Changing a running workflow)"


def test_the_stored_histories_cover_every_workflow_and_the_shapes_a_running_pilot_has(
    stored: list[StoredHistory],
) -> None:
    assert {h.workflow_type for h in stored} >= {w.__name__ for w in WORKFLOWS}
    municipality = {h.status for h in stored if h.workflow_type == MunicipalityWorkflow.__name__}
    assert municipality >= {"running", "continued_as_new", "completed"}


# --- The net holds: an unpatched change fails replay, the same change behind workflow.patched does not -----


@dataclass(frozen=True)
class LogicChange:
    """A change of workflow logic, made by inserting `code` into a copy of workflows/municipality.py."""

    patch_id: str
    anchor: str
    """A regular expression matching exactly one line of the source."""
    where: str
    """'body': at the start of the block the anchor line opens; 'before': just above the anchor line."""
    code: str
    fails: str
    """Which histories it must fail: 'every run', or only runs that 'continued_as_new'."""

    def applied(self, source: str, *, patched: bool) -> str:
        lines = re.findall(self.anchor, source, flags=re.MULTILINE)
        # Loud, not silently green: the anchor must still be in the workflow as this test knows it.
        assert len(lines) == 1, f"anchor {self.anchor!r} matches {len(lines)} lines of workflows/municipality.py"
        [line] = lines
        indent = re.match(r" *", line).group()  # type: ignore[union-attr]
        if self.where == "body":
            indent += "    "
        # Asked as the workflow asks its patches (README: Changing a running workflow), so a run that took every
        # patch of an earlier release does not take this one as well.
        code = f'if self._patched("{self.patch_id}"):\n    {self.code}' if patched else self.code
        block = "".join(f"{indent}{row}\n" for row in code.splitlines())
        if self.where == "body":
            return source.replace(f"{line}\n", f"{line}\n{block}", 1)
        return source.replace(f"{line}\n", f"{block}{line}\n", 1)


CHANGES = {
    # A new durable timer first thing in every run: every run of every pilot has other commands there.
    "a day's grace before each run begins": LogicChange(
        patch_id="replay-test-grace-day",
        anchor=r"^ *async def run\(self, start: StartPilot\).*:$",
        where="body",
        code="await workflow.sleep(24 * 60 * 60)",
        fails="every run",
    ),
    # A timer before continuing as new: only the runs that reached a year boundary took that path.
    "a pause before the next year's run": LogicChange(
        patch_id="replay-test-pause-before-next-year",
        anchor=r"^ *workflow\.continue_as_new\(.*$",
        where="before",
        code="await workflow.sleep(60)",
        fails="continued_as_new",
    ),
}


@pytest.fixture
def changed_workflow(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[LogicChange, bool, type]]:
    """A copy of MunicipalityWorkflow with a change applied, loaded as a module of its own.

    Same class name, so the same workflow type as the histories'. A module on disk, not one built in memory:
    the workflow sandbox imports the workflow's module again, by name, for every run.
    """
    change_name, patched = request.param
    change = CHANGES[change_name]
    source = Path(workflows.municipality.__file__).read_text()
    module_name = f"municipality_{change.patch_id.replace('-', '_')}_{'patched' if patched else 'unpatched'}"
    (tmp_path / f"{module_name}.py").write_text(change.applied(source, patched=patched))
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(module_name)
        changed = module.MunicipalityWorkflow
        assert changed is not MunicipalityWorkflow and changed.__name__ == MunicipalityWorkflow.__name__
        yield change, patched, changed
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(module_name, None)


def with_changed(changed: type) -> list[type]:
    return [changed if w is MunicipalityWorkflow else w for w in WORKFLOWS]


@pytest.mark.parametrize("changed_workflow", [(name, False) for name in CHANGES], indirect=True, ids=list(CHANGES))
async def test_a_change_of_workflow_logic_without_a_patch_fails_replay_of_the_stored_histories(
    newest_municipality: list[StoredHistory], changed_workflow: tuple[LogicChange, bool, type]
) -> None:
    change, _, changed = changed_workflow
    expected = {h.name for h in newest_municipality if change.fails == "every run" or h.status == change.fails}
    assert expected, f"no stored history takes the path this change is in ({change.fails})"

    failures = await replay_failures(with_changed(changed), newest_municipality)

    assert set(failures) == expected
    assert all(isinstance(f, workflow.NondeterminismError) for f in failures.values()), failures


@pytest.mark.parametrize("changed_workflow", [(name, True) for name in CHANGES], indirect=True, ids=list(CHANGES))
async def test_the_same_change_behind_workflow_patched_replays_the_stored_histories(
    newest_municipality: list[StoredHistory], changed_workflow: tuple[LogicChange, bool, type]
) -> None:
    _, _, changed = changed_workflow
    assert await replay_failures(with_changed(changed), newest_municipality) == {}
