-- 0001_events: the append-only event store.
--
-- Every fact Leda knows is an event in this table; read models are folds of it. Personal data never goes
-- here (events carry participant ids, the directory in 0002 holds names and addresses), which is what lets
-- this table stay append-only for ever while a person's data can still be erased.
--
-- SQLSTATEs raised by this migration's functions (class "LE" is ours; PostgreSQL reserves no class "L"):
--   LE001  wrong expected version      (optimistic concurrency: someone else appended first)
--   LE002  event id conflict           (event ids already stored, but not as exactly this batch)
--   LE003  events are append-only      (UPDATE, DELETE or TRUNCATE on events)
--   22023  invalid_parameter_value     (malformed arguments to leda_append_events)
--   25000  invalid_transaction_state   (leda_append_events called outside READ COMMITTED)

CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id       text        NOT NULL CONSTRAINT events_stream_id_not_empty CHECK (stream_id <> ''),
    stream_version  bigint      NOT NULL CONSTRAINT events_stream_version_positive CHECK (stream_version >= 1),
    event_id        uuid        NOT NULL CONSTRAINT events_event_id_key UNIQUE,
    event_type      text        NOT NULL CONSTRAINT events_event_type_not_empty CHECK (event_type <> ''),
    schema_version  int         NOT NULL CONSTRAINT events_schema_version_positive CHECK (schema_version >= 1),
    data            jsonb       NOT NULL CONSTRAINT events_data_is_object CHECK (jsonb_typeof(data) = 'object'),
    metadata        jsonb       NOT NULL DEFAULT '{}'
                                CONSTRAINT events_metadata_is_object CHECK (jsonb_typeof(metadata) = 'object'),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    -- Also the index behind reading a stream and finding its current version.
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

COMMENT ON TABLE events IS
    'Append-only event log. Write only through leda_append_events(), which serialises writers so that '
    'global_position order is commit order.';

-- Every stream has exactly one event at version 1, so this partial index lists streams without
-- scanning their events.
CREATE INDEX events_stream_first_event ON events (stream_id) WHERE stream_version = 1;


-- Append-only guard. Statement-level so that even an UPDATE or DELETE matching no rows is refused: such a
-- statement is a bug in the caller whether or not it happened to touch anything. This guards against
-- mistakes, not against an owner who disables triggers; privileges are the real boundary.
CREATE FUNCTION leda_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % on table events is not allowed', TG_OP
        USING ERRCODE = 'LE003',
              HINT = 'Record a new event that corrects or supersedes the old one; personal data belongs '
                     'in the participants directory, where it can be erased.';
END;
$$;

CREATE TRIGGER events_are_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION leda_events_refuse_change();


-- Append a batch of events to one stream in a single round trip.
--
-- p_expected_version is the stream's version the caller based its decision on (0: the stream must not
-- exist yet). p_events is a JSON array of {event_id, event_type, schema_version, data, metadata?}.
-- Returns one row per event, in batch order.
--
-- Idempotency: if every event id of the batch is already stored in this stream, at consecutive versions
-- in batch order, the append already happened (a retry after a lost reply or an activity retry): the
-- stored rows are returned with already_stored = true and nothing is inserted. The expected version is
-- not checked in that case, because a retry may legitimately have re-read the stream first. Any other
-- overlap with stored ids is a bug in the caller and raises LE002 instead of silently dropping or
-- duplicating events.
--
-- Must run in READ COMMITTED: each statement below then sees everything committed before the lock was
-- granted. Under REPEATABLE READ the version check would read a stale snapshot.
CREATE FUNCTION leda_append_events(p_stream_id text, p_expected_version bigint, p_events jsonb)
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
    -- never skips an event that commits late (the gap problem of concurrent identity inserts). The cost is
    -- one append at a time across the whole store, which measured far above Leda's write rate; callers
    -- that append inside their own transaction must keep that transaction short.
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

    -- Rows are inserted in batch order, so identity values (global positions) follow stream versions.
    RETURN QUERY
        INSERT INTO events AS ev (stream_id, stream_version, event_id, event_type, schema_version, data, metadata)
        SELECT p_stream_id,
               v_current + b.n,
               (b.e ->> 'event_id')::uuid,
               b.e ->> 'event_type',
               (b.e ->> 'schema_version')::int,
               b.e -> 'data',
               CASE WHEN jsonb_typeof(b.e -> 'metadata') = 'object' THEN b.e -> 'metadata' ELSE '{}' END
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS b(e, n)
         ORDER BY b.n
        RETURNING ev.global_position, ev.stream_version, ev.event_id, false;
END;
$$;

COMMENT ON FUNCTION leda_append_events(text, bigint, jsonb) IS
    'Idempotent, optimistically concurrent append of one batch to one stream; the only way to write events.';
