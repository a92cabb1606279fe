-- Envelope encryption at rest (C14, docs/internals/keys.md): each
-- instance's key-encryption keys (KEKs, wrapped by a key derived from the
-- platform root key), its data keys (wrapped by a KEK; every sealed value
-- names its data key in its header), rotations that re-wrap the data keys
-- under a new KEK, and a tombstone per instance whose keys were destroyed
-- (crypto-shredding). Nothing here is ever in clear. No foreign key to
-- instances: a KEK is made before its instance's first sealed row and is
-- destroyed before the rows go. Only the keyring's own connections write
-- these tables, with secure_delete on, so a deleted key leaves no bytes.
CREATE TABLE instance_keks (
  instance_id TEXT NOT NULL,
  id          TEXT NOT NULL,                 -- kek_...
  origin      TEXT NOT NULL CHECK (origin IN ('GENERATED', 'IMPORTED')),
  state       TEXT NOT NULL CHECK (state IN ('ACTIVE', 'RETIRING')),
  wrapped     BLOB NOT NULL,                 -- nonce || XChaCha20-Poly1305, AD instance + id
  created_at  INTEGER NOT NULL,              -- Unix ms
  PRIMARY KEY (instance_id, id)
) STRICT;
-- One active KEK per instance: new data keys are wrapped by it.
CREATE UNIQUE INDEX instance_keks_active ON instance_keks(instance_id) WHERE state = 'ACTIVE';

CREATE TABLE data_keys (
  instance_id TEXT NOT NULL,
  id          INTEGER NOT NULL CHECK (id BETWEEN 1 AND 4294967295), -- in the value header
  kek_id      TEXT NOT NULL,                 -- the KEK that wraps it now
  wrapped     BLOB NOT NULL,                 -- AD instance + id + kek_id
  created_at  INTEGER NOT NULL,              -- Unix ms
  PRIMARY KEY (instance_id, id)
) STRICT;
CREATE INDEX data_keys_kek ON data_keys(instance_id, kek_id);

-- A rotation (or an import) re-wraps every data key of the instance under
-- kek_id; the KEKs it replaces stay RETIRING until none wraps a key.
CREATE TABLE key_rotations (
  id          TEXT PRIMARY KEY,              -- kr_...
  instance_id TEXT NOT NULL,
  kek_id      TEXT NOT NULL,
  from_kek_id TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('RUNNING', 'COMPLETED', 'FAILED')),
  total       INTEGER NOT NULL,
  rewrapped   INTEGER NOT NULL DEFAULT 0,
  started_at  INTEGER NOT NULL,              -- Unix ms
  finished_at INTEGER
) STRICT;
CREATE UNIQUE INDEX key_rotations_running ON key_rotations(instance_id) WHERE state = 'RUNNING';
CREATE INDEX key_rotations_instance ON key_rotations(instance_id, started_at);

-- An instance whose keys were destroyed: no key is ever made for it again.
CREATE TABLE key_tombstones (
  instance_id  TEXT PRIMARY KEY,
  destroyed_at INTEGER NOT NULL              -- Unix ms
) STRICT;

-- BYOK: the platform's RSA key to which a customer wraps a KEK for import
-- (one, made on first use), its private half sealed under the root key;
-- and the import tokens handed out with it (hashed, one instance each).
CREATE TABLE key_import_keys (
  id              TEXT PRIMARY KEY,
  public_key      TEXT NOT NULL,             -- PEM SubjectPublicKeyInfo
  bits            INTEGER NOT NULL,
  wrapped_private BLOB NOT NULL,             -- sealed PKCS#8 DER
  created_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE key_import_tokens (
  token_hash    BLOB PRIMARY KEY,            -- BLAKE2b-256 of the token
  instance_id   TEXT NOT NULL,
  import_key_id TEXT NOT NULL,
  expires_at    INTEGER NOT NULL             -- Unix ms
) STRICT;

-- Users' names and e-mail move into one sealed blob (JSON
-- {"first_name","last_name","email"}); the old columns are left empty.
ALTER TABLE users ADD COLUMN pii BLOB;

-- One-time work of the keyring at start: values sealed before this
-- migration (under a key derived from the root key alone) and users' names
-- in clear are sealed again under the instances' data keys.
CREATE TABLE keyring_tasks (
  name TEXT PRIMARY KEY
) STRICT;
INSERT INTO keyring_tasks(name) VALUES ('reseal_legacy');
