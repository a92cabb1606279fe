-- Routing: hours of operation, queues, routing profiles, entry points.
-- Every row carries instance_id, and every reference between them is a
-- composite (instance_id, id) foreign key, so a row can only point within
-- its own instance. References without ON DELETE CASCADE make a delete of
-- something still in use fail (the store checks first and answers 409).
CREATE TABLE hours_of_operation (
  id          TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  time_zone   TEXT NOT NULL,               -- IANA name, checked against zoneinfo
  config      TEXT NOT NULL,               -- JSON [{"day","start","end"}], validated
  holidays    TEXT NOT NULL DEFAULT '[]',  -- JSON [{"date","name"?}], validated
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (instance_id, name),
  UNIQUE (instance_id, id)
) STRICT;

CREATE TABLE queues (
  id                    TEXT PRIMARY KEY,
  instance_id           TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  name                  TEXT NOT NULL,
  description           TEXT NOT NULL DEFAULT '',
  hours_of_operation_id TEXT NOT NULL,
  max_contacts          INTEGER NOT NULL,
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  UNIQUE (instance_id, name),
  UNIQUE (instance_id, id),
  FOREIGN KEY (instance_id, hours_of_operation_id) REFERENCES hours_of_operation(instance_id, id)
) STRICT;
CREATE INDEX queues_hours ON queues(instance_id, hours_of_operation_id);

CREATE TABLE routing_profiles (
  id          TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  chat        INTEGER NOT NULL,              -- concurrency per channel
  callback    INTEGER NOT NULL,
  voice       INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (instance_id, name),
  UNIQUE (instance_id, id)
) STRICT;

CREATE TABLE routing_profile_queues (
  instance_id        TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  routing_profile_id TEXT NOT NULL,
  queue_id           TEXT NOT NULL,
  position           INTEGER NOT NULL,       -- order as given
  priority           INTEGER NOT NULL,
  delay_s            INTEGER NOT NULL,
  PRIMARY KEY (routing_profile_id, queue_id),
  FOREIGN KEY (instance_id, routing_profile_id) REFERENCES routing_profiles(instance_id, id)
    ON DELETE CASCADE,
  FOREIGN KEY (instance_id, queue_id) REFERENCES queues(instance_id, id)
) STRICT;
CREATE INDEX routing_profile_queues_queue ON routing_profile_queues(instance_id, queue_id);

-- flow_id is checked by the store when a flows table exists (0004); no
-- foreign key, so this migration does not depend on that one.
CREATE TABLE entry_points (
  id             TEXT PRIMARY KEY,
  instance_id    TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  type           TEXT NOT NULL CHECK (type IN ('CHAT', 'CALLBACK', 'VOICE')),
  flow_id        TEXT NOT NULL,
  default_region TEXT,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  UNIQUE (instance_id, name)
) STRICT;

-- A user's routing_profile_id (0002, unchecked until now) names a routing
-- profile of the user's instance. None existed before this migration, so
-- any value set so far is dangling: clear it. The triggers hold the rule
-- inside the writing transaction, so a user update racing a profile delete
-- cannot leave a dangling id.
UPDATE users SET routing_profile_id = NULL WHERE routing_profile_id IS NOT NULL;
CREATE INDEX users_routing_profile ON users(instance_id, routing_profile_id);

CREATE TRIGGER users_routing_profile_insert BEFORE INSERT ON users
WHEN NEW.routing_profile_id IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM routing_profiles WHERE instance_id = NEW.instance_id AND id = NEW.routing_profile_id)
BEGIN SELECT RAISE(ABORT, 'no such routing profile'); END;

CREATE TRIGGER users_routing_profile_update BEFORE UPDATE OF routing_profile_id ON users
WHEN NEW.routing_profile_id IS NOT NULL AND NEW.routing_profile_id IS NOT OLD.routing_profile_id
  AND NOT EXISTS (
  SELECT 1 FROM routing_profiles WHERE instance_id = NEW.instance_id AND id = NEW.routing_profile_id)
BEGIN SELECT RAISE(ABORT, 'no such routing profile'); END;
