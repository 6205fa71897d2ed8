"""docker-compose.yml and the Dockerfile checked against the application, without Docker.

Each rule is a function that lists what is wrong with a parsed compose file. The real file must give no problem,
and each rule is shown to report a deliberately broken copy, so a rule that can never fail is caught too.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import AliasChoices, ValidationError

from cli.main import build_parser
from settings import Settings
from workflows.search_attributes import type_names

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"

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
    "migrate": {"DATABASE_URL": None, "LEDA_LOG_FORMAT": "json"},
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
    },
    "api": {
        "DATABASE_URL": None,
        "LEDA_TEMPORAL_ADDRESS": None,
        "LEDA_TEMPORAL_NAMESPACE": None,
        "LEDA_TASK_QUEUE": None,
        "LEDA_API_HOST": "0.0.0.0",
        "LEDA_API_PORT": None,
        "LEDA_LOG_FORMAT": "json",
    },
}
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


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment with compose's defaults filled in (the `${VAR:-default}` values)."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {name: interpolate("" if value is None else str(value)) for name, value in raw.items()}


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
    init_sql = (COMPOSE_FILE.parent / "deploy" / "postgres-init.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+)", init_sql, flags=re.IGNORECASE))
    problems = []
    for name, service in leda_services(compose).items():
        env = environment(service)
        temporal_host = host_port(env.get("LEDA_TEMPORAL_ADDRESS", ":0"))[0]
        if temporal_host not in services:
            problems.append(f"{name}: LEDA_TEMPORAL_ADDRESS names no service ({temporal_host})")
        namespace = env.get("LEDA_TEMPORAL_NAMESPACE", "default")
        if name != "migrate" and namespace != setup.get("NAMESPACE"):
            problems.append(f"{name}: namespace {namespace} is not the one temporal-setup creates")
        url = urlsplit(env.get("DATABASE_URL", ""))
        if url.hostname not in services:
            problems.append(f"{name}: DATABASE_URL names no service ({url.hostname})")
        if url.path.lstrip("/") not in created:
            problems.append(f"{name}: database {url.path.lstrip('/')} is not created by deploy/postgres-init.sql")
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
    problems += [f"deploy/postgres-init.sql: no database {db} for Temporal" for db in sorted(missing_databases)]
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
        ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
