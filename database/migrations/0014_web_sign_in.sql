-- 0014_web_sign_in: sign-in links mailed to participants, and the browser sessions they open.
--
-- A sign-in link carries a random token that does one thing: open a session for its participant on the web
-- pages. It cannot call the HTTP API and it expires. A session is held by a browser cookie. Of both, only the
-- SHA-256 is kept, so a copy of these tables lets no one sign in. Rows name a participant by id only; who the
-- participant is (and whether they still are: erasure) is read from the directory at every use.

CREATE TABLE sign_in_links (
    token_hash     text        PRIMARY KEY CONSTRAINT sign_in_links_token_hash_sha256 CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    participant_id text        NOT NULL CONSTRAINT sign_in_links_participant_id_not_blank CHECK (btrim(participant_id) <> ''),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    CONSTRAINT sign_in_links_expire_after_creation CHECK (expires_at > created_at)
);

COMMENT ON TABLE sign_in_links IS 'Mailed sign-in links for the web pages, as the SHA-256 of their token; they expire.';

CREATE INDEX sign_in_links_by_participant ON sign_in_links (participant_id);

CREATE TABLE web_sessions (
    session_hash   text        PRIMARY KEY CONSTRAINT web_sessions_session_hash_sha256 CHECK (session_hash ~ '^[0-9a-f]{64}$'),
    participant_id text        NOT NULL CONSTRAINT web_sessions_participant_id_not_blank CHECK (btrim(participant_id) <> ''),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    ended_at       timestamptz,
    CONSTRAINT web_sessions_expire_after_creation CHECK (expires_at > created_at)
);

COMMENT ON TABLE web_sessions IS 'Browser sessions on the web pages, as the SHA-256 of their cookie; they expire or end.';

CREATE INDEX web_sessions_by_participant ON web_sessions (participant_id);
