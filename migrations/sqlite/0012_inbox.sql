-- The inbox: things captured to sort out later. An item is open until it is converted into a task,
-- a note or an event (`converted_type` / `converted_id` say which; no foreign key, as the three
-- live in three tables, so the reference outlives a deleted task, note or event) or dismissed.
CREATE TABLE inbox_items (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    text           TEXT NOT NULL,
    source         TEXT,
    status         TEXT NOT NULL CHECK (status IN ('open', 'converted', 'dismissed')),
    converted_type TEXT CHECK (converted_type IN ('task', 'note', 'event')),
    converted_id   TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (user_id, id),
    CHECK ((status = 'converted') = (converted_type IS NOT NULL AND converted_id IS NOT NULL))
);
-- list_inbox: the user's items of one status, newest first.
CREATE INDEX inbox_items_user_status ON inbox_items(user_id, status, id);
