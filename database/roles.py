"""The database roles Leda runs as, and the SQL that creates them (README: Security).

* ``leda_owner`` owns the schema: migrations run as it (``leda migrate``, ``LEDA_MIGRATION_DATABASE_URL``) and
  nothing else should.
* ``leda_runtime`` is what the worker, the API and the CLI connect as (``DATABASE_URL``). It may read and write what
  the application reads and writes, column by column (``database/privileges.sql``), and no more. It appends events
  only through ``leda_append_events`` and takes a person out of the directory only through
  ``leda_erase_participant``, both of which run with their owner's rights; it cannot UPDATE, DELETE, TRUNCATE or
  ALTER the event tables, nor disable their triggers, so a worker or an API that is taken over cannot rewrite the
  record.
* ``leda_readonly`` is for operators with psql: SELECT on every table, and nothing else.

Roles belong to the server, not to one database, so creating them takes an administrator (a superuser, or a role
with CREATEROLE): the embedded stack does it with its own superuser, compose's init script with the image's.
Passwords are sent as SCRAM-SHA-256 verifiers, as psql's ``\\password`` does, so the server never receives one in
clear, not even inside a statement that its log or its statistics might keep.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

__all__ = [
    "OWNER",
    "READONLY",
    "ROLES",
    "RUNTIME",
    "adopt_objects_sql",
    "create_roles_sql",
    "generate_password",
    "scram_verifier",
]

OWNER = "leda_owner"
RUNTIME = "leda_runtime"
READONLY = "leda_readonly"
ROLES = (OWNER, RUNTIME, READONLY)

# Serialises two processes provisioning the same server at once (two `leda` commands starting the embedded
# PostgreSQL): concurrent ALTER ROLE on one role fails with "tuple concurrently updated". 'LEDR' in ASCII; the
# event store's append lock and the migration lock use other keys of the same space.
PROVISION_LOCK_KEY = 1279607890

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SCRAM_ITERATIONS = 4096  # PostgreSQL's own default (scram_iterations)


def generate_password() -> str:
    """A random password of 192 bits, in hex so that it needs no escaping in a database URL or a shell."""
    return secrets.token_hex(24)


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = _SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802, RFC 7677), which it accepts in
    ``ALTER ROLE … PASSWORD`` in place of the password itself.

    PostgreSQL normalises a password with SASLprep first; for ASCII, which every generated password is, that
    changes nothing, so ASCII is all this accepts.
    """
    if not password.isascii():
        raise ValueError("scram_verifier takes ASCII passwords only (SASLprep is not implemented here)")
    salt = secrets.token_bytes(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"role name {name!r} must be lower-case letters, digits and underscores")
    return name


def create_roles_sql(passwords: Mapping[str, str]) -> str:
    """SQL that makes each role of ``passwords`` a plain login role with that password; run it as an administrator.

    Idempotent: a role that exists is given the password again and stripped of any attribute beyond LOGIN, so a
    role someone once made a superuser by hand is brought back to what Leda expects. Run it in one transaction
    (psql --single-transaction): it takes a transaction-level lock against a concurrent run.
    """
    statements = [f"SELECT pg_advisory_xact_lock({PROVISION_LOCK_KEY});"]
    for role, password in passwords.items():
        name = _identifier(role)
        statements.append(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN "
            f"CREATE ROLE {name}; END IF; END $$;"
        )
        # A verifier is base64 and '$:' only, so it needs no quoting beyond the literal's.
        statements.append(
            f"ALTER ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
            f"PASSWORD '{scram_verifier(password)}';"
        )
    return "\n".join(statements) + "\n"


def adopt_objects_sql(owner: str = OWNER) -> str:
    """SQL that hands every table, view, sequence and function in schema public to ``owner``; run it as a superuser
    in Leda's database.

    For a database created before Leda had roles, whose objects its superuser owns: REASSIGN OWNED cannot take
    objects from the bootstrap superuser, so each is altered by name. Sequences that belong to a column (identity,
    serial) follow their table and are left out.
    """
    name = _identifier(owner)
    return f"""
SELECT pg_advisory_xact_lock({PROVISION_LOCK_KEY});
DO $$
DECLARE
    v_object record;
BEGIN
    FOR v_object IN
        SELECT c.oid::regclass AS name,
               CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                              ELSE 'TABLE' END AS kind
          FROM pg_class AS c
          JOIN pg_namespace AS n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
           AND c.relowner <> '{name}'::regrole
           AND NOT (c.relkind = 'S' AND EXISTS (
                   SELECT FROM pg_depend AS d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO {name}', v_object.kind, v_object.name);
    END LOOP;
    FOR v_object IN
        SELECT p.oid::regprocedure AS name, CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END AS kind
          FROM pg_proc AS p
          JOIN pg_namespace AS n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND p.proowner <> '{name}'::regrole
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO {name}', v_object.kind, v_object.name);
    END LOOP;
END;
$$;
"""
