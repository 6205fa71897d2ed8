-- 0012_withdrawal_mail: a fifth kind of mail, telling a participant that their task closed because the
-- municipality withdrew from the programme.

ALTER TABLE notifications_sent DROP CONSTRAINT notifications_sent_kind_check;
ALTER TABLE notifications_sent ADD CONSTRAINT notifications_sent_kind_check
    CHECK (kind IN ('assignment', 'reminder', 'escalation', 'decision_due', 'withdrawn'));

ALTER TABLE digest_items DROP CONSTRAINT digest_items_kind_known;
ALTER TABLE digest_items ADD CONSTRAINT digest_items_kind_known
    CHECK (kind IN ('assignment', 'reminder', 'escalation', 'decision_due', 'withdrawn'));
