-- Contact flows (K1): a draft per flow, which may be invalid, and its
-- published versions, which are immutable (numbered from 1 per flow).
CREATE TABLE flows (
  id          TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  content     TEXT NOT NULL,               -- the draft document, compact JSON
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (instance_id, name)
) STRICT;

CREATE TABLE flow_versions (
  instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  flow_id      TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
  version      INTEGER NOT NULL CHECK (version >= 1),
  content      TEXT NOT NULL,              -- validated when it was published
  published_by TEXT NOT NULL,              -- the principal's id
  published_at INTEGER NOT NULL,
  PRIMARY KEY (flow_id, version)
) STRICT;
CREATE INDEX flow_versions_instance ON flow_versions(instance_id, flow_id);

-- A published version never changes; it goes only with its flow or instance.
CREATE TRIGGER flow_versions_immutable BEFORE UPDATE ON flow_versions
BEGIN
  SELECT RAISE(ABORT, 'published flow versions are immutable');
END;
