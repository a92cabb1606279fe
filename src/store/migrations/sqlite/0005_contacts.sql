-- Contacts (K6): one row per contact, kept as its record once ENDED; its
-- chat messages and its flow log. Customer data and message text are
-- sealed blobs (bw_seal): the database never holds them in clear.
-- Queues, agents, entry points and flows are named without foreign keys:
-- a record outlives the resources it used.
CREATE TABLE contacts (
  id                TEXT PRIMARY KEY,
  instance_id       TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  channel           TEXT NOT NULL CHECK (channel IN ('CHAT', 'CALLBACK')),
  initiation_method TEXT NOT NULL,
  state             TEXT NOT NULL CHECK (state IN ('INITIATED', 'IN_FLOW', 'QUEUED',
                      'OFFERED', 'CONNECTED', 'AFTER_CONTACT_WORK', 'ENDED')),
  entry_point_id    TEXT,
  flow_id           TEXT,
  flow_version      INTEGER NOT NULL DEFAULT 0,
  queue_id          TEXT,                    -- NULL when never queued
  agent_id          TEXT,                    -- NULL when never connected
  disconnect_reason TEXT,                    -- NULL while live
  initiated_at      INTEGER NOT NULL,        -- Unix ms; the others NULL until reached
  enqueued_at       INTEGER,
  dequeued_at       INTEGER,
  connected_at      INTEGER,
  disconnected_at   INTEGER,
  acw_ended_at      INTEGER,
  updated_at        INTEGER NOT NULL,
  customer          BLOB,                    -- sealed JSON (column "customer")
  token_hash        BLOB UNIQUE,             -- the participant token's hash
  UNIQUE (instance_id, id)
) STRICT;
-- Search is newest first within an instance, optionally by one of these.
CREATE INDEX contacts_initiated ON contacts(instance_id, initiated_at, id);
CREATE INDEX contacts_queue ON contacts(instance_id, queue_id, initiated_at, id);
CREATE INDEX contacts_agent ON contacts(instance_id, agent_id, initiated_at, id);
CREATE INDEX contacts_channel ON contacts(instance_id, channel, initiated_at, id);
-- Start-up ends the contacts left live: few rows among many records.
CREATE INDEX contacts_live ON contacts(state) WHERE state <> 'ENDED';

CREATE TABLE contact_messages (
  id          TEXT NOT NULL UNIQUE,
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  contact_id  TEXT NOT NULL,
  seq         INTEGER NOT NULL CHECK (seq >= 1),
  role        TEXT NOT NULL CHECK (role IN ('SYSTEM', 'AGENT', 'CUSTOMER')),
  sender_id   TEXT,                          -- the agent's user id
  time        INTEGER NOT NULL,              -- Unix ms
  content     BLOB NOT NULL,                 -- sealed text (column "content", row = id)
  PRIMARY KEY (contact_id, seq),
  FOREIGN KEY (instance_id, contact_id) REFERENCES contacts(instance_id, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE contact_flow_log (
  instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  contact_id  TEXT NOT NULL,
  seq         INTEGER NOT NULL CHECK (seq >= 1),
  time        INTEGER NOT NULL,              -- Unix ms
  action_id   TEXT NOT NULL,
  action_type TEXT NOT NULL,
  branch      TEXT NOT NULL,                 -- which way the block went, never a value
  PRIMARY KEY (contact_id, seq),
  FOREIGN KEY (instance_id, contact_id) REFERENCES contacts(instance_id, id) ON DELETE CASCADE
) STRICT;
