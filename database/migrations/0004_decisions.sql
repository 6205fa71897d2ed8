-- The register of formal decisions (nämnd decisions with § and diarienummer), written in the same
-- transaction as the DecisionRecorded event so the register and the audit record never disagree.
CREATE TABLE decisions (
    decision_event_id          uuid PRIMARY KEY REFERENCES events (event_id),
    stream_id                  text    NOT NULL,
    kommunkod                  text    NOT NULL,
    task_key                   text    NOT NULL,
    organ                      text    NOT NULL,
    meeting_date               date    NOT NULL,
    paragraph                  integer NOT NULL,
    diarienummer               text    NOT NULL,
    justering_due              date    NOT NULL,
    anslag_due                 date    NOT NULL,
    appeal_period_ends_latest  date    NOT NULL
);

CREATE INDEX decisions_by_municipality ON decisions (kommunkod, meeting_date);
