-- Workflows: named, ordered lists of steps (create_task, update_task, create_note) run by hand,
-- and the record of each run. `steps` is the workflow's steps as JSON (the service's
-- `WorkflowStep`s), checked when they are saved; a run's `steps` is each step's outcome.
CREATE TABLE workflows (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    steps       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (user_id, id)
);
-- list_workflows: the user's workflows, newest first.
CREATE INDEX workflows_user ON workflows(user_id, id);

-- A run belongs to its workflow's user (the composite key makes a run of another user's
-- workflow impossible) and goes with the workflow. `failed_step` is 1-based, NULL when it succeeded.
CREATE TABLE workflow_runs (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workflow_id TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
    failed_step INTEGER,
    summary     TEXT NOT NULL,
    input       TEXT NOT NULL DEFAULT '{}',
    steps       TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    UNIQUE (user_id, id),
    FOREIGN KEY (user_id, workflow_id) REFERENCES workflows(user_id, id) ON DELETE CASCADE,
    CHECK ((status = 'failed') = (failed_step IS NOT NULL))
);
-- list_workflow_runs: one workflow's runs, newest first.
CREATE INDEX workflow_runs_workflow ON workflow_runs(user_id, workflow_id, id);
