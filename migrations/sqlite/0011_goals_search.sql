-- Goals, their links to projects and tasks, and the full-text search index of the workspace.

CREATE TABLE goals (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('active', 'achieved', 'abandoned')),
    target_date TEXT,
    -- Set by hand; shown only while no task counts towards the goal (then progress is derived).
    progress    INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (user_id, id)
);
CREATE INDEX goals_user_status ON goals(user_id, status, id);

-- A link can join only one user's rows, and goes with the goal, the project or the task (its
-- deletion's own statement removes it, through the foreign keys).
CREATE TABLE goal_projects (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    goal_id    TEXT NOT NULL,
    project_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (goal_id, project_id),
    FOREIGN KEY (user_id, goal_id) REFERENCES goals(user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, project_id) REFERENCES projects(user_id, id) ON DELETE CASCADE
);
CREATE INDEX goal_projects_project ON goal_projects(user_id, project_id);

CREATE TABLE goal_tasks (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    goal_id    TEXT NOT NULL,
    task_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (goal_id, task_id),
    FOREIGN KEY (user_id, goal_id) REFERENCES goals(user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, task_id) REFERENCES tasks(user_id, id) ON DELETE CASCADE
);
CREATE INDEX goal_tasks_task ON goal_tasks(user_id, task_id);

-- The search index: one row per searchable item (doc_type, doc_id), kept in step with its table
-- by that table's triggers below, and an FTS5 index over its title and body kept in step with it.
-- parent_id is where an item lives (a comment's task). user_id is the item's own.
CREATE TABLE search_documents (
    seq       INTEGER PRIMARY KEY,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    doc_type  TEXT NOT NULL,
    doc_id    TEXT NOT NULL,
    parent_id TEXT,
    title     TEXT NOT NULL,
    body      TEXT NOT NULL,
    UNIQUE (doc_type, doc_id)
);
CREATE INDEX search_documents_user ON search_documents(user_id);

CREATE VIRTUAL TABLE search_fts USING fts5(
    title, body, content = 'search_documents', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN
    INSERT INTO search_fts (rowid, title, body) VALUES (new.seq, new.title, new.body);
END;
CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN
    INSERT INTO search_fts (search_fts, rowid, title, body) VALUES ('delete', old.seq, old.title, old.body);
END;
CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN
    INSERT INTO search_fts (search_fts, rowid, title, body) VALUES ('delete', old.seq, old.title, old.body);
    INSERT INTO search_fts (rowid, title, body) VALUES (new.seq, new.title, new.body);
END;

-- Each searchable table: three triggers (insert, update of the indexed columns, delete) and the
-- backfill of its existing rows.
CREATE TRIGGER projects_search_ai AFTER INSERT ON projects BEGIN
    INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) VALUES (new.user_id, 'project', new.id, new.name, new.description);
END;
CREATE TRIGGER projects_search_au AFTER UPDATE OF name, description ON projects BEGIN
    UPDATE search_documents SET title = new.name, body = new.description WHERE doc_type = 'project' AND doc_id = new.id;
END;
CREATE TRIGGER projects_search_ad AFTER DELETE ON projects BEGIN
    DELETE FROM search_documents WHERE doc_type = 'project' AND doc_id = old.id;
END;
INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) SELECT user_id, 'project', id, name, description FROM projects;

CREATE TRIGGER tasks_search_ai AFTER INSERT ON tasks BEGIN
    INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) VALUES (new.user_id, 'task', new.id, new.title, new.description);
END;
CREATE TRIGGER tasks_search_au AFTER UPDATE OF title, description ON tasks BEGIN
    UPDATE search_documents SET title = new.title, body = new.description WHERE doc_type = 'task' AND doc_id = new.id;
END;
CREATE TRIGGER tasks_search_ad AFTER DELETE ON tasks BEGIN
    DELETE FROM search_documents WHERE doc_type = 'task' AND doc_id = old.id;
END;
INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) SELECT user_id, 'task', id, title, description FROM tasks;

-- A comment has no title of its own: its body is what is searched.
CREATE TRIGGER comments_search_ai AFTER INSERT ON comments BEGIN
    INSERT INTO search_documents (user_id, doc_type, doc_id, parent_id, title, body) VALUES (new.user_id, 'comment', new.id, new.task_id, '', new.body);
END;
CREATE TRIGGER comments_search_au AFTER UPDATE OF body ON comments BEGIN
    UPDATE search_documents SET body = new.body WHERE doc_type = 'comment' AND doc_id = new.id;
END;
CREATE TRIGGER comments_search_ad AFTER DELETE ON comments BEGIN
    DELETE FROM search_documents WHERE doc_type = 'comment' AND doc_id = old.id;
END;
INSERT INTO search_documents (user_id, doc_type, doc_id, parent_id, title, body) SELECT user_id, 'comment', id, task_id, '', body FROM comments;

CREATE TRIGGER goals_search_ai AFTER INSERT ON goals BEGIN
    INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) VALUES (new.user_id, 'goal', new.id, new.title, new.description);
END;
CREATE TRIGGER goals_search_au AFTER UPDATE OF title, description ON goals BEGIN
    UPDATE search_documents SET title = new.title, body = new.description WHERE doc_type = 'goal' AND doc_id = new.id;
END;
CREATE TRIGGER goals_search_ad AFTER DELETE ON goals BEGIN
    DELETE FROM search_documents WHERE doc_type = 'goal' AND doc_id = old.id;
END;
