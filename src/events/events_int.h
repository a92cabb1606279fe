/* Inside the events module: the webhook sink (events/webhook.c), called by
 * the dispatcher like the others. */
#ifndef BW_EVENTS_INT_H
#define BW_EVENTS_INT_H

#include <jansson.h>

#include "events/sink.h"
#include "store/store.h"

/* POSTs each event to the integration the sink names, signed (a role
 * token in Bulwark-Signature), through the egress; waits for each. */
void bw_events_webhook_deliver(struct bw_store *s, const json_t *sink, struct bw_event_out *ev,
                               size_t n);

#endif
