-- Event subscriptions (C18) and their outbox (src/events/). A subscription's
-- settings (types, filters, fields, sink) are one JSON object that
-- src/events/subs.c reads all or nothing. An event is queued in the
-- transaction that stores what it reports, one row per subscription, its
-- envelope sealed with the instance key (row "<subscription>/<event>",
-- column "payload"), and deleted once its sink has it. A row that ran out
-- of tries stays as a dead letter (dead = 1) until retried or deleted.
CREATE TABLE event_subscriptions (
  id                TEXT PRIMARY KEY,            -- es_...
  instance_id       TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  name              TEXT NOT NULL,
  config            TEXT NOT NULL,               -- JSON: event_types, filters, fields, sink
  enabled           INTEGER NOT NULL,
  created_at        INTEGER NOT NULL,            -- Unix ms
  updated_at        INTEGER NOT NULL,
  delivered         INTEGER NOT NULL DEFAULT 0,  -- events its sink took
  last_delivered_at INTEGER,
  last_error        TEXT,                        -- a sentence; never a secret or content
  last_error_at     INTEGER,
  UNIQUE (instance_id, name)
) STRICT;
CREATE INDEX event_subscriptions_by_instance ON event_subscriptions(instance_id, id);

CREATE TABLE event_outbox (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT NOT NULL,                 -- et_...: the event, the same on every try
  instance_id     TEXT NOT NULL,
  subscription_id TEXT NOT NULL REFERENCES event_subscriptions(id) ON DELETE CASCADE,
  type            TEXT NOT NULL,
  dedup_key       TEXT NOT NULL,
  payload         BLOB NOT NULL,                 -- sealed envelope
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_at         INTEGER NOT NULL,              -- Unix ms: due
  dead            INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  last_attempt_at INTEGER
) STRICT;
CREATE INDEX event_outbox_due ON event_outbox(dead, next_at);
CREATE INDEX event_outbox_by_subscription ON event_outbox(subscription_id, dead, seq);
