-- 0019_calendar_feeds: the secret addresses of the participants' calendar feeds (iCalendar).
--
-- A calendar client cannot send a token, so the address itself is the secret. Leda keeps only its SHA-256. A
-- participant has one live address at a time: renewing it revokes the one before, so an address that leaked can be
-- shut. Like tokens and links, an address is issued and revoked, never deleted or revived.

CREATE TABLE calendar_feeds (
    feed_hash      text        PRIMARY KEY CONSTRAINT calendar_feeds_feed_hash_sha256 CHECK (feed_hash ~ '^[0-9a-f]{64}$'),
    participant_id text        NOT NULL CONSTRAINT calendar_feeds_participant_id_not_blank CHECK (btrim(participant_id) <> ''),
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);

COMMENT ON TABLE calendar_feeds IS 'Secret addresses of participants'' iCalendar feeds, as their SHA-256; one live per participant.';

CREATE UNIQUE INDEX calendar_feeds_one_live_per_participant ON calendar_feeds (participant_id) WHERE revoked_at IS NULL;
