-- OAuth 2.1: registered clients, grants (one per approval), authorization codes, tokens.

-- A key for deriving refresh-token successors (see core::token::mint_derived); one row.
CREATE TABLE server_keys (
    name       TEXT PRIMARY KEY NOT NULL,
    key        BLOB NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE oauth_clients (
    id                         TEXT PRIMARY KEY NOT NULL,
    secret_digest              BLOB,
    name                       TEXT NOT NULL,
    redirect_uris              TEXT NOT NULL,           -- JSON array
    token_endpoint_auth_method TEXT NOT NULL,
    metadata                   TEXT NOT NULL,           -- JSON object echoed to the client
    created_at                 TEXT NOT NULL
);

-- A grant is one approval of a client by a user: Disconnect revokes it and every token under it.
CREATE TABLE oauth_grants (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id    TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    scope        TEXT NOT NULL CHECK (scope IN ('mcp:read', 'mcp:write')),
    resource     TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    last_used_at TEXT
);
CREATE INDEX oauth_grants_user ON oauth_grants(user_id, created_at);
CREATE INDEX oauth_grants_client ON oauth_grants(client_id);

CREATE TABLE oauth_codes (
    id             TEXT PRIMARY KEY NOT NULL,
    digest         BLOB NOT NULL,
    grant_id       TEXT NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    used_at        TEXT
);
CREATE INDEX oauth_codes_grant ON oauth_codes(grant_id);

-- Access and refresh tokens. `id` is the lookup id embedded in the token.
CREATE TABLE oauth_tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    grant_id   TEXT NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
    digest     BLOB NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('mcp:read', 'mcp:write')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,             -- refresh tokens: when it was rotated
    revoked_at TEXT
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens(grant_id);
