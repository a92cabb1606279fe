-- Encrypted customer input (C15): each instance's integrator RSA public
-- keys, to which a flow encrypts customer input (AWS Encryption SDK
-- messages, src/sec/esdk.c). Public keys only: nothing here is secret.
CREATE TABLE encryption_keys (
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  key_id      TEXT NOT NULL,                  -- [A-Za-z0-9._-]{1,64}, the ESDK key name
  public_key  TEXT NOT NULL,                  -- PEM SubjectPublicKeyInfo, re-encoded
  fingerprint TEXT NOT NULL,                  -- hex SHA-256 of the DER public key
  bits        INTEGER NOT NULL CHECK (bits BETWEEN 2048 AND 4096),
  status      TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DISABLED')),
  created_at  INTEGER NOT NULL,               -- Unix ms
  updated_at  INTEGER NOT NULL,               -- Unix ms
  PRIMARY KEY (instance_id, key_id)
) STRICT;

-- At most two ACTIVE keys per instance (one in use, one rotating in): a
-- third is refused whatever connection writes it (a constraint error, 409).
CREATE TRIGGER encryption_keys_active_insert BEFORE INSERT ON encryption_keys
WHEN NEW.status = 'ACTIVE' AND (SELECT count(*) FROM encryption_keys
  WHERE instance_id = NEW.instance_id AND status = 'ACTIVE') >= 2
BEGIN
  SELECT RAISE(ABORT, 'at most two active encryption keys');
END;

CREATE TRIGGER encryption_keys_active_update BEFORE UPDATE OF status ON encryption_keys
WHEN NEW.status = 'ACTIVE' AND OLD.status <> 'ACTIVE' AND (SELECT count(*) FROM encryption_keys
  WHERE instance_id = NEW.instance_id AND status = 'ACTIVE') >= 2
BEGIN
  SELECT RAISE(ABORT, 'at most two active encryption keys');
END;
