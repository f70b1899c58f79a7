-- Notes, and tags as entities of their own that tasks, notes and projects carry.
--
-- Tags: the links (task_tags, note_tags, project_tags) are the truth of which tag an item carries.
-- Each item also keeps the names of its tags in its `tags` column (a JSON array, in the order they
-- were given), written in the same transaction as its links, so that an item reads back with its
-- tags without a join. One link table per kind of item, so that each link has real foreign keys:
-- deleting an item (a task, a note, a project, or a project's tasks with it) or a user deletes its
-- links through them. A tag's name is unique per user whatever its ASCII case (`name_key` is the
-- name with A–Z lower-cased, by Navis; SQLite's lower() does exactly that, for the backfill below).

-- A note: markdown, optionally in a project and about a calendar event.
CREATE TABLE notes (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- No ON DELETE action: deleting a project detaches its notes (delete_project sets project_id
    -- to NULL in its transaction); SET NULL here would null the whole (user_id, project_id) key.
    project_id TEXT,
    -- The calendar event the note is about: a plain nullable column, WITHOUT a foreign key for now.
    -- The events table is being built beside the notes; its migration adds the key (user_id,
    -- event_id) → events(user_id, id), rebuilding this table as 0003 did for tasks.
    event_id   TEXT,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    tags       TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (user_id, id),
    FOREIGN KEY (user_id, project_id) REFERENCES projects(user_id, id)
);
CREATE INDEX notes_user_project ON notes(user_id, project_id);
CREATE INDEX notes_user_event ON notes(user_id, event_id);

CREATE TABLE tags (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    color      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (user_id, id),
    UNIQUE (user_id, name_key)
);

CREATE TABLE task_tags (
    user_id TEXT NOT NULL,
    tag_id  TEXT NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (tag_id, item_id),
    FOREIGN KEY (user_id, tag_id) REFERENCES tags(user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, item_id) REFERENCES tasks(user_id, id) ON DELETE CASCADE
);
CREATE INDEX task_tags_item ON task_tags(user_id, item_id);

CREATE TABLE note_tags (
    user_id TEXT NOT NULL,
    tag_id  TEXT NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (tag_id, item_id),
    FOREIGN KEY (user_id, tag_id) REFERENCES tags(user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, item_id) REFERENCES notes(user_id, id) ON DELETE CASCADE
);
CREATE INDEX note_tags_item ON note_tags(user_id, item_id);

CREATE TABLE project_tags (
    user_id TEXT NOT NULL,
    tag_id  TEXT NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (tag_id, item_id),
    FOREIGN KEY (user_id, tag_id) REFERENCES tags(user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, item_id) REFERENCES projects(user_id, id) ON DELETE CASCADE
);
CREATE INDEX project_tags_item ON project_tags(user_id, item_id);

ALTER TABLE projects ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';

-- The tags already written on tasks become tags (names differing only in case become one, spelled
-- as the first in binary order; grey, `store::DEFAULT_TAG_COLOR`; created with their first task),
-- linked to their tasks, whose arrays are rewritten in the tags' spelling without repeats.
INSERT INTO tags (id, user_id, name, name_key, color, created_at, updated_at)
SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-'
           || substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
       user_id, min(name), name_key, '#6B7280', min(created_at), min(created_at)
FROM (SELECT t.user_id, j.value AS name, lower(j.value) AS name_key, t.created_at FROM tasks t, json_each(t.tags) j)
GROUP BY user_id, name_key;

INSERT OR IGNORE INTO task_tags (user_id, tag_id, item_id)
SELECT t.user_id, g.id, t.id FROM tasks t, json_each(t.tags) j JOIN tags g ON g.user_id = t.user_id AND g.name_key = lower(j.value);

UPDATE tasks SET tags = (
    SELECT json_group_array(name) FROM (
        SELECT g.name FROM json_each(tasks.tags) j JOIN tags g ON g.user_id = tasks.user_id AND g.name_key = lower(j.value)
        GROUP BY g.id ORDER BY min(j.key)
    )
) WHERE tags <> '[]';
