-- 0002_directory: the participant directory.
--
-- This is the only table that holds personal data (names, e-mail addresses). Events refer to people by
-- participant_id alone, so erasing a person means deleting or anonymising their row here while the
-- append-only event log stays untouched.

CREATE TABLE participants (
    participant_id text        PRIMARY KEY
                               CONSTRAINT participants_participant_id_not_blank CHECK (btrim(participant_id) <> ''),
    -- The four-digit municipality code from SCB (e.g. 1861 for Hallsberg), kept as text for its leading zeros.
    kommunkod      text        NOT NULL CONSTRAINT participants_kommunkod_four_digits CHECK (kommunkod ~ '^[0-9]{4}$'),
    role           text        NOT NULL CONSTRAINT participants_role_not_blank CHECK (btrim(role) <> ''),
    display_name   text        NOT NULL CONSTRAINT participants_display_name_not_blank CHECK (btrim(display_name) <> ''),
    email          text        NOT NULL CONSTRAINT participants_email_has_at CHECK (email LIKE '_%@_%'),
    language       text        NOT NULL DEFAULT 'sv' CONSTRAINT participants_language_known CHECK (language IN ('sv', 'en')),
    created_at     timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE participants IS
    'Directory of people taking part in a programme; the only place personal data lives.';

-- Serves "who holds role R in municipality K", which decides who is asked to act on a task.
CREATE INDEX participants_kommunkod_role ON participants (kommunkod, role);
