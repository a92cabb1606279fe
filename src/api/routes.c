/* The route table: the only way in. Every row names its method, path, the
 * kinds of principal it admits (0: no credential), its permission (PUBLIC,
 * Platform, Authenticated, or a catalog permission), handler, flags, and
 * audit action. A test lists this table and drives every row. */
#include "api/api.h"
#include "cc/engine.h"

#define PLAT BW_KIND(BW_P_PLATFORM)
#define USER BW_KIND(BW_P_USER)
#define BODY BW_ROUTE_BODY
#define AREAD BW_ROUTE_AUDIT_READ
#define MFA BW_ROUTE_MFA_SETUP
#define I "/v1/instances/{iid}"
#define R(m, p, k, perm, h, f, action) {m, p, k, perm, h, f, NULL, action}

const struct bw_route bw_routes[] = {
	R("GET", "/healthz", 0, BW_PERM_PUBLIC, bw_api_healthz, BW_ROUTE_INLINE, NULL),
	R("GET", "/readyz", 0, BW_PERM_PUBLIC, bw_api_readyz, 0, NULL),
	R("GET", "/metrics", 0, BW_PERM_PUBLIC, bw_api_metrics, BW_ROUTE_ADMIN | BW_ROUTE_INLINE,
	  NULL),

	/* platform */
	R("POST", "/v1/platform-keys", PLAT, BW_PERM_PLATFORM, bw_api_platform_keys_create, BODY,
	  "platform_keys.create"),
	R("GET", "/v1/platform-keys", PLAT, BW_PERM_PLATFORM, bw_api_platform_keys_list, 0,
	  "platform_keys.list"),
	R("DELETE", "/v1/platform-keys/{id}", PLAT, BW_PERM_PLATFORM, bw_api_platform_keys_delete, 0,
	  "platform_keys.delete"),
	R("POST", "/v1/instances", PLAT, BW_PERM_PLATFORM, bw_api_instances_create, BODY,
	  "instances.create"),
	R("GET", "/v1/instances", PLAT, BW_PERM_PLATFORM, bw_api_instances_list, 0, "instances.list"),
	R("GET", I, PLAT, BW_PERM_PLATFORM, bw_api_instances_get, 0, "instances.get"),
	R("PATCH", I, PLAT, BW_PERM_PLATFORM, bw_api_instances_update, BODY, "instances.update"),
	R("DELETE", I, PLAT, BW_PERM_PLATFORM, bw_api_instances_delete, 0, "instances.delete"),
	R("GET", "/v1/audit-events", PLAT, BW_PERM_PLATFORM, bw_api_audit_list, AREAD,
	  "audit_events.list"),
	R("GET", "/v1/audit-events/verify", PLAT, BW_PERM_PLATFORM, bw_api_audit_verify, AREAD,
	  "audit_events.verify"),
	{"GET", "/v1/events", PLAT, BW_PERM_PLATFORM, bw_api_events_upgrade, BW_ROUTE_WS,
	 &bw_api_events_ws, "events.connect"},

	/* either persona */
	R("GET", "/v1/permissions", PLAT | USER, BW_PERM_AUTHENTICATED, bw_api_permissions_list, 0,
	  "permissions.list"),
	R("GET", I "/security-settings", PLAT | USER, "SecuritySettings.View",
	  bw_api_security_settings_get, 0, "security_settings.get"),
	R("PATCH", I "/security-settings", PLAT | USER, "SecuritySettings.Edit",
	  bw_api_security_settings_update, BODY, "security_settings.update"),
	R("GET", I "/approved-origins", PLAT | USER, "SecuritySettings.View", bw_api_origins_list,
	  0, "approved_origins.list"),

	/* instance users: authentication */
	R("POST", I "/auth/login", 0, BW_PERM_PUBLIC, bw_api_login, BODY, "auth.login"),
	R("POST", I "/auth/logout", USER, BW_PERM_AUTHENTICATED, bw_api_logout, MFA, "auth.logout"),
	R("GET", "/v1/me", USER, BW_PERM_AUTHENTICATED, bw_api_me, MFA, "me.get"),
	R("PUT", "/v1/me/status", USER, BW_PERM_AUTHENTICATED, bw_api_me_status, BODY, "me.status"),
	R("GET", "/v1/me/sessions", USER, BW_PERM_AUTHENTICATED, bw_api_me_sessions, 0,
	  "sessions.list"),
	R("DELETE", "/v1/me/sessions/{sid}", USER, BW_PERM_AUTHENTICATED, bw_api_me_session_revoke,
	  0, "sessions.revoke"),

	/* security profiles and users */
	R("POST", I "/security-profiles", USER, "SecurityProfiles.Edit", bw_api_profiles_create,
	  BODY, "security_profiles.create"),
	R("GET", I "/security-profiles", USER, "SecurityProfiles.View", bw_api_profiles_list, 0,
	  "security_profiles.list"),
	R("GET", I "/security-profiles/{pid}", USER, "SecurityProfiles.View", bw_api_profiles_get, 0,
	  "security_profiles.get"),
	R("PATCH", I "/security-profiles/{pid}", USER, "SecurityProfiles.Edit",
	  bw_api_profiles_update, BODY, "security_profiles.update"),
	R("DELETE", I "/security-profiles/{pid}", USER, "SecurityProfiles.Edit",
	  bw_api_profiles_delete, 0, "security_profiles.delete"),
	R("POST", I "/users", USER, "Users.Edit", bw_api_users_create, BODY, "users.create"),
	R("GET", I "/users", USER, "Users.View", bw_api_users_list, 0, "users.list"),
	R("GET", I "/users/{uid}", USER, "Users.View", bw_api_users_get, 0, "users.get"),
	R("PATCH", I "/users/{uid}", USER, "Users.Edit", bw_api_users_update, BODY, "users.update"),
	R("DELETE", I "/users/{uid}", USER, "Users.Edit", bw_api_users_delete, 0, "users.delete"),
	R("POST", I "/users/{uid}/mfa/totp", USER, BW_PERM_AUTHENTICATED, bw_api_mfa_enroll, MFA,
	  "mfa.enroll"),
	R("POST", I "/users/{uid}/mfa/totp/verify", USER, BW_PERM_AUTHENTICATED, bw_api_mfa_verify,
	  BODY | MFA, "mfa.verify"),
	R("DELETE", I "/users/{uid}/mfa", USER, "Users.Edit", bw_api_mfa_reset, 0, "mfa.reset"),

	/* the instance's audit trail */
	R("GET", I "/audit-events", USER, "Audit.View", bw_api_audit_list, AREAD,
	  "audit_events.list"),
	R("GET", I "/audit-events/verify", USER, "Audit.View", bw_api_audit_verify, AREAD,
	  "audit_events.verify"),

	/* routing */
#define HOO I "/hours-of-operation"
	R("POST", HOO, USER, "HoursOfOperation.Edit", bw_api_hours_create, BODY,
	  "hours_of_operation.create"),
	R("GET", HOO, USER, "HoursOfOperation.View", bw_api_hours_list, 0, "hours_of_operation.list"),
	R("GET", HOO "/{hid}", USER, "HoursOfOperation.View", bw_api_hours_get, 0,
	  "hours_of_operation.get"),
	R("PATCH", HOO "/{hid}", USER, "HoursOfOperation.Edit", bw_api_hours_update, BODY,
	  "hours_of_operation.update"),
	R("DELETE", HOO "/{hid}", USER, "HoursOfOperation.Edit", bw_api_hours_delete, 0,
	  "hours_of_operation.delete"),
	R("GET", HOO "/{hid}/status", USER, "HoursOfOperation.View", bw_api_hours_status, 0,
	  "hours_of_operation.status"),
	R("POST", I "/queues", USER, "Queues.Edit", bw_api_queues_create, BODY, "queues.create"),
	R("GET", I "/queues", USER, "Queues.View", bw_api_queues_list, 0, "queues.list"),
	R("GET", I "/queues/{qid}", USER, "Queues.View", bw_api_queues_get, 0, "queues.get"),
	R("PATCH", I "/queues/{qid}", USER, "Queues.Edit", bw_api_queues_update, BODY,
	  "queues.update"),
	R("DELETE", I "/queues/{qid}", USER, "Queues.Edit", bw_api_queues_delete, 0,
	  "queues.delete"),
	R("POST", I "/routing-profiles", USER, "RoutingProfiles.Edit", bw_api_rp_create, BODY,
	  "routing_profiles.create"),
	R("GET", I "/routing-profiles", USER, "RoutingProfiles.View", bw_api_rp_list, 0,
	  "routing_profiles.list"),
	R("GET", I "/routing-profiles/{rpid}", USER, "RoutingProfiles.View", bw_api_rp_get, 0,
	  "routing_profiles.get"),
	R("PATCH", I "/routing-profiles/{rpid}", USER, "RoutingProfiles.Edit", bw_api_rp_update,
	  BODY, "routing_profiles.update"),
	R("DELETE", I "/routing-profiles/{rpid}", USER, "RoutingProfiles.Edit", bw_api_rp_delete, 0,
	  "routing_profiles.delete"),
	R("POST", I "/entry-points", USER, "EntryPoints.Edit", bw_api_ep_create, BODY,
	  "entry_points.create"),
	R("GET", I "/entry-points", USER, "EntryPoints.View", bw_api_ep_list, 0,
	  "entry_points.list"),
	R("GET", I "/entry-points/{epid}", USER, "EntryPoints.View", bw_api_ep_get, 0,
	  "entry_points.get"),
	R("PATCH", I "/entry-points/{epid}", USER, "EntryPoints.Edit", bw_api_ep_update, BODY,
	  "entry_points.update"),
	R("DELETE", I "/entry-points/{epid}", USER, "EntryPoints.Edit", bw_api_ep_delete, 0,
	  "entry_points.delete"),
#undef HOO
	/* end routing */

	/* flows */
#define FL I "/flows"
	R("POST", FL, USER, "Flows.Edit", bw_api_flows_create, BODY, "flows.create"),
	R("GET", FL, USER, "Flows.View", bw_api_flows_list, 0, "flows.list"),
	/* Before {fid}: the router takes the first row whose path and method match. */
	R("POST", FL "/validate-input", USER, "Flows.View", bw_api_flows_validate_input, BODY,
	  "flows.validate_input"),
	R("GET", FL "/{fid}", USER, "Flows.View", bw_api_flows_get, 0, "flows.get"),
	R("PATCH", FL "/{fid}", USER, "Flows.Edit", bw_api_flows_update, BODY, "flows.update"),
	R("DELETE", FL "/{fid}", USER, "Flows.Edit", bw_api_flows_delete, 0, "flows.delete"),
	R("POST", FL "/{fid}/publish", USER, "Flows.Publish", bw_api_flows_publish, 0,
	  "flows.publish"),
	R("GET", FL "/{fid}/versions", USER, "Flows.View", bw_api_flow_versions_list, 0,
	  "flow_versions.list"),
	R("GET", FL "/{fid}/versions/{n}", USER, "Flows.View", bw_api_flow_versions_get, 0,
	  "flow_versions.get"),
#undef FL
	/* end flows */

	/* integrations (C17) */
#define IG I "/integrations"
	R("POST", IG, USER, "Integrations.Edit", bw_api_integrations_create, BODY,
	  "integrations.create"),
	R("GET", IG, USER, "Integrations.View", bw_api_integrations_list, 0, "integrations.list"),
	R("GET", IG "/{intid}", USER, "Integrations.View", bw_api_integrations_get, 0,
	  "integrations.get"),
	R("PATCH", IG "/{intid}", USER, "Integrations.Edit", bw_api_integrations_update, BODY,
	  "integrations.update"),
	R("DELETE", IG "/{intid}", USER, "Integrations.Edit", bw_api_integrations_delete, 0,
	  "integrations.delete"),
	R("POST", IG "/{intid}/test", USER, "Integrations.Edit", bw_api_integrations_test, BODY,
	  "integrations.test"),
#undef IG
	/* end integrations */

	/* event subscriptions (C18) */
#define ES I "/event-subscriptions"
	R("POST", ES, USER, "Integrations.Edit", bw_api_event_subs_create, BODY,
	  "event_subscriptions.create"),
	R("GET", ES, USER, "Integrations.View", bw_api_event_subs_list, 0,
	  "event_subscriptions.list"),
	R("GET", ES "/{esid}", USER, "Integrations.View", bw_api_event_subs_get, 0,
	  "event_subscriptions.get"),
	R("PATCH", ES "/{esid}", USER, "Integrations.Edit", bw_api_event_subs_update, BODY,
	  "event_subscriptions.update"),
	R("DELETE", ES "/{esid}", USER, "Integrations.Edit", bw_api_event_subs_delete, 0,
	  "event_subscriptions.delete"),
	R("GET", ES "/{esid}/dead-letters", USER, "Integrations.View", bw_api_event_subs_dead_list,
	  0, "event_subscriptions.list_dead_letters"),
	R("POST", ES "/{esid}/dead-letters/retry", USER, "Integrations.Edit",
	  bw_api_event_subs_dead_retry, 0, "event_subscriptions.retry_dead_letters"),
	R("DELETE", ES "/{esid}/dead-letters", USER, "Integrations.Edit",
	  bw_api_event_subs_dead_delete, 0, "event_subscriptions.delete_dead_letters"),
#undef ES
	/* end event subscriptions */

	/* fraud */
#define DL I "/deny-list"
	R("POST", DL, USER, "Fraud.Edit", bw_api_deny_create, BODY, "deny_list.create"),
	R("GET", DL, USER, "Fraud.View", bw_api_deny_list, 0, "deny_list.list"),
	R("POST", DL "/import", USER, "Fraud.Edit", bw_api_deny_import, BODY, "deny_list.import"),
	R("GET", DL "/{dlid}", USER, "Fraud.View", bw_api_deny_get, 0, "deny_list.get"),
	R("PATCH", DL "/{dlid}", USER, "Fraud.Edit", bw_api_deny_update, BODY, "deny_list.update"),
	R("DELETE", DL "/{dlid}", USER, "Fraud.Edit", bw_api_deny_delete, 0, "deny_list.delete"),
#undef DL
	R("GET", I "/contact-filter", USER, "Fraud.View", bw_api_filter_get, 0, "contact_filter.get"),
	R("PATCH", I "/contact-filter", USER, "Fraud.Edit", bw_api_filter_update, BODY,
	  "contact_filter.update"),
	/* end fraud */

	/* secrets and roles (C7) */
#define SC I "/secrets"
	R("POST", SC, USER, "Secrets.Edit", bw_api_secrets_create, BODY, "secrets.create"),
	R("GET", SC, USER, "Secrets.View", bw_api_secrets_list, 0, "secrets.list"),
	R("GET", SC "/{scid}", USER, "Secrets.View", bw_api_secrets_get, 0, "secrets.get"),
	R("POST", SC "/{scid}/rotate", USER, "Secrets.Edit", bw_api_secrets_rotate, BODY,
	  "secrets.rotate"),
	R("DELETE", SC "/{scid}", USER, "Secrets.Edit", bw_api_secrets_delete, 0, "secrets.delete"),
#undef SC
#define SK I "/signing-keys"
	R("GET", SK, USER, "Keys.View", bw_api_signing_keys_list, 0, "signing_keys.list"),
	R("POST", SK "/rotate", USER, "Keys.Edit", bw_api_signing_keys_rotate, 0,
	  "signing_keys.rotate"),
	R("POST", SK "/test-sign", USER, "Integrations.Edit", bw_api_signing_keys_test_sign, BODY,
	  "signing_keys.test_sign"),
#undef SK
	R("GET", "/.well-known/bulwark/{iid}/jwks.json", 0, BW_PERM_PUBLIC, bw_api_jwks, 0, NULL),
	/* end secrets and roles */

	/* keys */
#define EK I "/encryption-keys"
	R("POST", EK, USER, "Keys.Edit", bw_api_enckeys_create, BODY, "encryption_keys.create"),
	R("GET", EK, USER, "Keys.View", bw_api_enckeys_list, AREAD, "encryption_keys.list"),
	R("POST", EK "/test-encrypt", USER, "Keys.Edit", bw_api_enckeys_test_encrypt, BODY,
	  "encryption_keys.test_encrypt"),
	R("GET", EK "/{ekid}", USER, "Keys.View", bw_api_enckeys_get, AREAD, "encryption_keys.get"),
	R("PATCH", EK "/{ekid}", USER, "Keys.Edit", bw_api_enckeys_update, BODY,
	  "encryption_keys.update"),
	R("DELETE", EK "/{ekid}", USER, "Keys.Edit", bw_api_enckeys_delete, 0,
	  "encryption_keys.delete"),
#undef EK
	/* envelope keys (C14) */
#define KY I "/keys"
	R("GET", KY, USER, "Keys.View", bw_api_keys_get, AREAD, "keys.get"),
	R("GET", KY "/import-parameters", USER, "Keys.View", bw_api_keys_import_params, AREAD,
	  "keys.import_parameters"),
	R("POST", KY "/import", USER, "Keys.Edit", bw_api_keys_import, BODY, "keys.import"),
	R("POST", KY "/rotate", USER, "Keys.Edit", bw_api_keys_rotate, 0, "keys.rotate"),
#undef KY
	/* end keys */

	/* contacts */
#define CT I "/contacts"
	R("GET", CT, USER, "ContactSearch.View", bw_api_contacts_search, AREAD, "contacts.search"),
	R("GET", CT "/{cid}", USER, "ContactSearch.View", bw_api_contacts_get, AREAD, "contacts.get"),
	R("GET", CT "/{cid}/transcript", USER, "Transcripts.View", bw_api_contacts_transcript, AREAD,
	  "contacts.transcript"),
	R("GET", CT "/{cid}/flow-log", USER, "ContactSearch.View", bw_api_contacts_flow_log, 0,
	  "contacts.flow_log"),
	R("POST", CT "/{cid}/stop", USER, "Contacts.Stop", bw_api_contacts_stop, 0, "contacts.stop"),
#undef CT
	/* classification (C13) */
	R("GET", I "/data-scan", USER, "SensitiveData.View", bw_api_data_scan, AREAD,
	  "data_scan.get"),
	R("GET", I "/metrics/real-time", USER, "Metrics.RealTime.View", bw_api_realtime, 0,
	  "metrics.real_time"),

	/* agents (K2, K5) */
	{"GET", I "/agent/stream", USER, "Contacts.Handle", bw_api_agent_stream, BW_ROUTE_WS,
	 &bw_cc_agent_ws, "agent.stream"},
#define AC I "/agent/contacts/{cid}"
	R("POST", AC "/accept", USER, "Contacts.Handle", bw_api_agent_accept, 0, "agent.accept"),
	R("POST", AC "/reject", USER, "Contacts.Handle", bw_api_agent_reject, 0, "agent.reject"),
	R("POST", AC "/end", USER, "Contacts.Handle", bw_api_agent_end, 0, "agent.end"),
	R("POST", AC "/messages", USER, "Contacts.Handle", bw_api_agent_message, BODY,
	  "agent.message"),
	R("POST", AC "/outcome", USER, "Contacts.Outbound", bw_api_agent_outcome, BODY,
	  "agent.outcome"),
#undef AC

	/* customers (public) */
	R("POST", "/v1/public/instances/{iid}/chats", 0, BW_PERM_PUBLIC, bw_api_chats_create,
	  BODY | BW_ROUTE_PUBLIC_GUARD, "chats.create"),
	R("OPTIONS", "/v1/public/instances/{iid}/chats", 0, BW_PERM_PUBLIC, bw_api_public_preflight,
	  0, NULL),
	R("POST", "/v1/public/instances/{iid}/callbacks", 0, BW_PERM_PUBLIC,
	  bw_api_callbacks_create, BODY | BW_ROUTE_PUBLIC_GUARD, "callbacks.create"),
	R("OPTIONS", "/v1/public/instances/{iid}/callbacks", 0, BW_PERM_PUBLIC,
	  bw_api_public_preflight, 0, NULL),
	{"GET", "/v1/public/chat", BW_KIND(BW_P_CUSTOMER), BW_PERM_AUTHENTICATED,
	 bw_api_chat_upgrade, BW_ROUTE_WS, &bw_cc_customer_ws, "chat.connect"},
	/* end contacts */
};

const size_t bw_routes_count = sizeof(bw_routes) / sizeof(bw_routes[0]);
