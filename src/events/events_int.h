/* Inside the events module: the webhook sink (events/webhook.c), which the
 * dispatcher drives asynchronously. */
#ifndef BW_EVENTS_INT_H
#define BW_EVENTS_INT_H

#include <jansson.h>

#include "events/sink.h"
#include "store/store.h"

#define BW_EVENTS_WEBHOOK_WINDOW 32 /* webhook calls out at once per subscription */

struct bw_webhook;
/* Signs and starts the POST of ev to the integration the sink names; the
 * egress copies what it sends, so ev may go once this returns. NULL with
 * ev->error when nothing went. notify(arg) runs on the loop once the
 * answer is in. */
struct bw_webhook *bw_webhook_start(struct bw_store *s, const json_t *sink,
                                    struct bw_event_out *ev, void (*notify)(void *arg),
                                    void *arg);
/* false while the call is out; true once answered: ev->ok or ev->error set
 * (*shutdown when the server stopped it: not the receiver's fault), w freed. */
bool bw_webhook_poll(struct bw_webhook *w, struct bw_event_out *ev, bool *shutdown);

#endif
