-- 0017_single_use_links_and_expiring_tokens: a sign-in link signs in once; API tokens expire and show their use.
--
-- A link is consumed by the button on the page it opens (a POST), not by fetching it, so a mail scanner that
-- fetches every link in a mail does not use it up, and nobody can replace a victim's session by sending a link.
-- An API token now has an end: one issued before this migration keeps working for the default lifetime from now
-- (access.tokens.TOKEN_LIFETIME), so no deployment loses its integrations the moment it upgrades.

ALTER TABLE sign_in_links ADD COLUMN used_at timestamptz;

COMMENT ON COLUMN sign_in_links.used_at IS 'When the link signed someone in; a used link signs in no one again.';

ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ADD COLUMN last_used_at timestamptz;

UPDATE api_tokens SET expires_at = now() + interval '90 days' WHERE expires_at IS NULL;

ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_expire_after_creation CHECK (expires_at > created_at);

COMMENT ON COLUMN api_tokens.expires_at IS 'After this the token is refused (401); a new one is issued with leda token issue.';
COMMENT ON COLUMN api_tokens.last_used_at IS 'When the token last called the API (to the minute), so unused tokens can be found and revoked.';
