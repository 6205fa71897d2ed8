"""What the README shows a new user works as shown."""

from __future__ import annotations

import re
from pathlib import Path

from directory import read_participants_csv
from domain.roles import Role

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_directory_csv_example_imports_as_the_table_says(tmp_path: Path) -> None:
    section = README.read_text(encoding="utf-8").split("### The directory CSV", 1)[1]
    [example] = re.findall(r"```csv\n(.*?)```", section.split("\n### ", 1)[0], flags=re.DOTALL)
    path = tmp_path / "participants.csv"
    path.write_text(example, encoding="utf-8")

    people = {p.participant_id: p for p in read_participants_csv(path)}

    assert set(people) == {"p-1861-forvaltningschef", "p-1861-rektor", "p-lfr-lead"}
    assert people["p-1861-rektor"].language == "en" and people["p-1861-rektor"].mail_delivery == "daily_digest"
    assert people["p-1861-rektor"].manager_id == "p-1861-forvaltningschef"
    assert people["p-lfr-lead"].role == Role.PROGRAMLEDARE and people["p-lfr-lead"].programme == "lfr-skola-2015"
