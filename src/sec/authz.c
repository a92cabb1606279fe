/* The permission catalog of API.md, in its order; never rename an entry. */
#include "sec/authz.h"

#include <stdlib.h>
#include <string.h>

const struct bw_permission bw_catalog[] = {
	{"Users.View", "Users and permissions"},
	{"Users.Edit", "Users and permissions"},
	{"Users.EditPermission", "Users and permissions"},
	{"SecurityProfiles.View", "Users and permissions"},
	{"SecurityProfiles.Edit", "Users and permissions"},
	{"SecuritySettings.View", "Users and permissions"},
	{"SecuritySettings.Edit", "Users and permissions"},
	{"Queues.View", "Routing"},
	{"Queues.Edit", "Routing"},
	{"RoutingProfiles.View", "Routing"},
	{"RoutingProfiles.Edit", "Routing"},
	{"HoursOfOperation.View", "Routing"},
	{"HoursOfOperation.Edit", "Routing"},
	{"Flows.View", "Flows"},
	{"Flows.Edit", "Flows"},
	{"Flows.Publish", "Flows"},
	{"EntryPoints.View", "Flows"},
	{"EntryPoints.Edit", "Flows"},
	{"Contacts.Handle", "Agent"},
	{"Contacts.Outbound", "Agent"},
	{"Contacts.Transfer", "Agent"},
	{"Contacts.Stop", "Agent"},
	{"ContactSearch.View", "Contacts and data"},
	{"Transcripts.View", "Contacts and data"},
	{"Recordings.Listen", "Contacts and data"},
	{"SensitiveData.View", "Contacts and data"},
	{"Contacts.Delete", "Contacts and data"},
	{"Metrics.RealTime.View", "Metrics"},
	{"Metrics.Historical.View", "Metrics"},
	{"Audit.View", "Security operations"},
	{"Fraud.View", "Security operations"},
	{"Fraud.Edit", "Security operations"},
	{"Secrets.View", "Security operations"},
	{"Secrets.Edit", "Security operations"},
	{"Integrations.View", "Security operations"},
	{"Integrations.Edit", "Security operations"},
	{"Keys.View", "Security operations"},
	{"Keys.Edit", "Security operations"},
	{"Logs.View", "Security operations"},
	{"Alarms.Edit", "Security operations"},
};

const size_t bw_catalog_count = sizeof(bw_catalog) / sizeof(bw_catalog[0]);
_Static_assert(sizeof(bw_catalog) / sizeof(bw_catalog[0]) <= 64, "bw_perms holds 64 bits");

int bw_perm_index(const char *name)
{
	for (size_t i = 0; i < bw_catalog_count; i++)
		if (strcmp(bw_catalog[i].name, name) == 0)
			return (int)i;
	return -1;
}

bw_perms bw_perm_bit(const char *name)
{
	int i = bw_perm_index(name);
	return i < 0 ? 0 : (bw_perms)1 << i;
}

bool bw_perms_grant(bw_perms set, const char *name)
{
	bw_perms bit = bw_perm_bit(name);
	if (!bit)
		return false;
	if (set & bit)
		return true;
	size_t n = strlen(name);
	if (n > 5 && strcmp(name + n - 5, ".View") == 0) {
		char edit[64];
		if (n + 1 > sizeof(edit))
			return false;
		memcpy(edit, name, n - 5);
		memcpy(edit + n - 5, ".Edit", 6);
		return (set & bw_perm_bit(edit)) != 0;
	}
	return false;
}

int bw_perms_from_json(const json_t *arr, bw_perms *out, const char **bad)
{
	*out = 0;
	*bad = NULL;
	if (!json_is_array(arr))
		return -1;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return -1;
		bw_perms bit = bw_perm_bit(json_string_value(v));
		if (!bit || (*out & bit)) {
			*bad = json_string_value(v);
			return -1;
		}
		*out |= bit;
	}
	return 0;
}

bw_perms bw_perms_from_text(const char *text)
{
	bw_perms set = 0;
	json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (json_is_string(v))
			set |= bw_perm_bit(json_string_value(v));
	}
	json_decref(arr);
	return set;
}

json_t *bw_perms_to_json(bw_perms set)
{
	json_t *a = json_array();
	for (size_t i = 0; i < bw_catalog_count; i++)
		if (set & ((bw_perms)1 << i))
			json_array_append_new(a, json_string(bw_catalog[i].name));
	return a;
}

char *bw_perms_to_text(bw_perms set)
{
	json_t *a = bw_perms_to_json(set);
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

json_t *bw_catalog_json(void)
{
	json_t *a = json_array();
	for (size_t i = 0; i < bw_catalog_count; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "name", bw_catalog[i].name, "group",
		                                   bw_catalog[i].group));
	return a;
}

static bw_perms names(const char *const *list)
{
	bw_perms s = 0;
	for (; *list; list++)
		s |= bw_perm_bit(*list);
	return s;
}

static bw_perms group(const char *g)
{
	bw_perms s = 0;
	for (size_t i = 0; i < bw_catalog_count; i++)
		if (strcmp(bw_catalog[i].group, g) == 0)
			s |= (bw_perms)1 << i;
	return s;
}

static bw_perms p_admin(void)
{
	return bw_catalog_count == 64 ? ~(bw_perms)0 : ((bw_perms)1 << bw_catalog_count) - 1;
}

static bw_perms p_agent(void)
{
	static const char *const l[] = {"Contacts.Handle", "Contacts.Outbound", "Contacts.Transfer",
	                                NULL};
	return names(l);
}

static bw_perms p_manager(void)
{
	static const char *const l[] = {"Users.View",         "Users.Edit",
	                                "Users.EditPermission", "ContactSearch.View",
	                                "Transcripts.View",   "Contacts.Handle",
	                                "Contacts.Stop",      NULL};
	return names(l) | group("Routing") | group("Metrics");
}

static bw_perms p_quality(void)
{
	static const char *const l[] = {"ContactSearch.View", "Transcripts.View", "Recordings.Listen",
	                                NULL};
	return names(l) | group("Metrics");
}

const struct bw_default_profile bw_default_profiles[] = {
	{"Admin", "Every permission.", p_admin},
	{"Agent", "Takes contacts.", p_agent},
	{"CallCenterManager", "Users, routing, metrics and contact search.", p_manager},
	{"QualityAnalyst", "Metrics, contact search, transcripts and recordings.", p_quality},
};
const size_t bw_default_profiles_count = sizeof(bw_default_profiles) / sizeof(bw_default_profiles[0]);
