-- Integration credentials (C7, src/integ/): the secrets vault and each
-- instance's Ed25519 signing keys for short-lived role tokens. No value
-- and no private key is ever in clear here: both are sealed (bw_seal) with
-- instance, table, row and column as associated data.

-- A secret by name; its values are versions. `version` is the current one.
CREATE TABLE secrets (
  id          TEXT PRIMARY KEY,                -- sc_...
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,                   -- [A-Za-z0-9._-]{1,64}
  version     INTEGER NOT NULL CHECK (version >= 1),
  created_at  INTEGER NOT NULL,                -- Unix ms
  rotated_at  INTEGER,                         -- Unix ms of the last rotation
  previous_readable_until INTEGER,             -- Unix ms: the grace of version - 1
  UNIQUE (instance_id, name)
) STRICT;

-- Sealed values: row "<secret id>.<version>", column "value". The current
-- version has readable_until NULL; a rotated one is readable by the engine
-- until readable_until and deleted at the next rotation after that.
CREATE TABLE secret_versions (
  secret_id      TEXT NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
  instance_id    TEXT NOT NULL,
  version        INTEGER NOT NULL,
  value          BLOB NOT NULL,
  created_at     INTEGER NOT NULL,             -- Unix ms
  readable_until INTEGER,                      -- Unix ms; NULL while current
  PRIMARY KEY (secret_id, version)
) STRICT;

-- Role signing keys (Ed25519). A key is published (JWKS) from created_at,
-- signs from activates_at, stops signing at retires_at (its successor's
-- activates_at; NULL while it has none) and leaves the JWKS an overlap
-- later. private_key: the sealed 32-byte seed, row = kid.
CREATE TABLE signing_keys (
  instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  kid          TEXT NOT NULL,                  -- RFC 7638 thumbprint of the public JWK
  public_key   BLOB NOT NULL CHECK (length(public_key) = 32),
  private_key  BLOB NOT NULL,
  created_at   INTEGER NOT NULL,               -- Unix ms
  activates_at INTEGER NOT NULL,               -- Unix ms
  retires_at   INTEGER,                        -- Unix ms
  PRIMARY KEY (instance_id, kid)
) STRICT;
CREATE INDEX signing_keys_by_age ON signing_keys(instance_id, created_at);
