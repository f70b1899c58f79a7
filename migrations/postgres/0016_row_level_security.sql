-- Row-level security: a second wall behind every workspace query's own `user_id` filter. A
-- statement sees and changes only the rows of the user named by `navis.user_id`, which Navis sets
-- at the start of each transaction from the caller's principal (`set_config(…, true)`: local to
-- the transaction, so a pooled connection never carries one user's id into the next request).
-- Unset (NULL, or '' once a transaction that set it has ended), the policies match no row: a
-- statement run for no one sees no workspace data at all.
--
-- FORCE: the tables' owner is held to the policies too (only superusers and BYPASSRLS roles are
-- not; Navis refuses a configured `--postgres-role` that is either). A later migration that must
-- read or write every user's rows (a backfill) runs as the owner and so has to lift FORCE on the
-- tables it touches, or set `navis.user_id` per user, and restore it.
--
-- Which tables: every table of this schema with a `user_id` column is workspace data, except the
-- ones Navis reads before it knows who is calling, or without a workspace principal at all:
--   web_sessions, api_keys, oauth_grants  found by the digest of a cookie or token (the lookup is
--                                         what tells who the user is);
--   audit_events                          security events, written by sign-in, key and OAuth flows;
--   idempotency_keys                      reserved and settled by the HTTP edge around the call.
-- (users, oauth_clients, oauth_codes, oauth_tokens, server_keys and sign_in_failures have no
-- `user_id` and are auth tables too.) Covered, as of this migration: projects, tasks, comments,
-- activity, notes, tags, task_tags, note_tags, project_tags, events, goals, goal_projects,
-- goal_tasks, search_documents, inbox_items, and any workspace table an earlier migration added
-- (workflows, workflow_runs). The catalogue is walked rather than the tables listed, so that none
-- is forgotten; tests/it/rls.rs fails if any table of the schema is neither guarded nor one of
-- the auth tables named here (so a later workspace table must have a `user_id` and a policy).
--
-- The search index (search_documents) is kept by triggers that run as the statement's role, for
-- the same acting user: its rows are the item's user's, so the policy admits them. Deleting a user
-- still empties their workspace: foreign-key cascades are not subject to row-level security.
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass
        FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
        WHERE c.relnamespace = current_schema()::regnamespace
          AND c.relkind IN ('r', 'p')
          AND c.relname NOT IN ('web_sessions', 'api_keys', 'oauth_grants', 'audit_events', 'idempotency_keys')
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY acting_user ON %s USING (user_id = nullif(current_setting(''navis.user_id'', true), '''')::uuid) '
            'WITH CHECK (user_id = nullif(current_setting(''navis.user_id'', true), '''')::uuid)',
            t
        );
    END LOOP;
END
$$;
