/* `bulwark scan` (GET /v1/instances/{iid}/data-scan, C13): where the
 * instance's customer data is stored and how much of each class, with a
 * session token of a user who holds SensitiveData.View. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_int.h"

static const char *const params[] = {"since", "since", "until", "until", "limit", "limit", NULL};

static json_int_t num(const json_t *o, const char *a, const char *b)
{
	return json_integer_value(json_object_get(b ? json_object_get(o, a) : o, b ? b : a));
}

/* Text from the server that goes to the terminal: no control characters. */
static const char *safe(const char *s)
{
	for (const char *p = s; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "?";
	return s ? s : "?";
}

static void pii_line(const char *label, const json_t *pii)
{
	printf("  %-22s card %" JSON_INTEGER_FORMAT "  ssn %" JSON_INTEGER_FORMAT
	       "  email %" JSON_INTEGER_FORMAT "  phone %" JSON_INTEGER_FORMAT "\n",
	       label, num(pii, "CARD", NULL), num(pii, "SSN", NULL), num(pii, "EMAIL", NULL),
	       num(pii, "PHONE", NULL));
}

static void show(const json_t *o)
{
	const json_t *at = json_object_get(o, "attributes"), *tr = json_object_get(o, "transcripts");
	const json_t *fl = json_object_get(o, "flow_logs"), *ep = json_object_get(o, "customer_endpoints");
	printf("contacts scanned   %" JSON_INTEGER_FORMAT "%s\n", num(o, "contacts_scanned", NULL),
	       json_is_true(json_object_get(o, "complete")) ? ""
	                                                     : " (the window holds more: narrow it)");
	printf("attributes         in contacts.customer (sealed)\n");
	static const char *const classes[] = {"public", "internal", "sensitive", "restricted"};
	for (int i = 0; i < 4; i++)
		printf("  %-22s %" JSON_INTEGER_FORMAT "\n", classes[i], num(at, "by_class", classes[i]));
	const char *name;
	json_t *per;
	json_object_foreach(json_object_get(at, "names"), name, per)
	{
		const char *cls;
		json_t *n;
		json_object_foreach(per, cls, n)
			printf("    %-40s %-10s %" JSON_INTEGER_FORMAT "\n", safe(name), safe(cls),
			       json_integer_value(n));
	}
	pii_line("PII in shown values", json_object_get(at, "pii_in_visible_values"));
	printf("customer endpoints display_name %" JSON_INTEGER_FORMAT "  email %" JSON_INTEGER_FORMAT
	       "  phone_number %" JSON_INTEGER_FORMAT "  address %" JSON_INTEGER_FORMAT "\n",
	       num(ep, "display_name", NULL), num(ep, "email", NULL), num(ep, "phone_number", NULL),
	       num(ep, "address", NULL));
	printf("transcripts        %" JSON_INTEGER_FORMAT " messages in contact_messages.content "
	       "(sealed), %" JSON_INTEGER_FORMAT " unreadable\n",
	       num(tr, "messages", NULL), num(tr, "unreadable", NULL));
	pii_line("PII", json_object_get(tr, "pii"));
	printf("flow logs          %" JSON_INTEGER_FORMAT " entries in contact_flow_log\n",
	       num(fl, "entries", NULL));
	pii_line("PII", json_object_get(fl, "pii"));
}

static int scan(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (bw_cli__path(p, sizeof(p), "/v1/instances/%s/data-scan", c->instance) ||
	    bw_cli__query(a, params, p, sizeof(p)))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, "GET", p, &o);
	if (rc == BW_CLI_OK && !c->json && json_is_object(o))
		show(o);
	json_decref(o);
	return rc;
}

static const struct bw_cli_opt opts[] = {
    {"since", BW_OPT_VALUE}, {"until", BW_OPT_VALUE}, {"limit", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG}};

static const struct bw_cli_cmd cmds[] = {
    {"", "[--since TIME] [--until TIME] [--limit N]",
     "Reports where the instance's customer data is stored and how much of each\n"
     "class (GET .../data-scan): attributes by class, customer endpoint fields,\n"
     "PII found in stored transcripts and flow logs. Counts only, never a value.\n"
     "Needs SensitiveData.View.\n"
     "  --since TIME   contacts started at or after TIME (RFC 3339)\n"
     "  --until TIME   contacts started at or before TIME\n"
     "  --limit N      the newest N contacts of the window (1 to 1000, default 50)\n",
     opts, 0, BW_NEED_TOKEN | BW_NEED_INSTANCE, scan},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

const struct bw_cli_resource bw_cli_scan_res = {
    "scan", "report where customer data of each class is stored (session token and --instance)",
    cmds, NULL};
