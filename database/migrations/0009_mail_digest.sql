-- 0009_mail_digest: a daily digest per participant instead of one mail per notification, as a setting.
--
-- participants.mail_delivery says how a participant wants Leda's mail: 'immediate' (one mail per notification,
-- as before) or 'daily_digest'. For a digest participant, send_notification queues the notification in
-- digest_items instead of mailing it. Once a day the send_digests activity (started by the Temporal schedule
-- leda-daily-digest) mails each participant one digest of everything queued for them, settles the items and
-- logs the mail in digests_sent.
--
-- No names or addresses here: an item keeps the NotificationRequest (ids, municipality and task titles), so a
-- person is still erased from the participants row alone. Items are settled, never deleted, so the tables
-- also say what each person was told and when, or why they were not.

ALTER TABLE participants ADD COLUMN mail_delivery text NOT NULL DEFAULT 'immediate'
    CONSTRAINT participants_mail_delivery_known CHECK (mail_delivery IN ('immediate', 'daily_digest'));

-- One row per digest mail sent.
CREATE TABLE digests_sent (
    digest_id      uuid        PRIMARY KEY,
    participant_id text        NOT NULL,
    message_id     text        NOT NULL,
    item_count     int         NOT NULL CONSTRAINT digests_sent_item_count_positive CHECK (item_count >= 1),
    sent_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX digests_sent_by_participant ON digests_sent (participant_id, sent_at);

-- One row per notification queued for a digest. The notification id comes from the workflow, so a retried
-- send_notification finds its own row and queues nothing twice (as notifications_sent does for mail).
CREATE TABLE digest_items (
    notification_id uuid        PRIMARY KEY,
    participant_id  text        NOT NULL,
    -- The kinds notifications_sent allows since 0008.
    kind            text        NOT NULL CONSTRAINT digest_items_kind_known
                                CHECK (kind IN ('assignment', 'reminder', 'escalation', 'decision_due')),
    workflow_id     text        NOT NULL,
    task_key        text        NOT NULL,
    -- The NotificationRequest as JSON: what the digest needs to write the item's line.
    request         jsonb       NOT NULL CONSTRAINT digest_items_request_is_object CHECK (jsonb_typeof(request) = 'object'),
    queued_at       timestamptz NOT NULL DEFAULT now(),
    -- NULL while pending. 'sent': in the digest digest_id. 'superseded': the task was no longer open when the
    -- digest went out, so the item was left out. 'undeliverable': the participant had left the directory.
    outcome         text        CONSTRAINT digest_items_outcome_known
                                CHECK (outcome IN ('sent', 'superseded', 'undeliverable')),
    settled_at      timestamptz,
    digest_id       uuid        REFERENCES digests_sent (digest_id),
    CONSTRAINT digest_items_settled_with_a_time CHECK ((outcome IS NULL) = (settled_at IS NULL)),
    CONSTRAINT digest_items_sent_in_a_digest CHECK ((outcome IS NOT DISTINCT FROM 'sent') = (digest_id IS NOT NULL))
);

COMMENT ON TABLE digest_items IS
    'Notifications queued for daily-digest participants; pending while outcome is NULL, then settled, never deleted.';

-- "Who has pending items, and which": the digest's only reads, kept small by leaving settled items out.
CREATE INDEX digest_items_pending ON digest_items (participant_id, queued_at) WHERE outcome IS NULL;
