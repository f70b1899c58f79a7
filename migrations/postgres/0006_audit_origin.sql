-- Where a security event came from, as the server saw it: the client's address and its
-- browser family ("Chrome on Linux", never the whole User-Agent). Empty for older events and
-- for events no request caused.
ALTER TABLE audit_events ADD COLUMN ip TEXT;
ALTER TABLE audit_events ADD COLUMN client TEXT;
