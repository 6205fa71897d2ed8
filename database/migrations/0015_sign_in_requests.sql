-- 0015_sign_in_requests: which sign-in links were asked for on the sign-in page.
--
-- Anyone may type an address into the sign-in page, so its links are limited per participant over a short
-- window (access.sign_in.SIGN_IN_REQUESTS): otherwise the page could be used to fill someone's mailbox. Links
-- that Leda's own mails carry are not counted, so a day of reminders never keeps anyone from asking for one.

ALTER TABLE sign_in_links ADD COLUMN asked_for boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN sign_in_links.asked_for IS 'Asked for on the sign-in page (counted against its limit), not carried by a mail Leda sent.';

CREATE INDEX sign_in_links_asked_for ON sign_in_links (participant_id, created_at) WHERE asked_for;
