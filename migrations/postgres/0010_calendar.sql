-- The calendar: events, and each user's IANA time zone (which "today", working hours and all-day
-- events are read in).
--
-- An event's `start_at` / `end_at` are the instants it occupies; `end_at` is exclusive. An all-day
-- event also keeps its dates (`start_date`, `end_date`, both inclusive): its instants are 00:00 of
-- its first day to 00:00 of the day after its last, in the user's time zone, and are recomputed
-- when that zone changes.

ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

CREATE TABLE events (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    start_at    TIMESTAMPTZ NOT NULL,
    end_at      TIMESTAMPTZ NOT NULL,
    start_date  DATE,
    end_date    DATE,
    location    TEXT,
    attendees   JSONB NOT NULL DEFAULT '[]',
    kind        TEXT NOT NULL CHECK (kind IN ('meeting', 'focus', 'personal', 'other')),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT events_user_id_key UNIQUE (user_id, id),
    CHECK (end_at > start_at),
    CHECK ((start_date IS NULL) = (end_date IS NULL))
);
-- list_events and find_free_time: the user's events by start time.
CREATE INDEX events_user_start ON events(user_id, start_at, id);
