-- 0010_hash_chains: every event is chained by SHA-256 to the one before it in its stream and in the store.
--
-- The triggers of 0001 refuse UPDATE, DELETE and TRUNCATE, but only to the careless: the table's owner or a
-- superuser can disable them, and anyone with the data files can edit rows. The chains make such a change
-- visible afterwards. `leda verify` (eventstore/verify.py) recomputes every link and names the first event
-- whose stored hash no longer follows from its content and its predecessor's hash.
--
--   digest(e)      = sha256(canonical text of e's columns, below)
--   stream_hash(e) = sha256(stream_hash(previous event of e's stream) || digest(e))
--   global_hash(e) = sha256(global_hash(event before e in global_position order) || stream_hash(e))
--
-- The first event of a stream, and the first of the store, chain from 32 zero bytes. Each link depends only
-- on the stored hash before it, so a changed event breaks exactly its own link, a deleted one breaks its
-- successor's, and checking needs no more memory than one page of rows.
--
-- The stream chain covers every column of the event, so a pilot's history can be checked (and handed over)
-- on its own; the global chain covers the stream hashes, so its last hash, written down somewhere outside
-- the database, pins the whole store: rewriting any event means recomputing every global hash after it.
-- A chain cannot show that events were cut off its end; only such a recorded head can (`leda verify`
-- prints it).
--
-- Hashes are computed inside leda_append_events, under the append lock that already serialises writers,
-- so "the event before" in the global order is well defined: the row with the greatest global_position.

-- The canonical text of an event: a JSON array, in this order, of a format tag, event_id, stream_id,
-- stream_version, global_position, event_type, schema_version, data, metadata and recorded_at.
-- * Every column is in it: whatever a reader of the log can see is covered. global_position is in it so that
--   an event cannot be moved to another place in the order; recorded_at so the record's time is covered.
-- * jsonb's text output is deterministic for a stored value (object keys sorted by length, then bytes;
--   one space after ',' and ':'); no setting changes it.
-- * recorded_at is written in UTC with microseconds rather than cast to text, whose form follows the
--   session's TimeZone and DateStyle.
-- * The tag 'leda-event-1' names this format, so a later one can be told apart.
-- Anyone with psql can recompute a link from this definition.
CREATE FUNCTION leda_event_digest(
    p_event_id uuid,
    p_stream_id text,
    p_stream_version bigint,
    p_global_position bigint,
    p_event_type text,
    p_schema_version int,
    p_data jsonb,
    p_metadata jsonb,
    p_recorded_at timestamptz
) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN sha256(convert_to(jsonb_build_array(
    'leda-event-1',
    p_event_id::text,
    p_stream_id,
    p_stream_version,
    p_global_position,
    p_event_type,
    p_schema_version,
    p_data,
    p_metadata,
    to_char(p_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
)::text, 'UTF8'));

COMMENT ON FUNCTION leda_event_digest(uuid, text, bigint, bigint, text, int, jsonb, jsonb, timestamptz) IS
    'SHA-256 of the canonical text of one event (0010_hash_chains.sql says which); the input of its stream link.';

-- One link of a chain: sha256(previous hash || this hash); the previous hash of a chain's first link is
-- 32 zero bytes.
CREATE FUNCTION leda_chain_link(p_previous bytea, p_this bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN sha256(coalesce(p_previous, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
              || p_this);

-- 'LEDA' in ASCII: the append lock of leda_append_events, held until this migration commits.
SELECT pg_advisory_xact_lock(1279607873);

ALTER TABLE events
    ADD COLUMN stream_hash bytea,
    ADD COLUMN global_hash bytea;

-- Backfill the events recorded before this migration, in global order. Writers are kept out by the append
-- lock (taken above, before ALTER TABLE, so an append holding it finishes first instead of deadlocking with
-- the table lock); the append-only trigger is switched off for this transaction's UPDATE alone and back on
-- before it commits. One row at a time, because each link needs the one before it.
ALTER TABLE events DISABLE TRIGGER events_are_append_only;

DO $$
DECLARE
    v_event       record;
    v_stream_hash bytea;
    v_global_hash bytea;
BEGIN
    FOR v_event IN SELECT * FROM events ORDER BY global_position LOOP
        IF v_event.stream_version = 1 THEN
            v_stream_hash := NULL;
        ELSE
            SELECT ev.stream_hash INTO v_stream_hash
              FROM events AS ev
             WHERE ev.stream_id = v_event.stream_id AND ev.stream_version = v_event.stream_version - 1;
            IF v_stream_hash IS NULL THEN
                RAISE EXCEPTION 'cannot chain event % (stream "%", version %): version % of its stream is missing',
                    v_event.event_id, v_event.stream_id, v_event.stream_version, v_event.stream_version - 1;
            END IF;
        END IF;
        v_stream_hash := leda_chain_link(v_stream_hash, leda_event_digest(
            v_event.event_id, v_event.stream_id, v_event.stream_version, v_event.global_position,
            v_event.event_type, v_event.schema_version, v_event.data, v_event.metadata, v_event.recorded_at));
        v_global_hash := leda_chain_link(v_global_hash, v_stream_hash);
        UPDATE events
           SET stream_hash = v_stream_hash, global_hash = v_global_hash
         WHERE global_position = v_event.global_position;
    END LOOP;
END;
$$;

ALTER TABLE events ENABLE TRIGGER events_are_append_only;

ALTER TABLE events
    ALTER COLUMN stream_hash SET NOT NULL,
    ALTER COLUMN global_hash SET NOT NULL,
    ADD CONSTRAINT events_stream_hash_sha256 CHECK (octet_length(stream_hash) = 32),
    ADD CONSTRAINT events_global_hash_sha256 CHECK (octet_length(global_hash) = 32);

COMMENT ON COLUMN events.stream_hash IS
    'sha256(stream_hash of the previous event in the stream, or 32 zero bytes || leda_event_digest(this event))';
COMMENT ON COLUMN events.global_hash IS
    'sha256(global_hash of the previous event in global order, or 32 zero bytes || stream_hash)';


-- The append function of 0001, unchanged up to the insert, which now computes both links of each event.
-- Positions are drawn from the identity's sequence under the append lock, so that the hash can cover the
-- position before the row is written (rows are never updated afterwards).
CREATE OR REPLACE FUNCTION leda_append_events(p_stream_id text, p_expected_version bigint, p_events jsonb)
RETURNS TABLE (global_position bigint, stream_version bigint, event_id uuid, already_stored boolean)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_batch_size     int;
    v_problem_index  bigint;
    v_problem        text;
    v_ids            uuid[];
    v_found          int;
    v_all_this_stream boolean;
    v_offsets        int;
    v_conflict_id    uuid;
    v_conflict_stream text;
    v_conflict_version bigint;
    v_current        bigint;
    v_event          jsonb;
    v_n              bigint;
    v_position       bigint;
    v_version        bigint;
    v_event_id       uuid;
    v_metadata       jsonb;
    v_recorded_at    timestamptz;
    v_stream_hash    bytea;
    v_global_hash    bytea;
    v_positions      regclass;
BEGIN
    -- Argument checks come before the lock so that a malformed call never makes other writers wait.
    IF p_stream_id IS NULL OR p_stream_id = '' THEN
        RAISE EXCEPTION 'leda_append_events: stream id must be a non-empty string'
            USING ERRCODE = '22023';
    END IF;
    IF p_expected_version IS NULL OR p_expected_version < 0 THEN
        RAISE EXCEPTION 'leda_append_events: expected version for stream "%" must be 0 or more, got %',
            p_stream_id, coalesce(p_expected_version::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF p_events IS NULL OR jsonb_typeof(p_events) <> 'array' OR jsonb_array_length(p_events) = 0 THEN
        RAISE EXCEPTION 'leda_append_events: events for stream "%" must be a non-empty JSON array',
            p_stream_id
            USING ERRCODE = '22023';
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'leda_append_events must run in a READ COMMITTED transaction, not %',
            upper(current_setting('transaction_isolation'))
            USING ERRCODE = '25000',
                  HINT = 'Under a snapshot taken before the append lock, the expected-version check '
                         'could miss a concurrent append.';
    END IF;

    v_batch_size := jsonb_array_length(p_events);

    SELECT checked.n, checked.problem
      INTO v_problem_index, v_problem
      FROM (
        SELECT b.n,
               CASE
                   WHEN jsonb_typeof(b.e) <> 'object'
                       THEN 'is not a JSON object'
                   WHEN jsonb_typeof(b.e -> 'event_id') IS DISTINCT FROM 'string'
                       THEN 'needs event_id as a UUID string'
                   WHEN jsonb_typeof(b.e -> 'event_type') IS DISTINCT FROM 'string'
                        OR b.e ->> 'event_type' = ''
                       THEN 'needs event_type as a non-empty string'
                   -- Separate WHENs: CASE guarantees the type test runs before the numeric casts.
                   WHEN jsonb_typeof(b.e -> 'schema_version') IS DISTINCT FROM 'number'
                       THEN 'needs schema_version as a positive integer'
                   WHEN (b.e ->> 'schema_version')::numeric <> trunc((b.e ->> 'schema_version')::numeric)
                        OR (b.e ->> 'schema_version')::numeric NOT BETWEEN 1 AND 2147483647
                       THEN 'needs schema_version as a positive integer'
                   WHEN jsonb_typeof(b.e -> 'data') IS DISTINCT FROM 'object'
                       THEN 'needs data as a JSON object'
                   WHEN coalesce(jsonb_typeof(b.e -> 'metadata'), 'null') NOT IN ('object', 'null')
                       THEN 'has metadata that is not a JSON object'
               END AS problem
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS b(e, n)
      ) AS checked
     WHERE checked.problem IS NOT NULL
     ORDER BY checked.n
     LIMIT 1;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION 'leda_append_events: event % of % for stream "%" %',
            v_problem_index, v_batch_size, p_stream_id, v_problem
            USING ERRCODE = '22023';
    END IF;

    -- An invalid UUID string fails this cast with 22P02, naming the offending text.
    v_ids := ARRAY(
        SELECT (b.e ->> 'event_id')::uuid
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS b(e, n)
         ORDER BY b.n
    );
    IF (SELECT count(DISTINCT id) FROM unnest(v_ids) AS id) <> v_batch_size THEN
        RAISE EXCEPTION 'leda_append_events: the batch for stream "%" repeats an event id', p_stream_id
            USING ERRCODE = '22023';
    END IF;

    -- One lock for all writers, held until this transaction commits or rolls back. Global positions are
    -- therefore handed out and committed strictly in order: a reader that tails
    -- "WHERE global_position > checkpoint" can never see position N+1 while N is still uncommitted, so it
    -- never skips an event that commits late (the gap problem of concurrent identity inserts). The same
    -- order makes "the previous event" of the global hash chain well defined. The cost is one append at a
    -- time across the whole store, which measured far above Leda's write rate; callers that append inside
    -- their own transaction must keep that transaction short.
    -- The constant is 'LEDA' in ASCII; database/migrate.py uses a different key.
    PERFORM pg_advisory_xact_lock(1279607873);

    SELECT count(*)::int,
           coalesce(bool_and(ev.stream_id = p_stream_id), false),
           count(DISTINCT ev.stream_version - b.n)::int
      INTO v_found, v_all_this_stream, v_offsets
      FROM unnest(v_ids) WITH ORDINALITY AS b(id, n)
      JOIN events AS ev ON ev.event_id = b.id;

    IF v_found = v_batch_size AND v_all_this_stream AND v_offsets = 1 THEN
        RETURN QUERY
            SELECT ev.global_position, ev.stream_version, ev.event_id, true
              FROM unnest(v_ids) WITH ORDINALITY AS b(id, n)
              JOIN events AS ev ON ev.event_id = b.id
             ORDER BY b.n;
        RETURN;
    END IF;

    IF v_found > 0 THEN
        SELECT b.id, ev.stream_id, ev.stream_version
          INTO v_conflict_id, v_conflict_stream, v_conflict_version
          FROM unnest(v_ids) WITH ORDINALITY AS b(id, n)
          JOIN events AS ev ON ev.event_id = b.id
         ORDER BY b.n
         LIMIT 1;
        RAISE EXCEPTION 'event id conflict appending to stream "%": % of % event ids are already stored '
                        '(first: % in stream "%" at version %)',
            p_stream_id, v_found, v_batch_size, v_conflict_id, v_conflict_stream, v_conflict_version
            USING ERRCODE = 'LE002',
                  DETAIL = jsonb_build_object(
                      'stream_id', p_stream_id,
                      'event_id', v_conflict_id,
                      'stored_stream_id', v_conflict_stream,
                      'stored_version', v_conflict_version
                  )::text,
                  HINT = 'A retried append must resend exactly the same batch; a new event needs a new id.';
    END IF;

    SELECT coalesce(max(ev.stream_version), 0)
      INTO v_current
      FROM events AS ev
     WHERE ev.stream_id = p_stream_id;

    IF v_current <> p_expected_version THEN
        RAISE EXCEPTION 'wrong expected version for stream "%": expected %, actual %',
            p_stream_id, p_expected_version, v_current
            USING ERRCODE = 'LE001',
                  DETAIL = jsonb_build_object(
                      'stream_id', p_stream_id,
                      'expected', p_expected_version,
                      'actual', v_current
                  )::text,
                  HINT = 'Read the stream again, decide again, and append with the new version.';
    END IF;

    -- The heads of both chains. Under the lock nothing can be appended after them until this commits.
    SELECT ev.stream_hash INTO v_stream_hash
      FROM events AS ev
     WHERE ev.stream_id = p_stream_id AND ev.stream_version = v_current;
    SELECT ev.global_hash INTO v_global_hash
      FROM events AS ev
     ORDER BY ev.global_position DESC
     LIMIT 1;

    v_positions := pg_get_serial_sequence('events', 'global_position')::regclass;
    v_recorded_at := now();

    -- One row at a time, in batch order, so that each event chains from the one before it; positions
    -- (from the identity's own sequence) therefore follow stream versions, as before.
    FOR v_event, v_n IN
        SELECT b.e, b.n FROM jsonb_array_elements(p_events) WITH ORDINALITY AS b(e, n) ORDER BY b.n
    LOOP
        v_position := nextval(v_positions);
        v_version := v_current + v_n;
        v_event_id := (v_event ->> 'event_id')::uuid;
        v_metadata := CASE WHEN jsonb_typeof(v_event -> 'metadata') = 'object' THEN v_event -> 'metadata'
                           ELSE '{}'::jsonb END;
        v_stream_hash := leda_chain_link(v_stream_hash, leda_event_digest(
            v_event_id, p_stream_id, v_version, v_position, v_event ->> 'event_type',
            (v_event ->> 'schema_version')::int, v_event -> 'data', v_metadata, v_recorded_at));
        v_global_hash := leda_chain_link(v_global_hash, v_stream_hash);

        INSERT INTO events (global_position, stream_id, stream_version, event_id, event_type, schema_version,
                            data, metadata, recorded_at, stream_hash, global_hash)
        OVERRIDING SYSTEM VALUE
        VALUES (v_position, p_stream_id, v_version, v_event_id, v_event ->> 'event_type',
                (v_event ->> 'schema_version')::int, v_event -> 'data', v_metadata, v_recorded_at,
                v_stream_hash, v_global_hash);

        global_position := v_position;
        stream_version := v_version;
        event_id := v_event_id;
        already_stored := false;
        RETURN NEXT;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION leda_append_events(text, bigint, jsonb) IS
    'Idempotent, optimistically concurrent append of one batch to one stream, chaining each event by SHA-256; '
    'the only way to write events.';
