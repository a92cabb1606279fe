-- The integrations registry (C17, src/integ/): the outbound HTTP targets an
-- instance may reach. Settings other than name and base URL are one JSON
-- object (src/integ/integ.c reads it all or nothing); a secret is named,
-- never held. last_called_at says when something last called through it,
-- for ?unused_for= (NULL: never).
CREATE TABLE integrations (
  id             TEXT PRIMARY KEY,               -- ig_...
  instance_id    TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  base_url       TEXT NOT NULL,                  -- canonical, checked at every write
  config         TEXT NOT NULL,                  -- JSON: methods, prefixes, timeout, cap, auth, ranges
  created_at     INTEGER NOT NULL,               -- Unix ms
  updated_at     INTEGER NOT NULL,               -- Unix ms
  last_called_at INTEGER,                        -- Unix ms
  UNIQUE (instance_id, name)
) STRICT;
CREATE INDEX integrations_by_instance ON integrations(instance_id, id);
