#!/bin/sh
# Roles and databases of the compose stack's PostgreSQL (docker-compose.yml mounts this into the image's
# /docker-entrypoint-initdb.d, which runs it once, when the data directory is new; README: Production).
#
# Temporal and Leda get separate credentials:
#   temporal       owns Temporal's two databases (its schema job installs the trusted extension btree_gin there);
#   leda_owner     owns Leda's database and schema: `leda migrate` (the migrate job) alone connects as it;
#   leda_runtime   the worker and the API: what database/privileges.sql grants, no more;
#   leda_readonly  operators with psql: SELECT only.
# No role reaches another's databases: CONNECT is granted by name, not to PUBLIC. The passwords come from the
# service's environment, which compose refuses to start without; psql reads them with \getenv, so they appear on no
# command line, and sends them to the server as literals quoted by psql (:'name').
set -eu

psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER" --dbname postgres <<'SQL'
\getenv temporal_password TEMPORAL_DB_PASSWORD
\getenv owner_password LEDA_DB_OWNER_PASSWORD
\getenv runtime_password LEDA_DB_RUNTIME_PASSWORD
\getenv readonly_password LEDA_DB_READONLY_PASSWORD

CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
REVOKE ALL ON DATABASE temporal, temporal_visibility FROM PUBLIC;

CREATE ROLE leda_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE leda_runtime LOGIN PASSWORD :'runtime_password';
CREATE ROLE leda_readonly LOGIN PASSWORD :'readonly_password';
CREATE DATABASE leda OWNER leda_owner;
-- No temporary tables either: the application and the operators need none.
REVOKE ALL ON DATABASE leda FROM PUBLIC;
GRANT CONNECT ON DATABASE leda TO leda_runtime, leda_readonly;
SQL
