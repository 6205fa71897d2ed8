-- privileges.sql: what each of Leda's database roles may do (database/roles.py says who they are).
--
-- Not a numbered migration: `leda migrate` applies it after the migrations every time it runs, in one transaction,
-- as the role that owns the schema. It states the whole set: everything is revoked first, then granted exactly as
-- below, so what a role may do is what this file says, whatever earlier releases granted. A table, column or
-- function that a new migration adds is granted here in the same change, or the application cannot use it (the
-- test suite connects as leda_runtime, and tests/integration/test_database_roles.py lists what is withheld).
--
-- leda_runtime (worker, API, CLI): column by column what the application writes, so that it cannot, for example,
-- back-date a row whose time the database records, or un-revoke a token. The event log and the registers
-- written beside it (decisions, participant_erasures) are never updated or deleted; events are appended through
-- leda_append_events and erasures made through leda_erase_participant, which run as their owner.
-- leda_readonly (operators, psql): SELECT on every table, and the two hash functions `leda verify` recomputes.

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, leda_runtime, leda_readonly;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, leda_runtime, leda_readonly;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC, leda_runtime, leda_readonly;
-- Only the owner creates objects. Already so since PostgreSQL 15; a no-op warning where this role is not the
-- schema's owner.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO leda_runtime, leda_readonly;

-- Functions that write run with their owner's rights, and so must not find objects of the caller's: search_path
-- is fixed to Leda's schema, with pg_temp last, so a temporary table cannot stand in for `events`.
ALTER FUNCTION leda_append_events(text, bigint, jsonb) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION leda_erase_participant(text, uuid, timestamptz) SECURITY DEFINER SET search_path = public, pg_temp;


-- leda_runtime ---------------------------------------------------------------------------------------------------

-- The event log (0001, 0010, 0013, 0020): read, and appended to through the function alone.
GRANT SELECT ON events TO leda_runtime;
GRANT EXECUTE ON FUNCTION leda_append_events(text, bigint, jsonb) TO leda_runtime;
GRANT EXECUTE ON FUNCTION leda_event_digest(uuid, text, bigint, bigint, text, int, jsonb, jsonb, timestamptz),
                          leda_chain_link(bytea, bytea)
    TO leda_runtime, leda_readonly;

-- Registers written beside an event and never changed: the nämnd's decisions (0004), the erasures (0011, 0018).
GRANT SELECT, INSERT ON decisions TO leda_runtime;
GRANT SELECT ON participant_erasures TO leda_runtime;
GRANT EXECUTE ON FUNCTION leda_erase_participant(text, uuid, timestamptz) TO leda_runtime;

-- The directory (0002, 0009, 0016): imported and corrected; created_at stays the database's.
GRANT SELECT ON participants TO leda_runtime;
GRANT INSERT (participant_id, kommunkod, programme, role, display_name, email, language, mail_delivery, manager_id),
      UPDATE (kommunkod, programme, role, display_name, email, language, mail_delivery, manager_id)
    ON participants TO leda_runtime;

-- Mail (0003, 0009): the logs are written once; a queued digest item is settled.
GRANT SELECT, INSERT (notification_id, participant_id, kind, workflow_id, task_key, message_id)
    ON notifications_sent TO leda_runtime;
GRANT SELECT, INSERT (digest_id, participant_id, message_id, item_count) ON digests_sent TO leda_runtime;
GRANT SELECT, INSERT (notification_id, participant_id, kind, workflow_id, task_key, request),
      UPDATE (outcome, settled_at, digest_id)
    ON digest_items TO leda_runtime;

-- The inbox read model (0006): derived from the log, so the projection writes whole rows and empties the tables
-- to rebuild them.
GRANT SELECT, INSERT, UPDATE, TRUNCATE ON inbox_tasks, inbox_pilots TO leda_runtime;
GRANT SELECT, INSERT (name, position), UPDATE (position, updated_at) ON projection_checkpoints TO leda_runtime;

-- Access (0007, 0014, 0015, 0017): tokens, links and sessions are issued, used, revoked and ended; never deleted,
-- never re-opened, never given a longer life.
GRANT SELECT, INSERT (token_hash, participant_id, scope, expires_at), UPDATE (revoked_at, last_used_at)
    ON api_tokens TO leda_runtime;
GRANT SELECT, INSERT (token_hash, participant_id, expires_at, asked_for), UPDATE (revoked_at, used_at)
    ON sign_in_links TO leda_runtime;
GRANT SELECT, INSERT (session_hash, participant_id, expires_at), UPDATE (ended_at) ON web_sessions TO leda_runtime;
-- Calendar feeds (0019): an address is issued and revoked when renewed.
GRANT SELECT, INSERT (feed_hash, participant_id), UPDATE (revoked_at) ON calendar_feeds TO leda_runtime;


-- leda_readonly --------------------------------------------------------------------------------------------------

GRANT SELECT ON ALL TABLES IN SCHEMA public TO leda_readonly;
-- Tables the migrating role creates later are readable at once, before this file runs again.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO leda_readonly;
