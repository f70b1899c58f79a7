-- Foreign keys on (user_id, id): a task can point only at a project of its own user, a comment only
-- at a task of its own user. The services already filter by user; now the schema refuses the
-- crossing too. (A database holding such a crossing row fails this migration rather than keep it.)
--
-- SQLite changes a foreign key by rebuilding the table. This runs in the migrator's transaction
-- with foreign keys on, where DROP TABLE first deletes the rows and so cascades to whatever still
-- references the table: the new tables are built and filled first, the new comments pointing at the
-- new tasks, and each old table is dropped only once nothing references it. Renaming the new tasks
-- table rewrites the comments' reference to it (SQLite 3.26+).

DROP INDEX projects_user;
CREATE UNIQUE INDEX projects_user ON projects(user_id, id);

CREATE TABLE tasks_new (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id   TEXT,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL CHECK (status IN ('backlog', 'todo', 'in_progress', 'in_review', 'done')),
    priority     TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    due_date     TEXT,
    assignee     TEXT,
    completed_at TEXT,
    tags         TEXT NOT NULL DEFAULT '[]',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (user_id, id),
    FOREIGN KEY (user_id, project_id) REFERENCES projects(user_id, id) ON DELETE CASCADE
);
INSERT INTO tasks_new (id, user_id, project_id, title, description, status, priority, due_date, assignee, completed_at, tags, created_at, updated_at)
    SELECT id, user_id, project_id, title, description, status, priority, due_date, assignee, completed_at, tags, created_at, updated_at FROM tasks;

CREATE TABLE comments_new (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    task_id    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    FOREIGN KEY (user_id, task_id) REFERENCES tasks_new(user_id, id) ON DELETE CASCADE
);
INSERT INTO comments_new (id, user_id, task_id, body, created_at) SELECT id, user_id, task_id, body, created_at FROM comments;

DROP TABLE comments;
DROP TABLE tasks;
ALTER TABLE tasks_new RENAME TO tasks;
ALTER TABLE comments_new RENAME TO comments;

-- UNIQUE (user_id, id) replaces the old tasks_user index.
CREATE INDEX tasks_user_project ON tasks(user_id, project_id);
CREATE INDEX tasks_user_due ON tasks(user_id, due_date);
CREATE INDEX comments_task ON comments(user_id, task_id);
