-- 0008_decision_due_mail: a fourth kind of mail, the reminder that a nämnd decision is due.
--
-- A task the nämnd decides (its minutes recorded by the nämndsekreterare) is reminded of as "decision due":
-- the mail names the meeting the decision belongs to rather than a task to finish.

ALTER TABLE notifications_sent DROP CONSTRAINT notifications_sent_kind_check;
ALTER TABLE notifications_sent ADD CONSTRAINT notifications_sent_kind_check
    CHECK (kind IN ('assignment', 'reminder', 'escalation', 'decision_due'));
