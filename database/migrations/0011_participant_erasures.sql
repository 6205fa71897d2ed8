-- 0011_participant_erasures: the register of participants erased from the directory (GDPR art. 17).
--
-- Erasing a person deletes their participants row, which held everything personal (name, e-mail address).
-- The participant id stays in the event log and the mail logs: it is a pseudonym, and with the row gone it
-- leads to no one. This register keeps only that id, so that
--   * a second erasure is answered "already erased" rather than "unknown";
--   * an import cannot quietly bring an erased person's data back under the same id;
--   * mail still addressed to the id by a running pilot is skipped and logged, not retried or failed.
-- The ParticipantErased event (stream 'directory') is the audit record of who erased and why.

CREATE TABLE participant_erasures (
    participant_id   text        PRIMARY KEY,
    erased_at        timestamptz NOT NULL DEFAULT now(),
    erasure_event_id uuid        NOT NULL CONSTRAINT participant_erasures_event_key UNIQUE REFERENCES events (event_id)
);

COMMENT ON TABLE participant_erasures IS
    'Ids of participants whose personal data was erased; the ParticipantErased event records by whom and why.';
