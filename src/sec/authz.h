/* The permission catalog, default security profiles, and permission sets. */
#ifndef BW_AUTHZ_H
#define BW_AUTHZ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t bw_perms; /* one bit per catalog entry */

struct bw_permission {
	const char *name;
	const char *group;
};

extern const struct bw_permission bw_catalog[];
extern const size_t bw_catalog_count;

/* Index in the catalog, or -1. */
int bw_perm_index(const char *name);
bw_perms bw_perm_bit(const char *name); /* 0 if unknown */
/* Does a set grant `name`? Edit implies View of the same resource. */
bool bw_perms_grant(bw_perms set, const char *name);
static inline bool bw_perms_subset(bw_perms a, bw_perms b)
{
	return (a & ~b) == 0;
}

/* From a JSON array of names. Returns -1 and the offending name on an
 * unknown name, a non-string or a duplicate. */
int bw_perms_from_json(const json_t *arr, bw_perms *out, const char **bad);
/* From stored JSON text (unknown names ignored: the catalog only grows). */
bw_perms bw_perms_from_text(const char *text);
json_t *bw_perms_to_json(bw_perms set);
char *bw_perms_to_text(bw_perms set);
json_t *bw_catalog_json(void);

struct bw_default_profile {
	const char *name;
	const char *description;
	bw_perms (*perms)(void);
};
extern const struct bw_default_profile bw_default_profiles[];
extern const size_t bw_default_profiles_count;

#endif
