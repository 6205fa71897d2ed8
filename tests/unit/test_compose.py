"""docker-compose.yml and the Dockerfile checked against the application, without Docker.

Each rule is a function that lists what is wrong with a parsed compose file. The real file must give no problem,
and each rule is shown to report a deliberately broken copy, so a rule that can never fail is caught too.

Beside the rules, two outside judges: podman-compose, a Compose implementation that needs no container engine to
resolve a file (`--dry-run config`), and the Compose Specification's own JSON schema (compose-spec.json, in the
copy the check-jsonschema package ships). Docker's own `docker compose config` is used too where it is installed.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import jsonschema_rs
import pytest
import yaml
from pydantic import AliasChoices, ValidationError

from cli.main import build_parser
from database.roles import OWNER, READONLY, RUNTIME
from settings import Settings
from workflows.search_attributes import type_names

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
INIT_SCRIPT = ROOT / "deploy" / "postgres-init.sh"

COMPOSE_ENV = {
    "POSTGRES_PASSWORD": "superuser-secret",
    "TEMPORAL_DB_PASSWORD": "temporal-secret",
    "LEDA_DB_OWNER_PASSWORD": "owner-secret",
    "LEDA_DB_RUNTIME_PASSWORD": "runtime-secret",
    "LEDA_DB_READONLY_PASSWORD": "readonly-secret",
}
"""What a deployment must set (README: Production): the file has no default for any of them."""

REQUIRED_SERVICES = {
    "postgresql",
    "temporal-schema",
    "temporal",
    "temporal-setup",
    "temporal-ui",
    "mailpit",
    "migrate",
    "worker",
    "api",
}
TEMPORAL_IMAGES = {
    "temporal-schema": "temporalio/admin-tools",
    "temporal": "temporalio/server",
    "temporal-setup": "temporalio/admin-tools",
    "temporal-ui": "temporalio/ui",
}
# (service, dependency, condition): the start-up order a fresh `docker compose up` needs.
REQUIRED_ORDER = {
    ("temporal-schema", "postgresql", "service_healthy"),
    ("temporal", "temporal-schema", "service_completed_successfully"),
    ("temporal-setup", "temporal", "service_healthy"),
    ("temporal-ui", "temporal", "service_healthy"),
    ("migrate", "postgresql", "service_healthy"),
    ("worker", "migrate", "service_completed_successfully"),
    ("worker", "temporal-setup", "service_completed_successfully"),
    ("api", "migrate", "service_completed_successfully"),
    ("api", "temporal-setup", "service_completed_successfully"),
}
# What a production deployment of each Leda service must set, with the value when one is required.
REQUIRED_SETTINGS: dict[str, dict[str, str | None]] = {
    "migrate": {"LEDA_MIGRATION_DATABASE_URL": None, "LEDA_LOG_FORMAT": "json"},
    "worker": {
        "DATABASE_URL": None,
        "LEDA_TEMPORAL_ADDRESS": None,
        "LEDA_TEMPORAL_NAMESPACE": None,
        "LEDA_TASK_QUEUE": None,
        "LEDA_SMTP_HOST": None,
        "LEDA_SMTP_PORT": None,
        "LEDA_MAIL_FROM": None,
        "LEDA_KOLADA_BASE_URL": None,
        "LEDA_WEB_BASE_URL": None,
        "LEDA_METRICS_BIND_ADDRESS": None,
        "LEDA_LOG_FORMAT": "json",
        "LEDA_PRODUCTION": "true",
    },
    "api": {
        "DATABASE_URL": None,
        "LEDA_TEMPORAL_ADDRESS": None,
        "LEDA_TEMPORAL_NAMESPACE": None,
        "LEDA_TASK_QUEUE": None,
        "LEDA_API_HOST": "0.0.0.0",
        "LEDA_API_PORT": None,
        "LEDA_LOG_FORMAT": "json",
        "LEDA_PRODUCTION": "true",  # an http web address elsewhere than this machine is refused at start
    },
}
DATABASE_URLS = ("DATABASE_URL", "LEDA_MIGRATION_DATABASE_URL")
"""The settings that hold a database URL, and with it a password."""
# Which of them each Leda service connects with, and as which role (database/roles.py).
DATABASE_ROLES = {
    "migrate": ("LEDA_MIGRATION_DATABASE_URL", OWNER),
    "worker": ("DATABASE_URL", RUNTIME),
    "api": ("DATABASE_URL", RUNTIME),
}
# Variables that hold a secret, by name; the first kind is a password, which a deployment must always give.
_PASSWORD_NAME = re.compile(r"PASSWORD|_PWD$")
_SECRET_NAME = re.compile(r"PASSWORD|_PWD$|SECRET|TOKEN|API_KEY")
# Passwords a deployment may leave out, for a service that works without: the mail relay's (Mailpit needs none).
OPTIONAL_PASSWORDS = {"LEDA_SMTP_PASSWORD"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
LONG_RUNNING = {"always", "unless-stopped"}
# Temporal's images resolve a relative DYNAMIC_CONFIG_FILE_PATH from their working directory.
TEMPORAL_HOME = "/etc/temporal"
_PINNED_TAG = re.compile(r":v?\d+\.\d+(\.\d+)?(-[\w.]+)?$")


def load_compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


# ---- reading a compose file as compose does --------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<named>[A-Za-z_]\w*))"
)


def interpolate(text: str, env: Mapping[str, str] | None = None) -> str:
    """Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`."""
    env = env or {}

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        value, op = env.get(name), match["op"]
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op in (":-", "-") and unset:
            return match["arg"]
        if op in (":?", "?") and unset:
            raise ValueError(f"{name} must be set: {match['arg']}")
        return value or ""

    return _VARIABLE.sub(substitute, text)


def raw_environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as the file writes it, before interpolation."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {name: "" if value is None else str(value) for name, value in raw.items()}


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as a deployment that set only the required secrets (COMPOSE_ENV) gets it."""
    return {name: interpolate(value, COMPOSE_ENV) for name, value in raw_environment(service).items()}


def leda_services(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the image built from this repository's Dockerfile."""
    return {name: service for name, service in compose["services"].items() if "build" in service}


def settings_env_names() -> set[str]:
    """Every environment variable `Settings` reads: LEDA_ plus the field name, or the field's aliases."""
    prefix = Settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"{prefix}{name}")
    return {name.upper() for name in names}


def depends_on(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's dependencies and the condition it waits for (the short list form means service_started)."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


# ---- the rules ---------------------------------------------------------------------------------------------------


def missing_services(compose: Mapping[str, Any]) -> list[str]:
    return [f"no service {name}" for name in sorted(REQUIRED_SERVICES - set(compose["services"]))]


def image_problems(compose: Mapping[str, Any]) -> list[str]:
    problems = []
    for name, service in compose["services"].items():
        image = interpolate(service.get("image", ""))
        if not image:
            if "build" not in service:
                problems.append(f"{name}: neither an image nor a build")
            continue
        if not _PINNED_TAG.search(image):
            problems.append(f"{name}: image {image} is not pinned to a version")
        official = TEMPORAL_IMAGES.get(name)
        if official and image.rpartition(":")[0] != official:
            problems.append(f"{name}: image {image} is not the official {official}")
    return problems


def scaling_problems(compose: Mapping[str, Any]) -> list[str]:
    """What stops `docker compose up --scale worker=3`: a fixed host port or a fixed container name."""
    worker = compose["services"]["worker"]
    return [
        f"worker: {key} is set, so only one replica can start" for key in ("ports", "container_name") if key in worker
    ]


def unknown_settings(compose: Mapping[str, Any]) -> list[str]:
    """A variable passed to a Leda service that `Settings` does not read is a typo or a leftover."""
    known = settings_env_names()
    return [
        f"{name}: {variable} is not a setting Leda reads"
        for name, service in leda_services(compose).items()
        for variable in environment(service)
        if variable.upper() not in known
    ]


def invalid_settings(compose: Mapping[str, Any]) -> list[str]:
    """Each Leda service's environment, with compose's defaults, must validate as `Settings`."""
    problems = []
    for name, service in leda_services(compose).items():
        with mock.patch.dict(os.environ, environment(service), clear=True):
            try:
                Settings()
            except ValidationError as error:
                problems += [f"{name}: {e['loc'][0]}: {e['msg']}" for e in error.errors()]
    return problems


def missing_production_settings(compose: Mapping[str, Any]) -> list[str]:
    problems = []
    services = compose["services"]
    for name, required in REQUIRED_SETTINGS.items():
        env = environment(services.get(name, {}))
        for variable, value in required.items():
            if not env.get(variable):
                problems.append(f"{name}: {variable} is not set")
            elif value is not None and env[variable] != value:
                problems.append(f"{name}: {variable} is {env[variable]!r}, not {value!r}")
    return problems


def wiring_problems(compose: Mapping[str, Any]) -> list[str]:
    """The Leda services reach the compose stack's own Temporal, namespace, database and ports."""
    services = compose["services"]
    setup = environment(services["temporal-setup"])
    ui = environment(services["temporal-ui"])
    created = set(re.findall(r"CREATE DATABASE (\w+)", INIT_SCRIPT.read_text(), flags=re.IGNORECASE))
    problems = []
    for name, service in leda_services(compose).items():
        env = environment(service)
        temporal_host = host_port(env.get("LEDA_TEMPORAL_ADDRESS", ":0"))[0]
        if name != "migrate" and temporal_host not in services:
            problems.append(f"{name}: LEDA_TEMPORAL_ADDRESS names no service ({temporal_host})")
        namespace = env.get("LEDA_TEMPORAL_NAMESPACE", "default")
        if name != "migrate" and namespace != setup.get("NAMESPACE"):
            problems.append(f"{name}: namespace {namespace} is not the one temporal-setup creates")
        for variable in DATABASE_URLS:
            if variable not in env:
                continue
            url = urlsplit(env[variable])
            if url.hostname not in services:
                problems.append(f"{name}: {variable} names no service ({url.hostname})")
            if url.path.lstrip("/") not in created:
                problems.append(f"{name}: database {url.path.lstrip('/')} is not created by deploy/postgres-init.sh")
    if ui.get("TEMPORAL_DEFAULT_NAMESPACE") != setup.get("NAMESPACE"):
        problems.append("temporal-ui: its default namespace is not Leda's")
    worker_metrics = environment(services["worker"]).get("LEDA_METRICS_BIND_ADDRESS")
    if worker_metrics:
        host, port = host_port(worker_metrics)
        if host != "0.0.0.0":
            problems.append(f"worker: metrics bound to {host}, which other containers cannot reach")
        if str(port) not in {str(p) for p in services["worker"].get("expose", [])}:
            problems.append(f"worker: metrics port {port} is not exposed on the compose network")
    api_port = environment(services["api"]).get("LEDA_API_PORT")
    if not any(str(p).endswith(f":{api_port}") for p in services["api"].get("ports", [])):
        problems.append(f"api: port {api_port} is not published")
    missing_databases = {"temporal", "temporal_visibility"} - created
    problems += [f"deploy/postgres-init.sh: no database {db} for Temporal" for db in sorted(missing_databases)]
    return problems


def temporal_problems(compose: Mapping[str, Any]) -> list[str]:
    """The Temporal server and its schema job use the compose PostgreSQL, and its dynamic config is mounted."""
    services = compose["services"]
    problems = []
    for name in ("temporal-schema", "temporal"):
        env = environment(services[name])
        if env.get("DB") != "postgres12":
            problems.append(f"{name}: DB is {env.get('DB')!r}, not postgres12")
        if env.get("POSTGRES_SEEDS") not in services:
            problems.append(f"{name}: POSTGRES_SEEDS names no service ({env.get('POSTGRES_SEEDS')})")
    server = environment(services["temporal"])
    path = server.get("DYNAMIC_CONFIG_FILE_PATH", "")
    target = path if path.startswith("/") else f"{TEMPORAL_HOME}/{path}"
    mounts = dict(reversed(interpolate(v).split(":")[:2]) for v in services["temporal"].get("volumes", []))
    if target not in mounts:
        problems.append(f"temporal: dynamic config {target} is not mounted")
    else:
        source = COMPOSE_FILE.parent / mounts[target]
        config = yaml.safe_load(source.read_text()) if source.is_file() else None
        if not isinstance(config, dict) or not all(isinstance(v, list) for v in config.values()):
            problems.append(f"temporal: {mounts[target]} is not a dynamic config file (key: [{{value: …}}])")
    return problems


def _strings(node: object) -> Iterator[str]:
    """Every string of a parsed compose file, keys and values, at any depth."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _variables(text: str) -> set[str]:
    """The names of the variables `text` interpolates (not `$$` escapes, which the container's shell expands)."""
    return {match["braced"] or match["named"] for match in _VARIABLE.finditer(text) if not match["escaped"]}


def _url_password(url: str) -> str:
    """The password of a URL as the file writes it; urlsplit would stop at the '?' of a `${VAR:?message}`."""
    match = re.match(r"^[a-z][a-z0-9+.-]*://[^:@/]*:(?P<password>.*)@[^@]*$", url)
    return match["password"] if match else ""


def secret_problems(compose: Mapping[str, Any]) -> list[str]:
    """No secret has a default in the file: a password must be required (`${VAR:?message}`), so that a deployment
    that forgot one refuses to start instead of running with a password anyone can read here; another secret (an
    API key) may default to nothing, never to a value. A password setting names a variable, never a literal."""
    problems = set()
    for text in _strings(compose):
        for match in _VARIABLE.finditer(text):
            name = match["braced"] or match["named"]
            if match["escaped"] or not _SECRET_NAME.search(name):
                continue
            if _PASSWORD_NAME.search(name) and match["op"] != ":?" and name not in OPTIONAL_PASSWORDS:
                problems.add(f"{name}: a password must be required, as ${{{name}:?…}}, not {match[0]}")
            elif match["op"] in (":-", "-") and match["arg"]:
                problems.add(f"{name}: a secret with a default value: {match[0]}")
    for name, service in compose["services"].items():
        for variable, value in raw_environment(service).items():
            if variable in DATABASE_URLS:
                secret = _url_password(value)
            elif _PASSWORD_NAME.search(variable):
                secret = value
            else:
                continue
            if not _variables(secret):
                problems.add(f"{name}: {variable} holds a password written into the file")
    return sorted(problems)


def database_role_problems(compose: Mapping[str, Any]) -> list[str]:
    """Temporal and Leda have credentials of their own; the migrate job alone is the schema's owner, the worker and
    the API are the runtime role; the init script creates each of those roles, the operators' read-only one, and
    gives each database to its owner."""
    services = compose["services"]
    init = INIT_SCRIPT.read_text()
    created_roles = set(re.findall(r"CREATE ROLE (\w+)", init))
    owners = dict(re.findall(r"CREATE DATABASE (\w+) OWNER (\w+)", init))
    problems = []
    leda_users: set[str] = set()
    leda_passwords: set[str] = set()
    for name, (variable, role) in DATABASE_ROLES.items():
        raw = raw_environment(services.get(name, {}))
        if variable not in raw:
            problems.append(f"{name}: connects without {variable}")
            continue
        url = urlsplit(interpolate(raw[variable], COMPOSE_ENV))
        if url.username != role:
            problems.append(f"{name}: {variable} logs in as {url.username}, not {role}")
        if url.username not in created_roles:
            problems.append(f"{name}: role {url.username} is not created by deploy/postgres-init.sh")
        if owners.get(url.path.lstrip("/")) != OWNER:
            problems.append(f"deploy/postgres-init.sh: database {url.path.lstrip('/')} is not owned by {OWNER}")
        leda_users.add(url.username or "")
        leda_passwords |= _variables(raw[variable])
    owner_secrets = _variables(raw_environment(services.get("migrate", {})).get("LEDA_MIGRATION_DATABASE_URL", ""))
    for name, service in leda_services(compose).items():
        raw = raw_environment(service)
        if name != "migrate" and (
            "LEDA_MIGRATION_DATABASE_URL" in raw
            or owner_secrets & {v for value in raw.values() for v in _variables(value)}
        ):
            problems.append(f"{name}: has the schema owner's password, which only the migrate job needs")
    for name in ("temporal-schema", "temporal"):
        raw = raw_environment(services[name])
        user = interpolate(raw.get("POSTGRES_USER", ""), COMPOSE_ENV)
        if user in leda_users | {OWNER, RUNTIME, READONLY}:
            problems.append(f"{name}: Temporal logs in as Leda's role {user}")
        shared = (_variables(raw.get("POSTGRES_PWD", "")) | _variables(raw.get("SQL_PASSWORD", ""))) & leda_passwords
        if shared:
            problems.append(f"{name}: Temporal logs in with Leda's password ({', '.join(sorted(shared))})")
        if user not in created_roles:
            problems.append(f"{name}: Temporal's role {user} is not created by deploy/postgres-init.sh")
        for database in ("temporal", "temporal_visibility"):
            if owners.get(database) != user:
                problems.append(f"deploy/postgres-init.sh: {database} is not owned by Temporal's role {user}")
    if READONLY not in created_roles:
        problems.append(f"deploy/postgres-init.sh: no read-only role {READONLY} for operators")
    return sorted(set(problems))


def publish_problems(compose: Mapping[str, Any]) -> list[str]:
    """Every published port listens on this host only unless the operator says otherwise: nothing here speaks TLS,
    and Temporal's frontend asks for no credentials at all. The API's address is a variable (LEDA_API_PUBLISH)."""
    problems = []
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            published = interpolate(str(port), COMPOSE_ENV)
            if not published.startswith("127.0.0.1:"):
                problems.append(f"{name}: port {published} is published on every interface")
    if not any("LEDA_API_PUBLISH" in _variables(str(port)) for port in compose["services"]["api"].get("ports", [])):
        problems.append("api: its published address cannot be set with LEDA_API_PUBLISH")
    return problems


def compose_search_attributes(compose: Mapping[str, Any]) -> dict[str, str]:
    pairs = environment(compose["services"]["temporal-setup"]).get("SEARCH_ATTRIBUTES", "").split()
    return dict(pair.split("=", 1) for pair in pairs)


def search_attribute_problems(compose: Mapping[str, Any]) -> list[str]:
    """temporal-setup registers exactly Leda's search attributes, each with its type."""
    registered, wanted = compose_search_attributes(compose), type_names()
    problems = [
        f"temporal-setup: {name} is registered as {registered.get(name)}, not {kind}"
        for name, kind in wanted.items()
        if registered.get(name) != kind
    ]
    problems += [f"temporal-setup: {name} is not one of Leda's" for name in registered if name not in wanted]
    if problems:
        expected = " ".join(f"{name}={kind}" for name, kind in wanted.items())
        problems.append(f"SEARCH_ATTRIBUTES should be: {expected}")
    command = " ".join(compose["services"]["temporal-setup"].get("command", []))
    if "$$SEARCH_ATTRIBUTES" not in command:
        problems.append("temporal-setup: the command does not register $SEARCH_ATTRIBUTES")
    return problems


def dependency_problems(compose: Mapping[str, Any]) -> list[str]:
    services = compose["services"]
    problems = []
    for name, service in services.items():
        for dependency, condition in depends_on(service).items():
            target = services.get(dependency)
            if target is None:
                problems.append(f"{name}: depends on {dependency}, which is no service")
            elif condition not in CONDITIONS:
                problems.append(f"{name}: unknown condition {condition} on {dependency}")
            elif condition == "service_healthy" and "healthcheck" not in target:
                problems.append(f"{name}: waits for {dependency} to be healthy, which has no healthcheck")
            elif condition == "service_completed_successfully" and target.get("restart") in LONG_RUNNING:
                problems.append(f"{name}: waits for {dependency} to complete, which restarts instead")
    for name, dependency, condition in sorted(REQUIRED_ORDER):
        actual = depends_on(services.get(name, {})).get(dependency)
        if actual != condition:
            problems.append(f"{name}: should wait for {dependency} ({condition}), waits for {actual}")
    return problems


def command_problems(compose: Mapping[str, Any]) -> list[str]:
    """Each Leda service's command is a `leda` command (the image's entrypoint)."""
    parser = build_parser()
    problems = []
    for name, service in leda_services(compose).items():
        command = service.get("command")
        if not isinstance(command, list):
            problems.append(f"{name}: command {command!r} should be a list of arguments to leda")
            continue
        try:
            parser.parse_args(command)
        except SystemExit:
            problems.append(f"{name}: `leda {' '.join(command)}` is not a leda command")
    return problems


# ---- the Compose Specification's schema --------------------------------------------------------------------------

# compose-spec.json as the check-jsonschema package vendors it (its builtin "vendor.compose-spec"): the schema that
# the Compose Specification publishes, and that Docker Compose validates every file against.
_COMPOSE_SPEC = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"


def interpolated(node: Any) -> Any:
    """A parsed compose file with every string interpolated as a deployment with COMPOSE_ENV set gets it."""
    if isinstance(node, str):
        return interpolate(node, COMPOSE_ENV)
    if isinstance(node, Mapping):
        return {interpolated(key): interpolated(value) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolated(item) for item in node]
    return node


def spec_problems(compose: Mapping[str, Any]) -> list[str]:
    """What the Compose Specification's JSON schema refuses in the file, as interpolated."""
    validator = jsonschema_rs.validator_for(json.loads(_COMPOSE_SPEC.read_text()))
    return [
        f"{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in validator.iter_errors(interpolated(compose))
    ]


RULES: list[Callable[[Mapping[str, Any]], list[str]]] = [
    missing_services,
    image_problems,
    scaling_problems,
    unknown_settings,
    invalid_settings,
    missing_production_settings,
    wiring_problems,
    temporal_problems,
    search_attribute_problems,
    dependency_problems,
    command_problems,
    secret_problems,
    database_role_problems,
    publish_problems,
    spec_problems,
]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_compose_file_follows_the_rule(rule: Callable[[Mapping[str, Any]], list[str]]) -> None:
    assert rule(load_compose()) == []


# ---- each rule reports a broken copy -------------------------------------------------------------------------------


def _set_env(service: str, name: str, value: str) -> Callable[[dict[str, Any]], None]:
    def mutate(compose: dict[str, Any]) -> None:
        compose["services"][service]["environment"] = {**compose["services"][service]["environment"], name: value}

    return mutate


def _drop_env(service: str, name: str) -> Callable[[dict[str, Any]], None]:
    def mutate(compose: dict[str, Any]) -> None:
        env = dict(compose["services"][service]["environment"])
        del env[name]
        compose["services"][service]["environment"] = env

    return mutate


def _set(service: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(compose: dict[str, Any]) -> None:
        compose["services"][service][key] = value

    return mutate


def _drop_service(service: str) -> Callable[[dict[str, Any]], None]:
    def mutate(compose: dict[str, Any]) -> None:
        del compose["services"][service]

    return mutate


def _without_state_attribute(compose: dict[str, Any]) -> None:
    _set_env("temporal-setup", "SEARCH_ATTRIBUTES", "LedaProgramme=Keyword LedaMunicipality=Keyword")(compose)


BREAKAGES = {
    "a required service is missing": (_drop_service("mailpit"), missing_services, "no service mailpit"),
    "a floating image tag": (_set("temporal", "image", "temporalio/server:latest"), image_problems, "not pinned"),
    "a Temporal image that is not the official one": (
        _set("temporal-ui", "image", "example/temporal-ui:2.49.1"),
        image_problems,
        "not the official temporalio/ui",
    ),
    "a worker with a host port": (_set("worker", "ports", ["9464:9464"]), scaling_problems, "worker: ports"),
    "a worker with a container name": (
        _set("worker", "container_name", "leda-worker"),
        scaling_problems,
        "container_name",
    ),
    "a setting Leda does not read": (
        _set_env("worker", "LEDA_SMTP_HOTS", "mailpit"),
        unknown_settings,
        "worker: LEDA_SMTP_HOTS is not a setting",
    ),
    "a misspelt database url": (
        _set_env("api", "DATABSE_URL", "postgresql://x@postgresql/leda"),
        unknown_settings,
        "DATABSE_URL",
    ),
    "a setting with an invalid value": (
        _set_env("worker", "LEDA_SMTP_SECURITY", "ssl"),
        invalid_settings,
        "worker: smtp_security",
    ),
    "console logs in production": (
        _set_env("worker", "LEDA_LOG_FORMAT", "console"),
        missing_production_settings,
        "LEDA_LOG_FORMAT is 'console'",
    ),
    "a worker without metrics": (
        _drop_env("worker", "LEDA_METRICS_BIND_ADDRESS"),
        missing_production_settings,
        "worker: LEDA_METRICS_BIND_ADDRESS is not set",
    ),
    "metrics not exposed on the compose network": (_set("worker", "expose", []), wiring_problems, "not exposed"),
    "the api in another namespace": (
        _set_env("api", "LEDA_TEMPORAL_NAMESPACE", "other"),
        wiring_problems,
        "api: namespace other",
    ),
    "a database the init script does not create": (
        _set_env("worker", "DATABASE_URL", "postgresql://temporal:temporal@postgresql:5432/elsewhere"),
        wiring_problems,
        "database elsewhere",
    ),
    "Temporal on another database plugin": (
        _set_env("temporal", "DB", "mysql8"),
        temporal_problems,
        "temporal: DB is 'mysql8'",
    ),
    "a dynamic config that is not mounted": (
        _set_env("temporal", "DYNAMIC_CONFIG_FILE_PATH", "config/dynamicconfig/other.yaml"),
        temporal_problems,
        "is not mounted",
    ),
    "a search attribute left out": (
        _without_state_attribute,
        search_attribute_problems,
        "LedaState is registered as None, not Keyword",
    ),
    "a search attribute with the wrong type": (
        _set_env(
            "temporal-setup",
            "SEARCH_ATTRIBUTES",
            " ".join(f"{n}={'Keyword' if n == 'LedaOverdueCount' else t}" for n, t in type_names().items()),
        ),
        search_attribute_problems,
        "LedaOverdueCount is registered as Keyword, not Int",
    ),
    "a dependency on no service": (
        _set("api", "depends_on", {"migrat": {"condition": "service_completed_successfully"}}),
        dependency_problems,
        "api: depends on migrat, which is no service",
    ),
    "a worker that does not wait for the search attributes": (
        _set("worker", "depends_on", {"migrate": {"condition": "service_completed_successfully"}}),
        dependency_problems,
        "worker: should wait for temporal-setup",
    ),
    "waiting for a service without healthcheck to be healthy": (
        _set("api", "depends_on", {"mailpit": {"condition": "service_healthy"}}),
        dependency_problems,
        "mailpit to be healthy, which has no healthcheck",
    ),
    "a command the CLI lacks": (_set("worker", "command", ["wroker"]), command_problems, "leda wroker"),
    "a deployment that is not production": (
        _set_env("api", "LEDA_PRODUCTION", "false"),
        missing_production_settings,
        "api: LEDA_PRODUCTION is 'false', not 'true'",
    ),
    "a default password": (
        _set_env("postgresql", "POSTGRES_PASSWORD", "${POSTGRES_PASSWORD:-postgres}"),
        secret_problems,
        "POSTGRES_PASSWORD: a password must be required",
    ),
    "a password that may be left empty": (
        _set_env("temporal", "POSTGRES_PWD", "${TEMPORAL_DB_PASSWORD}"),
        secret_problems,
        "TEMPORAL_DB_PASSWORD: a password must be required",
    ),
    "a password written into the file": (
        _set_env("worker", "DATABASE_URL", "postgresql://leda_runtime:hunter2@postgresql:5432/leda"),
        secret_problems,
        "worker: DATABASE_URL holds a password written into the file",
    ),
    "a secret with a default value": (
        _set_env("worker", "LEDA_TEMPORAL_API_KEY", "${LEDA_TEMPORAL_API_KEY:-changeme}"),
        secret_problems,
        "LEDA_TEMPORAL_API_KEY: a secret with a default value",
    ),
    "Temporal logging in as Leda": (
        _set_env("temporal", "POSTGRES_USER", RUNTIME),
        database_role_problems,
        f"temporal: Temporal logs in as Leda's role {RUNTIME}",
    ),
    "Temporal with Leda's password": (
        _set_env("temporal-schema", "SQL_PASSWORD", "${LEDA_DB_RUNTIME_PASSWORD:?x}"),
        database_role_problems,
        "Temporal logs in with Leda's password (LEDA_DB_RUNTIME_PASSWORD)",
    ),
    "migrations as the runtime role": (
        _set_env(
            "migrate",
            "LEDA_MIGRATION_DATABASE_URL",
            "postgresql://leda_runtime:${LEDA_DB_RUNTIME_PASSWORD:?x}@postgresql:5432/leda",
        ),
        database_role_problems,
        f"migrate: LEDA_MIGRATION_DATABASE_URL logs in as {RUNTIME}, not {OWNER}",
    ),
    "a worker as the owner": (
        _set_env("worker", "DATABASE_URL", "postgresql://leda_owner:${LEDA_DB_OWNER_PASSWORD:?x}@postgresql:5432/leda"),
        database_role_problems,
        "worker: has the schema owner's password",
    ),
    "a role the init script does not create": (
        _set_env("api", "DATABASE_URL", "postgresql://leda_app:${LEDA_DB_RUNTIME_PASSWORD:?x}@postgresql:5432/leda"),
        database_role_problems,
        "api: role leda_app is not created",
    ),
    "the API on every interface": (_set("api", "ports", ["8000:8000"]), publish_problems, "api: port 8000:8000"),
    "the Temporal UI on every interface": (
        _set("temporal-ui", "ports", ["8080:8080"]),
        publish_problems,
        "temporal-ui: port 8080:8080",
    ),
    "a key the Compose Specification does not have": (
        _set("api", "enviroment", {"LEDA_API_PORT": "8000"}),
        spec_problems,
        "'enviroment' was unexpected",
    ),
    "a condition the Compose Specification does not have": (
        _set("api", "depends_on", {"migrate": {"condition": "service_finished"}}),
        spec_problems,
        "services/api/depends_on",
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=str)
def test_a_broken_compose_file_is_reported(breakage: str) -> None:
    mutate, rule, expected = BREAKAGES[breakage]
    compose = copy.deepcopy(load_compose())
    assert rule(compose) == []
    mutate(compose)
    problems = rule(compose)
    assert any(expected in problem for problem in problems), problems


def test_interpolation_follows_compose() -> None:
    assert interpolate("$${pair%%=*} ${A:-x} ${B-y} ${C}", {"B": ""}) == "${pair%%=*} x  "
    with pytest.raises(ValueError, match="D must be set"):
        interpolate("${D:?give D}")


# ---- the image -----------------------------------------------------------------------------------------------------


def test_the_image_holds_every_package_the_project_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = project["tool"]["setuptools"]
    packages = {pattern.rstrip("*") for pattern in setuptools["packages"]["find"]["include"]}
    modules = {f"{module}.py" for module in setuptools["py-modules"]}
    copied = {
        source
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
    }
    assert packages - copied == set()
    assert modules - copied == set()


def test_the_image_runs_the_leda_cli() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["leda"]' in dockerfile
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "leda" in project["project"]["scripts"]
    assert {service.get("build") for service in leda_services(load_compose()).values()} == {"."}


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="the docker compose plugin is not installed",
)
def test_docker_compose_accepts_the_file() -> None:
    """Compose's own schema check; it needs the client and its compose plugin, not a running engine."""
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={**os.environ, **COMPOSE_ENV},
    )
    assert result.returncode == 0, result.stderr


# ---- a Compose implementation resolves the file -------------------------------------------------------------------


def resolve_with_compose(env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """podman-compose's `config` on the file, with `env` as the only environment: its interpolation, `.env` handling
    and merging of `<<` keys, without a container engine (--dry-run)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "podman_compose",
            "--dry-run",
            "--env-file",
            os.devnull,
            "-f",
            str(COMPOSE_FILE),
            "config",
        ],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), **env},
        cwd=ROOT,
        timeout=120,
    )


def test_compose_resolves_the_file_to_what_the_rules_expect() -> None:
    result = resolve_with_compose(COMPOSE_ENV)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)

    assert spec_problems(resolved) == []
    assert resolved["services"]["api"]["ports"] == ["127.0.0.1:8000:8000"]
    for name, (variable, role) in DATABASE_ROLES.items():
        url = urlsplit(resolved["services"][name]["environment"][variable])
        assert (url.username, url.password) == (
            role,
            COMPOSE_ENV[f"LEDA_DB_{role.removeprefix('leda_').upper()}_PASSWORD"],
        )
    assert resolved["services"]["temporal"]["environment"]["POSTGRES_USER"] == "temporal"
    assert resolved["services"]["temporal"]["environment"]["POSTGRES_PWD"] == COMPOSE_ENV["TEMPORAL_DB_PASSWORD"]


def test_compose_publishes_the_api_where_the_operator_says() -> None:
    result = resolve_with_compose({**COMPOSE_ENV, "LEDA_API_PUBLISH": "0.0.0.0:8080"})
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["services"]["api"]["ports"] == ["0.0.0.0:8080:8000"]


@pytest.mark.parametrize("missing", sorted(COMPOSE_ENV))
def test_compose_refuses_the_file_without_each_password(missing: str) -> None:
    result = resolve_with_compose({name: value for name, value in COMPOSE_ENV.items() if name != missing})
    assert result.returncode != 0
    assert f"required variable {missing} is missing a value" in result.stderr
