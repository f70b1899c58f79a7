-- Notes (title, body) and calendar events (title, description) in the search index: three
-- triggers each, as for the types in 0011_goals_search, and the backfill of existing rows.

CREATE TRIGGER notes_search_ai AFTER INSERT ON notes BEGIN
    INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) VALUES (new.user_id, 'note', new.id, new.title, new.body);
END;
CREATE TRIGGER notes_search_au AFTER UPDATE OF title, body ON notes BEGIN
    UPDATE search_documents SET title = new.title, body = new.body WHERE doc_type = 'note' AND doc_id = new.id;
END;
CREATE TRIGGER notes_search_ad AFTER DELETE ON notes BEGIN
    DELETE FROM search_documents WHERE doc_type = 'note' AND doc_id = old.id;
END;
INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) SELECT user_id, 'note', id, title, body FROM notes;

CREATE TRIGGER events_search_ai AFTER INSERT ON events BEGIN
    INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) VALUES (new.user_id, 'event', new.id, new.title, new.description);
END;
CREATE TRIGGER events_search_au AFTER UPDATE OF title, description ON events BEGIN
    UPDATE search_documents SET title = new.title, body = new.description WHERE doc_type = 'event' AND doc_id = new.id;
END;
CREATE TRIGGER events_search_ad AFTER DELETE ON events BEGIN
    DELETE FROM search_documents WHERE doc_type = 'event' AND doc_id = old.id;
END;
INSERT INTO search_documents (user_id, doc_type, doc_id, title, body) SELECT user_id, 'event', id, title, description FROM events;
