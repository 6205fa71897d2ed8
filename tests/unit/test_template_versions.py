"""The registry of template versions (programmes/versions.py): what a pilot names instead of carrying its template."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.roles import Role
from domain.template import TemplateRef
from programmes import template, template_keys, versions
from programmes.versions import (
    VERSIONS_DIR,
    TemplateError,
    UnregisteredTemplate,
    canonical_json,
    current,
    reference_of,
    registered,
)
from workflows.messages import StartPilot


@pytest.mark.parametrize("key", template_keys())
def test_every_shipped_template_is_registered_as_it_now_reads(key: str) -> None:
    # Fails after a TOML file changed until `make templates` registers the new version.
    ref, programme = current(key)
    assert programme == template(key)
    assert ref == reference_of(template(key))


def test_every_registered_version_is_named_by_the_hash_of_its_bytes_under_its_key() -> None:
    files = sorted(VERSIONS_DIR.glob("*/*.json"))
    assert {path.parent.name for path in files} >= set(template_keys())
    for path in files:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem, path
        assert registered(TemplateRef(key=path.parent.name, sha256=path.stem)).key == path.parent.name


def test_a_version_is_read_once_and_shared_by_every_pilot_that_names_it() -> None:
    ref, _ = current("lfr-skola")
    assert registered(TemplateRef(key=ref.key, sha256=ref.sha256)) is registered(ref)


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A registry of the test's own, empty."""
    monkeypatch.setattr(versions, "VERSIONS_DIR", tmp_path)
    registered.cache_clear()
    yield tmp_path
    registered.cache_clear()


def _register(directory: Path, content: bytes, key: str = "lfr-skola") -> TemplateRef:
    ref = TemplateRef(key=key, sha256=hashlib.sha256(content).hexdigest())
    (directory / key).mkdir(exist_ok=True)
    (directory / key / f"{ref.sha256}.json").write_bytes(content)
    return ref


def test_a_running_pilot_keeps_the_version_it_started_with_after_the_template_changes(registry: Path) -> None:
    first = template("lfr-skola")
    started_with = _register(registry, canonical_json(first))
    changed = first.model_copy(update={"title_en": "Lead for Results, second edition"})
    later = _register(registry, canonical_json(changed))

    assert later != started_with
    assert registered(started_with) == first
    assert registered(later).title_en == "Lead for Results, second edition"


def test_a_changed_template_cannot_start_a_pilot_until_its_version_is_registered(registry: Path) -> None:
    with pytest.raises(UnregisteredTemplate, match="make templates"):
        current("lfr-skola")
    assert versions.register_shipped()  # what `make templates` does
    ref, programme = current("lfr-skola")
    assert programme == template("lfr-skola") and ref == reference_of(programme)
    assert versions.register_shipped() == []  # registering again writes nothing


def test_a_version_not_in_the_registry_is_refused_with_its_key(registry: Path) -> None:
    with pytest.raises(UnregisteredTemplate, match="'lfr-skola' version 0{12}"):
        registered(TemplateRef(key="lfr-skola", sha256="0" * 64))


def test_a_registered_version_changed_after_registering_is_refused(registry: Path) -> None:
    ref = _register(registry, canonical_json(template("lfr-skola")))
    path = registry / ref.key / f"{ref.sha256}.json"
    path.write_bytes(path.read_bytes().replace(b"Leda", b"Lede", 1))
    with pytest.raises(TemplateError, match="changed after registering"):
        registered(ref)


def test_a_version_filed_under_another_key_is_refused(registry: Path) -> None:
    ref = _register(registry, canonical_json(template("demo")), key="lfr-skola")
    with pytest.raises(TemplateError, match="registered under 'lfr-skola' but its key is 'demo'"):
        registered(ref)


@pytest.mark.parametrize("key", ["../lfr-skola", "LFR", "lfr/skola", ""])
def test_a_reference_cannot_name_a_file_outside_the_registry(key: str) -> None:
    with pytest.raises(ValidationError, match="key"):
        TemplateRef(key=key, sha256="0" * 64)
    with pytest.raises(ValidationError, match="sha256"):
        TemplateRef(key="lfr-skola", sha256="../" + "0" * 61)


def test_a_pilot_names_its_template_or_carries_it_whole_but_not_both_nor_neither() -> None:
    common = {
        "programme": "lfr-2026",
        "kommunkod": "1861",
        "municipality_name": "Hallsberg",
        "deciding_organ": "Bildningsnämnden",
        "participants": {Role.PROGRAMLEDARE: ["p-1"]},
        "kpi_years": [2024],
    }
    ref = reference_of(template("lfr-skola"))
    assert StartPilot(**common, template_ref=ref).template_key == "lfr-skola"
    assert StartPilot(**common, template=template("lfr-skola")).template_key == "lfr-skola"
    for wrong in ({}, {"template_ref": ref, "template": template("lfr-skola")}):
        with pytest.raises(ValidationError, match="template_ref"):
            StartPilot(**common, **wrong)
