-- 0021_append_one_event_directly: a single event appended without the batch machinery, and a batch's columns taken
-- out of its JSON once.
--
-- Most appends carry one event (an answer, a reminder, a step of the workflow). For them 0020 ran the batch's
-- checks and id collection as statements over jsonb_array_elements and probed the id through a lateral join: each
-- statement is a trip through the SQL executor. A batch of one now has its checks (leda_event_problem, which a
-- batch's statement calls too) and its columns taken into variables, and its id probed with one statement that
-- also answers a retry. A batch of two or more has each column taken out of the JSON once (with the ids, before the
-- lock). From the heads on, both take one path: the loop that links the events and the INSERT read the columns as
-- arrays. What an append guarantees is the same for both (argument checks with the same messages, the store-wide
-- lock, idempotency by event id, the expected version, both hash chains with the same links);
-- tests/integration/test_event_store.py and test_hash_chains.py run the cases with one event and with a batch.

-- What is wrong with one event of a batch, worded as leda_append_events reports it; NULL when nothing is. One
-- expression, so PostgreSQL inlines it wherever it is called: for a single event as a variable's value, for a batch
-- over jsonb_array_elements. Separate WHENs: CASE guarantees the type test runs before the numeric casts.
CREATE FUNCTION leda_event_problem(p_event jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN jsonb_typeof(p_event) <> 'object'
        THEN 'is not a JSON object'
    WHEN jsonb_typeof(p_event -> 'event_id') IS DISTINCT FROM 'string'
        THEN 'needs event_id as a UUID string'
    WHEN jsonb_typeof(p_event -> 'event_type') IS DISTINCT FROM 'string' OR p_event ->> 'event_type' = ''
        THEN 'needs event_type as a non-empty string'
    WHEN jsonb_typeof(p_event -> 'schema_version') IS DISTINCT FROM 'number'
        THEN 'needs schema_version as a positive integer'
    WHEN (p_event ->> 'schema_version')::numeric <> trunc((p_event ->> 'schema_version')::numeric)
         OR (p_event ->> 'schema_version')::numeric NOT BETWEEN 1 AND 2147483647
        THEN 'needs schema_version as a positive integer'
    WHEN jsonb_typeof(p_event -> 'data') IS DISTINCT FROM 'object'
        THEN 'needs data as a JSON object'
    WHEN coalesce(jsonb_typeof(p_event -> 'metadata'), 'null') NOT IN ('object', 'null')
        THEN 'has metadata that is not a JSON object'
END;

CREATE OR REPLACE FUNCTION leda_append_events(p_stream_id text, p_expected_version bigint, p_events jsonb)
RETURNS TABLE (global_position bigint, stream_version bigint, event_id uuid, already_stored boolean)
LANGUAGE plpgsql
-- Every statement below is planned once per session: a custom plan per call (PostgreSQL's default for the first
-- calls, and whenever it guesses a custom plan is cheaper) cost more than the rest of the append together.
-- The plans cannot go wrong as the log grows: each reads events through a unique index, one row or one
-- backward step at a time.
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_batch_size      int;
    v_problem_index   bigint;
    v_problem         text;
    v_ids             uuid[];
    v_distinct_ids    int;
    v_found           int;
    v_all_this_stream boolean;
    v_offsets         int;
    v_conflict_id     uuid;
    v_conflict_stream text;
    v_conflict_version bigint;
    v_current         bigint;
    v_stream_hash     bytea;
    v_global_hash     bytea;
    v_recorded_at     timestamptz;
    v_positions       bigint[];
    v_stream_hashes   bytea[];
    v_global_hashes   bytea[];
    v_event           jsonb;
    v_n               int;
    v_types           text[];
    v_versions        int[];
    v_data            jsonb[];
    v_metadata        jsonb[];
    v_position        bigint;
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

    IF v_batch_size = 1 THEN
        -- One event: its checks and its columns from variables, where a batch runs a statement over
        -- jsonb_array_elements for each; from the heads on, both take the same path.
        v_event := p_events -> 0;
        v_problem := leda_event_problem(v_event);
        IF v_problem IS NOT NULL THEN
            RAISE EXCEPTION 'leda_append_events: event 1 of 1 for stream "%" %', p_stream_id, v_problem
                USING ERRCODE = '22023';
        END IF;
        v_ids := ARRAY[(v_event ->> 'event_id')::uuid];  -- an invalid UUID string fails here with 22P02, as below
        v_types := ARRAY[v_event ->> 'event_type'];
        v_versions := ARRAY[(v_event ->> 'schema_version')::int];
        v_data := ARRAY[v_event -> 'data'];
        v_metadata := ARRAY[CASE WHEN jsonb_typeof(v_event -> 'metadata') = 'object' THEN v_event -> 'metadata'
                                 ELSE '{}'::jsonb END];

        PERFORM pg_advisory_xact_lock(1279607873);  -- the store-wide lock, as below

        -- Its id already stored: the same event retried (answered with what it stored), or a conflict (below).
        SELECT e.stream_id, e.stream_version, e.global_position
          INTO v_conflict_stream, v_conflict_version, v_position
          FROM events AS e
         WHERE e.event_id = v_ids[1];
        v_found := CASE WHEN FOUND THEN 1 ELSE 0 END;
        IF v_found = 1 AND v_conflict_stream = p_stream_id THEN
            RETURN QUERY SELECT v_position, v_conflict_version, v_ids[1], true;
            RETURN;
        END IF;
        v_conflict_id := v_ids[1];
    ELSE
        SELECT checked.n, checked.problem
          INTO v_problem_index, v_problem
          FROM (
            SELECT b.n, leda_event_problem(b.e) AS problem
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

        -- Each column of the batch taken out of the JSON once, before the lock; the loop and the INSERT below read
        -- these arrays. An invalid UUID string fails this cast with 22P02, naming the offending text.
        SELECT array_agg(cols.id ORDER BY cols.n), count(DISTINCT cols.id)::int,
               array_agg(cols.event_type ORDER BY cols.n), array_agg(cols.schema_version ORDER BY cols.n),
               array_agg(cols.data ORDER BY cols.n), array_agg(cols.metadata ORDER BY cols.n)
          INTO v_ids, v_distinct_ids, v_types, v_versions, v_data, v_metadata
          FROM (
            SELECT (b.e ->> 'event_id')::uuid AS id, b.n, b.e ->> 'event_type' AS event_type,
                   (b.e ->> 'schema_version')::int AS schema_version, b.e -> 'data' AS data,
                   CASE WHEN jsonb_typeof(b.e -> 'metadata') = 'object' THEN b.e -> 'metadata' ELSE '{}'::jsonb END
                       AS metadata
              FROM jsonb_array_elements(p_events) WITH ORDINALITY AS b(e, n)
          ) AS cols;
        IF v_distinct_ids <> v_batch_size THEN
            RAISE EXCEPTION 'leda_append_events: the batch for stream "%" repeats an event id', p_stream_id
                USING ERRCODE = '22023';
        END IF;

        -- The store-wide lock of 0001/0010: global positions are handed out and committed strictly in order, so a
        -- reader tailing "WHERE global_position > checkpoint" never skips an event that commits late, and "the
        -- previous event" of the global chain is well defined. 'LEDA' in ASCII; database/migrate.py uses another
        -- key.
        PERFORM pg_advisory_xact_lock(1279607873);

        -- One probe of events_event_id_key per id of the batch, whatever the statistics say: LIMIT 1 keeps the
        -- lateral subquery from being flattened into a join, which a plan cached while the log was small made a hash
        -- join over a scan of the whole log (0013's cost grew with the log, under the lock).
        SELECT count(*)::int
          INTO v_found
          FROM unnest(v_ids) AS b(id)
         CROSS JOIN LATERAL (SELECT 1 FROM events AS e WHERE e.event_id = b.id LIMIT 1) AS ev;

        -- Ids already stored: the same batch retried (answered with what it stored), or a conflict.
        IF v_found > 0 THEN
            SELECT coalesce(bool_and(ev.stream_id = p_stream_id), false),
                   count(DISTINCT ev.stream_version - b.n)::int
              INTO v_all_this_stream, v_offsets
              FROM unnest(v_ids) WITH ORDINALITY AS b(id, n)
             CROSS JOIN LATERAL (
                SELECT e.stream_id, e.stream_version FROM events AS e WHERE e.event_id = b.id LIMIT 1
             ) AS ev;

            IF v_found = v_batch_size AND v_all_this_stream AND v_offsets = 1 THEN
                RETURN QUERY
                    SELECT ev.global_position, ev.stream_version, ev.event_id, true
                      FROM unnest(v_ids) WITH ORDINALITY AS b(id, n)
                     CROSS JOIN LATERAL (
                        SELECT e.global_position, e.stream_version, e.event_id
                          FROM events AS e WHERE e.event_id = b.id LIMIT 1
                     ) AS ev
                     ORDER BY b.n;
                RETURN;
            END IF;

            SELECT b.id, ev.stream_id, ev.stream_version
              INTO v_conflict_id, v_conflict_stream, v_conflict_version
              FROM unnest(v_ids) WITH ORDINALITY AS b(id, n)
             CROSS JOIN LATERAL (
                SELECT e.stream_id, e.stream_version FROM events AS e WHERE e.event_id = b.id LIMIT 1
             ) AS ev
             ORDER BY b.n
             LIMIT 1;
        END IF;
    END IF;

    IF v_found > 0 THEN
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

    -- The stream's version and the head of its chain (one backward step of events_stream_version_key), and the head
    -- of the global chain (one of events_pkey), in one statement. Under the lock nothing can be appended after
    -- either head until this commits.
    SELECT s.stream_version, s.stream_hash,
           (SELECT g.global_hash FROM events AS g ORDER BY g.global_position DESC LIMIT 1)
      INTO v_current, v_stream_hash, v_global_hash
      FROM (SELECT NULL::int) AS one(x)
      LEFT JOIN LATERAL (
        SELECT ev.stream_version, ev.stream_hash
          FROM events AS ev
         WHERE ev.stream_id = p_stream_id
         ORDER BY ev.stream_version DESC
         LIMIT 1
      ) AS s ON true;
    v_current := coalesce(v_current, 0);

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

    v_recorded_at := now();
    -- Each event chains from the one before it: its position (drawn in batch order, so positions follow stream
    -- versions) and both links are computed in order, by expressions only, without a cursor.
    FOR v_n IN 1 .. v_batch_size LOOP
        v_positions[v_n] := nextval('events_global_position_seq'::regclass);
        v_stream_hash := leda_chain_link(v_stream_hash, leda_event_digest(
            v_ids[v_n], p_stream_id, v_current + v_n, v_positions[v_n], v_types[v_n], v_versions[v_n], v_data[v_n],
            v_metadata[v_n], v_recorded_at));
        v_global_hash := leda_chain_link(v_global_hash, v_stream_hash);
        v_stream_hashes[v_n] := v_stream_hash;
        v_global_hashes[v_n] := v_global_hash;
    END LOOP;

    INSERT INTO events (global_position, stream_id, stream_version, event_id, event_type, schema_version,
                        data, metadata, recorded_at, stream_hash, global_hash)
    OVERRIDING SYSTEM VALUE
    SELECT b.position, p_stream_id, v_current + b.n, b.id, b.event_type, b.schema_version, b.data, b.metadata,
           v_recorded_at, b.stream_hash, b.global_hash
      FROM unnest(v_positions, v_ids, v_types, v_versions, v_data, v_metadata, v_stream_hashes, v_global_hashes)
           WITH ORDINALITY AS b(position, id, event_type, schema_version, data, metadata, stream_hash, global_hash, n);

    -- What was written is known without reading it back.
    RETURN QUERY
        SELECT v_positions[b.n], v_current + b.n, v_ids[b.n], false
          FROM generate_series(1, v_batch_size) AS b(n);
END;
$$;


COMMENT ON FUNCTION leda_append_events(text, bigint, jsonb) IS
    'Idempotent, optimistically concurrent append of one batch to one stream, chaining each event by SHA-256; '
    'the only way to write events.';
