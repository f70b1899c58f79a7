-- list_tasks filtered by status (the common case) walks only that status's tasks, newest first.
CREATE INDEX tasks_user_status ON tasks(user_id, status, id);
