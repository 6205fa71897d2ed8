-- 0006_inbox: the task inbox read model and the checkpoints of projections.
--
-- Everything here is derived from the event log by projections/inbox.py and can be deleted and rebuilt from
-- position 0 at any time. A projection writes its rows and its checkpoint in one transaction, so after a
-- crash the rows always reflect exactly the events up to the stored position.

-- How far each projection has applied the global log (events.global_position).
CREATE TABLE projection_checkpoints (
    name       text        PRIMARY KEY,
    position   bigint      NOT NULL CONSTRAINT projection_checkpoints_position_not_negative CHECK (position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE projection_checkpoints IS
    'Last global position each projection applied, written in the same transaction as its read-model rows.';

-- What a pilot's later events need and do not carry themselves, remembered from its PilotStarted.
-- A table rather than projector memory, so a restarted or rebuilding projector needs no warm-up.
CREATE TABLE inbox_pilots (
    stream_id    text PRIMARY KEY,
    kommunkod    text NOT NULL,
    programme    text NOT NULL,
    template_key text NOT NULL
);

-- One row per task instance of a pilot; participant_id is whoever has the task now.
CREATE TABLE inbox_tasks (
    stream_id        text        NOT NULL,
    task_key         text        NOT NULL,
    participant_id   text        NOT NULL,
    kommunkod        text        NOT NULL,
    programme        text        NOT NULL,
    phase            text        NOT NULL,
    template_key     text        NOT NULL,
    title_sv         text        NOT NULL,
    title_en         text        NOT NULL,
    status           text        NOT NULL CONSTRAINT inbox_tasks_status_known
                                          CHECK (status IN ('open', 'completed', 'closed')),
    opened_at        timestamptz NOT NULL,
    due_at           timestamptz,
    completed_at     timestamptz,
    -- Who the task was delegated from, or who a stand-in stands in for; NULL when the assignee owns it.
    delegated_from   text,
    -- Global position of the last event that changed the row: an older event re-applied is a no-op.
    updated_position bigint      NOT NULL,
    PRIMARY KEY (stream_id, task_key)
);

COMMENT ON TABLE inbox_tasks IS
    'Read model: tasks per participant, projected from the event log by projections/inbox.py. Rebuildable.';

-- "The open tasks of participant P, soonest due first" (and the same for the other statuses), in index order.
CREATE INDEX inbox_tasks_by_participant
    ON inbox_tasks (participant_id, status, due_at NULLS LAST, opened_at);

-- Filters and overviews by municipality and phase, e.g. "everything open in 1861's djupanalys".
CREATE INDEX inbox_tasks_by_municipality_phase ON inbox_tasks (kommunkod, phase, status);
CREATE INDEX inbox_tasks_by_phase ON inbox_tasks (phase, status);
