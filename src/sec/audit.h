/* The audit trail: events appended by one writer thread with group commit,
 * hash-chained per chain (an instance id or "platform"), each chain's head
 * under a MAC keyed from the root key, so that an edited, removed, reordered
 * or cut record is caught by verification. */
#ifndef BW_AUDIT_H
#define BW_AUDIT_H

#include <jansson.h>

#include "core/result.h"
#include "store/store.h"

#define BW_AUDIT_PLATFORM "platform"

/* Starts the writer on its own store connection. */
BW_MUST_USE bw_result bw_audit_start(const char *db_path, int durability, const uint8_t *root_key);
void bw_audit_stop(void);

/* Fills chain, seq, hashes; returns once the event is committed (durable). */
BW_MUST_USE bw_result bw_audit_append(struct bw_audit_event *ev);

/* Verifies one chain (or every chain when chain is NULL); the report is
 * {"ok","checked","first_bad":null|{"chain","seq","id","reason"}}. */
BW_MUST_USE bw_result bw_audit_verify(struct bw_store *s, const uint8_t *root_key,
                                      const char *chain, json_t **report);

json_t *bw_audit_event_json(const struct bw_audit_event *e);

#endif
