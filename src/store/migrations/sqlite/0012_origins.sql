-- The use of an instance's approved origins (C17): when a public request
-- last came from each, so that GET .../approved-origins?unused_for= can
-- report the ones nothing uses. first_seen_at: when the list was first read
-- with it (the clock of an origin never used).
CREATE TABLE origin_uses (
  instance_id   TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  origin        TEXT NOT NULL,
  first_seen_at INTEGER NOT NULL,  -- Unix ms
  last_used_at  INTEGER,           -- Unix ms; NULL: never
  PRIMARY KEY (instance_id, origin)
) STRICT, WITHOUT ROWID;
