/* The route table: the only way in. Every row names its method, path, the
 * kinds of principal it admits (0: no credential), its permission (PUBLIC,
 * Platform, Authenticated, or a catalog permission), handler, flags, and
 * audit action. A test lists this table and drives every row. */
#include "api/api.h"

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
};

const size_t bw_routes_count = sizeof(bw_routes) / sizeof(bw_routes[0]);
