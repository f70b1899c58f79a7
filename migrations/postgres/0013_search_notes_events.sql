-- Notes (title, body) and calendar events (title, description) in the search index: one trigger
-- each on the shared search_index function of 0011_goals_search, and the backfill of existing rows.

CREATE TRIGGER notes_search AFTER INSERT OR UPDATE OF title, body OR DELETE ON notes
    FOR EACH ROW EXECUTE FUNCTION search_index('note', 'title', 'body', '');
INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) SELECT user_id, 'note', id, title, body FROM notes;

CREATE TRIGGER events_search AFTER INSERT OR UPDATE OF title, description OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION search_index('event', 'title', 'description', '');
INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) SELECT user_id, 'event', id, title, description FROM events;
