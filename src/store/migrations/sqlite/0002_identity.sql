-- Identity and access: instances, security profiles, users, sessions,
-- login throttling, MFA recovery codes, and the hash-chained audit trail.
-- Every row of instance data carries instance_id.
CREATE TABLE instances (
  id             TEXT PRIMARY KEY,
  alias          TEXT NOT NULL UNIQUE,
  default_region TEXT NOT NULL,
  settings       TEXT NOT NULL,           -- security settings, JSON
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE security_profiles (
  id          TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  permissions TEXT NOT NULL,               -- JSON array of catalog names
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (instance_id, name)
) STRICT;

CREATE TABLE users (
  id                 TEXT PRIMARY KEY,
  instance_id        TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  username           TEXT NOT NULL,
  password_hash      TEXT,
  first_name         TEXT NOT NULL DEFAULT '',
  last_name          TEXT NOT NULL DEFAULT '',
  email              TEXT,
  routing_profile_id TEXT,
  hierarchy_group    TEXT,
  status             TEXT NOT NULL DEFAULT 'Offline',
  disabled           INTEGER NOT NULL DEFAULT 0,
  mfa_secret         BLOB,                 -- sealed with the instance key
  mfa_enabled        INTEGER NOT NULL DEFAULT 0,
  mfa_last_step      INTEGER NOT NULL DEFAULT 0,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  UNIQUE (instance_id, username)
) STRICT;

CREATE TABLE user_profiles (
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  profile_id  TEXT NOT NULL REFERENCES security_profiles(id),
  PRIMARY KEY (user_id, profile_id)
) STRICT;
CREATE INDEX user_profiles_profile ON user_profiles(profile_id);

CREATE TABLE recovery_codes (
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash   BLOB NOT NULL,
  used_at     INTEGER,
  PRIMARY KEY (user_id, code_hash)
) STRICT;

CREATE TABLE sessions (
  id           TEXT PRIMARY KEY,
  instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash   BLOB NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  source_ip    TEXT NOT NULL DEFAULT '',
  user_agent   TEXT NOT NULL DEFAULT '',
  mfa_pending  INTEGER NOT NULL DEFAULT 0,
  revoked_at   INTEGER
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);

-- Failed logins, by "u:<instance>:<username>" and "a:<instance>:<address>".
CREATE TABLE login_failures (
  key          TEXT PRIMARY KEY,
  failures     INTEGER NOT NULL,
  locked_until INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) STRICT;

-- The audit trail: append-only, hash-chained per chain (an instance id, or
-- "platform"); audit_heads holds each chain's last hash under a MAC keyed by
-- the root key, so a cut tail is caught.
CREATE TABLE audit_events (
  chain          TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  id             TEXT NOT NULL UNIQUE,
  time           TEXT NOT NULL,
  instance_id    TEXT,
  principal_kind TEXT NOT NULL,
  principal_id   TEXT NOT NULL,
  principal_name TEXT NOT NULL,
  action         TEXT NOT NULL,
  resource       TEXT NOT NULL,
  source_ip      TEXT NOT NULL,
  user_agent     TEXT NOT NULL,
  result         TEXT NOT NULL,
  status         INTEGER NOT NULL,
  error_code     TEXT,
  request_id     TEXT NOT NULL,
  prev_hash      BLOB NOT NULL,
  hash           BLOB NOT NULL,
  PRIMARY KEY (chain, seq)
) STRICT;
CREATE INDEX audit_instance_time ON audit_events(instance_id, time);

CREATE TABLE audit_heads (
  chain TEXT PRIMARY KEY,
  seq   INTEGER NOT NULL,
  hash  BLOB NOT NULL,
  mac   BLOB NOT NULL
) STRICT;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
