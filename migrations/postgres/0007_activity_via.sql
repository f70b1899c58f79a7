-- Which credential made each workspace change: `api_key:<key id>` or `oauth:<client id>`, so the
-- workspace page can say which key or app did it. Empty for older changes.
ALTER TABLE activity ADD COLUMN via TEXT;
