-- Meetings: a task can be a follow-up of an event (`create_follow_ups`). Like `notes.event_id`,
-- no foreign key: the service checks the event is the user's, and `delete_event` unlinks the
-- event's tasks in its transaction (a composite (user_id, event_id) key with ON DELETE SET NULL
-- would null user_id too on SQLite, which has no column list for SET NULL).
ALTER TABLE tasks ADD COLUMN event_id TEXT;
-- get_meeting: the event's follow-up tasks; delete_event: the tasks to unlink.
CREATE INDEX tasks_user_event ON tasks(user_id, event_id) WHERE event_id IS NOT NULL;
