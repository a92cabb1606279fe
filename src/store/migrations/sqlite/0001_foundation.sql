-- The foundation: platform keys (stored hashed) and a key-value of settings.
CREATE TABLE platform_keys (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  key_hash     BLOB NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER
) STRICT;

CREATE TABLE meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
