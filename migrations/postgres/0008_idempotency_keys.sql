-- Idempotency-Key on the HTTP API's POSTs: the first response to a key, per user, kept 24 hours
-- so that a retried create returns it instead of creating twice. `fingerprint` is SHA-256 of
-- the operation, path and canonical body (a reused key with another request is refused);
-- `status` and `body` are NULL while the first request is still running.
CREATE TABLE idempotency_keys (
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    fingerprint BYTEA NOT NULL,
    status      INTEGER,
    body        TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
