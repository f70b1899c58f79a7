-- OAuth 2.1: registered clients, grants (one per approval), authorization codes, tokens (PostgreSQL).

CREATE TABLE server_keys (
    name       TEXT PRIMARY KEY,
    key        BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE oauth_clients (
    id                         TEXT PRIMARY KEY,
    secret_digest              BYTEA,
    name                       TEXT NOT NULL,
    redirect_uris              JSONB NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL,
    metadata                   JSONB NOT NULL,
    created_at                 TIMESTAMPTZ NOT NULL
);

CREATE TABLE oauth_grants (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id    TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    scope        TEXT NOT NULL CHECK (scope IN ('mcp:read', 'mcp:write')),
    resource     TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX oauth_grants_user ON oauth_grants(user_id, created_at);
CREATE INDEX oauth_grants_client ON oauth_grants(client_id);

CREATE TABLE oauth_codes (
    id             TEXT PRIMARY KEY,
    digest         BYTEA NOT NULL,
    grant_id       UUID NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    used_at        TIMESTAMPTZ
);
CREATE INDEX oauth_codes_grant ON oauth_codes(grant_id);

CREATE TABLE oauth_tokens (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    grant_id   UUID NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
    digest     BYTEA NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('mcp:read', 'mcp:write')),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens(grant_id);
