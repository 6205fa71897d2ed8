-- 0016_programme_people: people of a whole programme, and each participant's line manager.
--
-- A programme lead sits at SKR or at the region, not in a municipality, and leads every pilot of a programme
-- round; the region's school support group serves both its pilots. Such a person belongs to a programme (the
-- programme id of the pilots, e.g. 'lfr-skola-2015') instead of a municipality: exactly one of the two is set.
-- manager_id names the participant an overdue task of theirs escalates to, where it is not the one their role
-- suggests (a kommundirektör for a förvaltningschef, a förvaltningschef for a rektor).

ALTER TABLE participants ALTER COLUMN kommunkod DROP NOT NULL;
ALTER TABLE participants ADD COLUMN programme text
    CONSTRAINT participants_programme_format CHECK (programme ~ '^[a-z0-9][a-z0-9-]{0,40}$');
ALTER TABLE participants ADD CONSTRAINT participants_of_a_municipality_or_a_programme
    CHECK ((kommunkod IS NULL) <> (programme IS NULL));
ALTER TABLE participants ADD COLUMN manager_id text
    CONSTRAINT participants_manager_is_someone_else CHECK (manager_id <> participant_id);

-- Serves "who serves programme P in role R", as the municipality index serves "who holds R in K".
CREATE INDEX participants_programme_role ON participants (programme, role) WHERE programme IS NOT NULL;
