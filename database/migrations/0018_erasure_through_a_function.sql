-- 0018_erasure_through_a_function: a person's row leaves the directory only together with the record of why.
--
-- The application's database role (leda_runtime, database/privileges.sql) may neither DELETE from participants
-- nor INSERT into participant_erasures. Erasure goes through this function, which runs with its owner's rights
-- (privileges.sql makes it SECURITY DEFINER) and does both, but only once the ParticipantErased event of the same
-- person is in the event log: directory/erasure.py appends it earlier in the same transaction. So whoever holds
-- the application's credentials can still erase a person, as the law asks, but never without leaving the audit
-- record that says so, and never under an event that names someone else.
--
-- SQLSTATEs (class "LE", see 0001):
--   LE004  no ParticipantErased event with this id for this participant
--   P0002  no_data_found: the participant is not in the directory

CREATE FUNCTION leda_erase_participant(p_participant_id text, p_erasure_event_id uuid, p_erased_at timestamptz)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (
        SELECT FROM events AS ev
         WHERE ev.event_id = p_erasure_event_id
           AND ev.stream_id = 'directory'
           AND ev.event_type = 'ParticipantErased'
           AND ev.data ->> 'participant_id' = p_participant_id
    ) THEN
        RAISE EXCEPTION 'leda_erase_participant: event % is no ParticipantErased event of participant "%"',
            p_erasure_event_id, p_participant_id
            USING ERRCODE = 'LE004',
                  HINT = 'Append the ParticipantErased event first, in the same transaction.';
    END IF;

    DELETE FROM participants WHERE participant_id = p_participant_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'leda_erase_participant: participant "%" is not in the directory', p_participant_id
            USING ERRCODE = 'P0002';
    END IF;

    INSERT INTO participant_erasures (participant_id, erased_at, erasure_event_id)
    VALUES (p_participant_id, p_erased_at, p_erasure_event_id);
END;
$$;

COMMENT ON FUNCTION leda_erase_participant(text, uuid, timestamptz) IS
    'Delete a participant''s row and register the erasure, given the ParticipantErased event already appended; '
    'the only way the application erases anyone.';
