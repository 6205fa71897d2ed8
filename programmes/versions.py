"""The registry of programme template versions: every version a pilot may have started with, by content hash.

A pilot names its template by key and SHA-256 (`domain.template.TemplateRef`) instead of carrying the whole template
in its workflow input: a worker then holds one copy of each version, however many pilots follow it, where it held
one per pilot (BENCHMARKS.md, memory). A version is stored as its canonical JSON in
`programmes/templates/versions/KEY/SHA256.json`, named by the hash of the file's own bytes; it is never changed or
removed, so a running pilot follows the template it started with whatever later happens to the TOML files.

A changed TOML file is a new version: `make templates` (`python -m programmes.versions`) registers the shipped
templates' current versions, and a pilot cannot be started on a version that is not registered (the unit tests fail
while one is not, so none ships unregistered).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from pydantic import ValidationError

from domain.template import ProgrammeTemplate, TemplateRef
from programmes import TEMPLATE_DIR, TemplateError, template, template_keys

VERSIONS_DIR = TEMPLATE_DIR / "versions"


class UnregisteredTemplate(TemplateError):
    """A version that is not in this release's registry: a pilot started by a newer release, or a TOML file changed
    without `make templates`."""


def canonical_json(programme: ProgrammeTemplate) -> bytes:
    """The version's bytes, as stored and hashed: pydantic's compact JSON of the validated template."""
    return programme.model_dump_json().encode()


def reference_of(programme: ProgrammeTemplate) -> TemplateRef:
    return TemplateRef(key=programme.key, sha256=hashlib.sha256(canonical_json(programme)).hexdigest())


def path_of(ref: TemplateRef) -> Path:
    # Both parts are checked by TemplateRef's patterns (a key of lower-case letters, digits and dashes; 64 hex
    # digits), so the path stays inside the registry.
    return VERSIONS_DIR / ref.key / f"{ref.sha256}.json"


@cache
def registered(ref: TemplateRef) -> ProgrammeTemplate:
    """The template version `ref` names: read once per process and shared by every pilot that follows it."""
    path = path_of(ref)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise UnregisteredTemplate(
            f"programme template {ref.key!r} version {ref.sha256[:12]}… is not in this release's registry "
            f"({VERSIONS_DIR.name}/{ref.key}/): the pilot was started by a release that had it"
        ) from None
    actual = hashlib.sha256(content).hexdigest()
    if actual != ref.sha256:
        raise TemplateError(
            f"{path.name}: the registered version was changed after registering (its SHA-256 is {actual})"
        )
    try:
        programme = ProgrammeTemplate.model_validate_json(content)
    except ValidationError as error:
        raise TemplateError(f"{path.name}: not a programme template: {error}") from None
    if programme.key != ref.key:
        raise TemplateError(f"{path.name}: registered under {ref.key!r} but its key is {programme.key!r}")
    return programme


def current(key: str) -> tuple[TemplateRef, ProgrammeTemplate]:
    """The shipped template `key` as it now reads, with the reference a new pilot is started with."""
    ref = registered_reference(template(key))
    if ref is None:
        raise UnregisteredTemplate(
            f"programme template {key!r} has changed since its last registered version: register it with "
            "`make templates` and ship the new version with the release"
        )
    return ref, registered(ref)


def registered_reference(programme: ProgrammeTemplate) -> TemplateRef | None:
    """The reference of `programme` if its version is registered, else None."""
    ref = reference_of(programme)
    return ref if path_of(ref).exists() else None


def register_shipped() -> list[Path]:
    """Register the current version of every shipped template that is not registered yet; returns the new files."""
    written = []
    for key in template_keys():
        programme = template(key)
        path = path_of(reference_of(programme))
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(canonical_json(programme))
            written.append(path)
    return written


def main() -> None:
    written = register_shipped()
    for path in written:
        print(f"registered {path.relative_to(TEMPLATE_DIR.parent.parent)}")
    if not written:
        print("every shipped template's current version is registered")


if __name__ == "__main__":
    main()
