-- MCP sessions every instance can serve. The instance a client initialized on holds the rmcp
-- session; the others find it here (by the digest of its id: an id is a handle a client shows,
-- kept like every other secret) and answer its requests without a session of their own, which
-- gives the same answers, as Navis sends nothing on its own initiative. A session belongs to the
-- user whose token first used it (`user_id` NULL until then), ends on DELETE (`ended_at`, seen
-- by every instance) and when unused for the idle time (`last_seen_at`, refreshed at most every
-- half idle time). Not workspace data: read before any workspace principal exists, so outside the
-- row-level security of 0016 (tests/it/rls.rs lists it among the auth tables).
CREATE TABLE mcp_sessions (
    digest       BYTEA PRIMARY KEY,
    user_id      UUID REFERENCES users(id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ
);
-- Reaping: sessions long unused.
CREATE INDEX mcp_sessions_last_seen ON mcp_sessions(last_seen_at);
