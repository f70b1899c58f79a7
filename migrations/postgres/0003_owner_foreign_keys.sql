-- Foreign keys on (user_id, id): a task can point only at a project of its own user, a comment only
-- at a task of its own user. The services already filter by user; now the schema refuses the
-- crossing too. (A database holding such a crossing row fails this migration rather than keep it.)

-- The unique constraints the new keys reference replace the plain (user_id, id) indexes.
DROP INDEX projects_user;
ALTER TABLE projects ADD CONSTRAINT projects_user_id_key UNIQUE (user_id, id);
DROP INDEX tasks_user;
ALTER TABLE tasks ADD CONSTRAINT tasks_user_id_key UNIQUE (user_id, id);

ALTER TABLE tasks
    DROP CONSTRAINT tasks_project_id_fkey,
    ADD CONSTRAINT tasks_project_fkey FOREIGN KEY (user_id, project_id) REFERENCES projects(user_id, id) ON DELETE CASCADE;
ALTER TABLE comments
    DROP CONSTRAINT comments_task_id_fkey,
    ADD CONSTRAINT comments_task_fkey FOREIGN KEY (user_id, task_id) REFERENCES tasks(user_id, id) ON DELETE CASCADE;
