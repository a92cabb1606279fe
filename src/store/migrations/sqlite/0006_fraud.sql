-- Fraud and abuse protection (C10): each instance's deny list, the history
-- of accepted contacts the contact filter's windows count (so a restart
-- forgets no window), and each instance's filter configuration.
CREATE TABLE deny_list (
  id          TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  type        TEXT NOT NULL CHECK (type IN ('IP', 'NUMBER', 'EMAIL')),
  value       TEXT NOT NULL,                 -- normalized (bw_fraud_deny_value)
  reason      TEXT,                          -- NULL when none
  source      TEXT NOT NULL CHECK (source IN ('MANUAL', 'AUTOMATIC')),
  expires_at  INTEGER,                       -- Unix ms; NULL: never
  created_at  INTEGER NOT NULL,              -- Unix ms
  UNIQUE (instance_id, type, value)
) STRICT;
-- Lists page by id within an instance; purges look for expired rows.
CREATE INDEX deny_list_instance ON deny_list(instance_id, id);
CREATE INDEX deny_list_expires ON deny_list(expires_at) WHERE expires_at IS NOT NULL;

-- One row per identifier of an accepted contact, under its hashed key
-- (bw_guard_key): never the raw address, number or e-mail.
CREATE TABLE contact_history (
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  kind        INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 2), -- enum bw_fraud_kind
  key         TEXT NOT NULL,                 -- 32 hex
  at          INTEGER NOT NULL               -- Unix ms
) STRICT;
-- Start-up reads the last day oldest first, and purges cut by time; the
-- instance index serves the cascade of an instance's deletion.
CREATE INDEX contact_history_at ON contact_history(at);
CREATE INDEX contact_history_instance ON contact_history(instance_id);

-- The contact filter's JSON text (docs/api.md shape); no row: the defaults.
CREATE TABLE contact_filters (
  instance_id TEXT PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
  config      TEXT NOT NULL
) STRICT;
