-- 0007_api_tokens: bearer tokens for the HTTP API, one or more per user.
--
-- Only the SHA-256 of a token is kept: a copy of this table does not let anyone call the API. A token is
-- revoked by setting revoked_at, never deleted, so the table also says who could act when.

CREATE TABLE api_tokens (
    -- Hex SHA-256 of the token; the token itself is shown once, when it is issued.
    token_hash     text        PRIMARY KEY CONSTRAINT api_tokens_token_hash_sha256 CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    -- A participant of the directory, or an operations user who is not one (so no foreign key).
    participant_id text        NOT NULL CONSTRAINT api_tokens_participant_id_not_blank CHECK (btrim(participant_id) <> ''),
    scope          text        NOT NULL CONSTRAINT api_tokens_scope_known
                                        CHECK (scope IN ('participant', 'programme_lead', 'operations')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);

COMMENT ON TABLE api_tokens IS 'HTTP API bearer tokens, stored as their SHA-256 only; revoked, never deleted.';

CREATE INDEX api_tokens_by_participant ON api_tokens (participant_id);
