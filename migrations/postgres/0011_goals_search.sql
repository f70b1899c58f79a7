-- Goals, their links to projects and tasks, and the full-text search index of the workspace.

CREATE TABLE goals (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('active', 'achieved', 'abandoned')),
    target_date DATE,
    -- Set by hand; shown only while no task counts towards the goal (then progress is derived).
    progress    INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT goals_user_id_key UNIQUE (user_id, id)
);
CREATE INDEX goals_user_status ON goals(user_id, status, id);

-- A link can join only one user's rows, and goes with the goal, the project or the task (its
-- deletion's own statement removes it, through the foreign keys).
CREATE TABLE goal_projects (
    user_id    UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    goal_id    UUID NOT NULL,
    project_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (goal_id, project_id),
    FOREIGN KEY (user_id, goal_id) REFERENCES goals(user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, project_id) REFERENCES projects(user_id, id) ON DELETE CASCADE
);
CREATE INDEX goal_projects_project ON goal_projects(user_id, project_id);

CREATE TABLE goal_tasks (
    user_id    UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    goal_id    UUID NOT NULL,
    task_id    UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (goal_id, task_id),
    FOREIGN KEY (user_id, goal_id) REFERENCES goals(user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, task_id) REFERENCES tasks(user_id, id) ON DELETE CASCADE
);
CREATE INDEX goal_tasks_task ON goal_tasks(user_id, task_id);

-- Text as the index sees it: ASCII punctuation as spaces (so `user@example.com` and `v1.2` are
-- words, as SQLite's unicode61 tokenizer makes them), lower case, common accents removed (as
-- its remove_diacritics does). Queries go through it too.
CREATE FUNCTION search_fold(t TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT translate(
        lower(regexp_replace(t, '[!-/:-@[-`{-~]+', ' ', 'g')),
        'áàâäãåāăąçćčďđéèêëēėęěíìîïīįłñńňóòôöõøōőŕřśšşťúùûüūůűųýÿžźżÁÀÂÄÃÅĀĂĄÇĆČĎĐÉÈÊËĒĖĘĚÍÌÎÏĪĮŁÑŃŇÓÒÔÖÕØŌŐŔŘŚŠŞŤÚÙÛÜŪŮŰŲÝŸŽŹŻ',
        'aaaaaaaaacccddeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzzaaaaaaaaacccddeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz'
    )
$$;

-- The search index: one row per searchable item (doc_type, doc_id), kept in step with its table
-- by that table's trigger below; `document` (title weighted above body) has a GIN index.
-- parent_id is where an item lives (a comment's task). user_id is the item's own.
CREATE TABLE search_documents (
    user_id   UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    doc_type  TEXT NOT NULL,
    doc_id    UUID NOT NULL,
    parent_id UUID,
    title     TEXT NOT NULL,
    body      TEXT NOT NULL,
    document  TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, search_fold(title)), 'A') || setweight(to_tsvector('simple'::regconfig, search_fold(body)), 'B')
    ) STORED,
    PRIMARY KEY (doc_type, doc_id)
);
CREATE INDEX search_documents_document ON search_documents USING GIN (document);
CREATE INDEX search_documents_user ON search_documents(user_id);

-- One trigger function for every searchable table: TG_ARGV is (type, title column, body column,
-- parent column), '' for a column the type does not have.
CREATE FUNCTION search_index() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    item JSONB;
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM search_documents WHERE doc_type = TG_ARGV[0] AND doc_id = OLD.id;
        RETURN NULL;
    END IF;
    item := to_jsonb(NEW);
    INSERT INTO search_documents (user_id, doc_type, doc_id, parent_id, title, body)
    VALUES (NEW.user_id, TG_ARGV[0], NEW.id, (item ->> TG_ARGV[3])::uuid, coalesce(item ->> TG_ARGV[1], ''), coalesce(item ->> TG_ARGV[2], ''))
    ON CONFLICT (doc_type, doc_id) DO UPDATE SET parent_id = EXCLUDED.parent_id, title = EXCLUDED.title, body = EXCLUDED.body;
    RETURN NULL;
END
$$;

-- Each searchable table: its trigger and the backfill of its existing rows.
CREATE TRIGGER projects_search AFTER INSERT OR UPDATE OF name, description OR DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION search_index('project', 'name', 'description', '');
INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) SELECT user_id, 'project', id, name, description FROM projects;

CREATE TRIGGER tasks_search AFTER INSERT OR UPDATE OF title, description OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION search_index('task', 'title', 'description', '');
INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) SELECT user_id, 'task', id, title, description FROM tasks;

-- A comment has no title of its own: its body is what is searched.
CREATE TRIGGER comments_search AFTER INSERT OR UPDATE OF body OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION search_index('comment', '', 'body', 'task_id');
INSERT INTO search_documents (user_id, doc_type, doc_id, parent_id, title, body) SELECT user_id, 'comment', id, task_id, '', body FROM comments;

CREATE TRIGGER goals_search AFTER INSERT OR UPDATE OF title, description OR DELETE ON goals
    FOR EACH ROW EXECUTE FUNCTION search_index('goal', 'title', 'description', '');
