-- A kommunalförbund takes part as one pilot without a kommunkod of its own (Sölvesborg-Bromölla: 1083 and
-- 1272); its participants are filed under its members' codes joined by '+'.
ALTER TABLE participants DROP CONSTRAINT participants_kommunkod_four_digits;
ALTER TABLE participants ADD CONSTRAINT participants_kommunkod_pilot_code
    CHECK (kommunkod ~ '^[0-9]{4}(\+[0-9]{4})*$');
