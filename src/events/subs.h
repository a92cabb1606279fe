/* An event subscription's settings (docs/api.md "Event subscriptions"):
 * one canonical JSON object {"event_types","filters","fields","sink"} as the
 * API shows it and the store keeps it, the rule of which events it takes,
 * and its field projection. Pure functions: no store, no I/O. */
#ifndef BW_EVENTS_SUBS_H
#define BW_EVENTS_SUBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "events/events.h"

#define BW_EVENT_FILTER_MAX 32
#define BW_EVENT_FIELDS_MAX 64

/* A new settings object: no type, no filter, all fields, no sink. */
json_t *bw_event_sub_config_new(void);
/* Applies the API body's event_types, filters, fields and sink (those
 * given) over cfg. -1 with *field naming the field and why a sentence;
 * cfg may then be half changed. Other members of body are ignored. */
int bw_event_sub_config_apply(json_t *cfg, const json_t *body, const char **field, char *why,
                              size_t whysz);
/* Whether the stored settings read back whole (the store's text). */
json_t *bw_event_sub_config_load(const char *text);

/* Whether cfg takes e; agent_group is the handling agent's hierarchy group
 * ("" or NULL when none or not looked up). */
bool bw_event_sub_takes(const json_t *cfg, const struct bw_event_src *e, const char *agent_group);
/* Whether judging cfg needs the agent's hierarchy group. */
bool bw_event_sub_needs_group(const json_t *cfg);
/* data with only the fields cfg lists (and the dedup keys); a new
 * reference (the same object when cfg lists none). */
json_t *bw_event_project(const json_t *cfg, const char *type, const json_t *data);

#endif
