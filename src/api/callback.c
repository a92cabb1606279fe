/* Callbacks (K4): POST /v1/public/instances/{iid}/callbacks. The number is
 * normalized to E.164 with libphonenumber and must be a line a person
 * answers (fixed or mobile): premium-rate, shared-cost, toll-free and the
 * rest are refused without echoing it. The contact runs its flow at once
 * and waits in a queue for an agent with Contacts.Outbound. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cc/engine.h"
#include "flow/flow.h"
#include "fraud/fraud.h"
#include "store/store.h"

static bool callable(const char *type)
{
	return type && (!strcmp(type, "FIXED_LINE") || !strcmp(type, "MOBILE") ||
	                !strcmp(type, "FIXED_LINE_OR_MOBILE"));
}

void bw_api_callbacks_create(struct bw_ctx *c)
{
	static const char *const fields[] = {"entry_point", "phone_number", "display_name", NULL};
	const char *epid, *number, *name;
	struct bw_instance in = {0};
	struct bw_cc_new_contact n;
	memset(&n, 0, sizeof(n));
	if (bw_api_instance(c, &in) != 0)
		return;
	snprintf(c->audit_instance, sizeof(c->audit_instance), "%s", in.id);
	snprintf(c->audit_name, sizeof(c->audit_name), "customer");
	if (bw_api_public_guard(c, &in) != 0 || bw_api_only(c, fields) ||
	    bw_api_str(c, "entry_point", 1, 64, true, &epid) ||
	    bw_api_str(c, "phone_number", 1, 64, true, &number) ||
	    bw_api_str(c, "display_name", 1, 256, false, &name))
		goto out;
	if (name && !bw_cc_name_ok(name, 64)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "display_name is 1 to 64 characters without control characters",
		               "display_name");
		goto out;
	}
	if (bw_api_contact_prepare(c, &in, epid, "CALLBACK", &n) != 0)
		goto out;
	struct bw_input_rule rule = {.kind = BW_INPUT_PHONE_NUMBER, .region = n.region,
	                             .min = -1, .max = -1};
	struct bw_input_result res;
	if (bw_input_validate(&rule, number, strlen(number), &res) != BW_OK || !res.valid ||
	    !callable(res.number_type)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               res.valid ? "this kind of number cannot be called back (premium rate, "
		                           "shared cost, toll free or another non-personal line)"
		                         : "not a valid phone number",
		               "phone_number");
		goto out;
	}
	snprintf(n.phone_number, sizeof(n.phone_number), "%.20s", res.normalized); /* E.164: ≤ 16 */
	snprintf(n.display_name, sizeof(n.display_name), "%s", name ? name : "");
	struct bw_fraud_id ids[2] = {{BW_FRAUD_NUMBER, ""}, {BW_FRAUD_ADDRESS, ""}};
	snprintf(ids[0].value, sizeof(ids[0].value), "%s", n.phone_number);
	snprintf(ids[1].value, sizeof(ids[1].value), "%s", c->req->peer);
	if (bw_api_contact_seal(&n) != 0) {
		bw_reply_result(c, BW_ERR, NULL, NULL);
		goto out;
	}
	if (bw_api_contact_filter(c, in.id, ids, 2, &n.rec) != 0)
		goto out;
	if (bw_api_contact_start(c, &n, NULL) == 0)
		bw_reply_json(c, 201, json_pack("{s:s}", "contact_id", n.rec.id));
out:
	bw_api_contact_free(&n);
	bw_instance_clear(&in);
}
