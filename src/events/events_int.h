/* Inside the events module: the webhook sink (events/webhook.c), called by
 * the dispatcher like the others. */
#ifndef BW_EVENTS_INT_H
#define BW_EVENTS_INT_H

#include <jansson.h>

#include "events/sink.h"
#include "store/store.h"

#define BW_EVENTS_WEBHOOK_WINDOW 32 /* webhook calls out at once */

/* POSTs each event to the integration its sink (sinks[i]) names, signed (a
 * role token in Bulwark-Signature), through the egress, up to
 * BW_EVENTS_WEBHOOK_WINDOW at once; returns when every one is answered. */
void bw_events_webhook_deliver(struct bw_store *s, const json_t *const *sinks,
                               struct bw_event_out *ev, size_t n);

#endif
