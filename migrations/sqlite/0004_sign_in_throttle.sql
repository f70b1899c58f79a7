-- Sign-in failure counters, shared by every instance on this database (see core::throttle).
-- Keys are digests of a client address or of an email: no address or email in the clear.
CREATE TABLE sign_in_failures (
    key          TEXT PRIMARY KEY NOT NULL,
    failures     INTEGER NOT NULL,
    last_failure TEXT NOT NULL
);
