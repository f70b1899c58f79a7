-- MCP sessions every instance can serve. The instance a client initialized on holds the rmcp
-- session; the others find it here (by the digest of its id: an id is a handle a client shows,
-- kept like every other secret) and answer its requests without a session of their own, which
-- gives the same answers, as Navis sends nothing on its own initiative. A session belongs to the
-- user whose token first used it (`user_id` NULL until then), ends on DELETE (`ended_at`, seen
-- by every instance) and when unused for the idle time (`last_seen_at`, refreshed at most every
-- half idle time). Not workspace data: read before any workspace principal exists.
CREATE TABLE mcp_sessions (
    digest       BLOB PRIMARY KEY NOT NULL,
    user_id      TEXT REFERENCES users(id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT
);
-- Reaping: sessions long unused.
CREATE INDEX mcp_sessions_last_seen ON mcp_sessions(last_seen_at);
