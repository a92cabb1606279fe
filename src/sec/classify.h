/* Data classification (C13): each contact attribute has a class, public,
 * internal (the default), sensitive or restricted. A class map is a JSON
 * object {name: class}; a name it does not hold is internal. Classes only
 * go up: the effective class of an attribute is the highest any source
 * gives it (the instance's attribute_classes, the flow, the engine). */
#ifndef BW_CLASSIFY_H
#define BW_CLASSIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum bw_class {
	BW_CLASS_PUBLIC,
	BW_CLASS_INTERNAL,
	BW_CLASS_SENSITIVE,  /* masked unless the reader holds SensitiveData.View */
	BW_CLASS_RESTRICTED, /* masked for everyone */
	BW_CLASS_COUNT,
};

/* "public", "internal", "sensitive", "restricted"; -1 for anything else. */
int bw_class_parse(const char *s);
const char *bw_class_name(enum bw_class c);

/* The class map holds at most this many names (the instance setting). */
#define BW_CLASS_MAX_NAMES 64

/* The class of `name` in map (NULL: none), internal when it holds none. */
enum bw_class bw_class_of(const json_t *map, const char *name);
/* The highest class the two maps give name (a map without it has no say;
 * with neither, internal). */
enum bw_class bw_class_max(const json_t *a, const json_t *b, const char *name);
/* Raises map[name] to at least c; 0, or -1 when memory runs out. */
int bw_class_raise(json_t *map, const char *name, enum bw_class c);
/* {name: class} for every attribute of attrs, by bw_class_max(a, b). */
json_t *bw_class_map(const json_t *attrs, const json_t *a, const json_t *b);

/* The mask of a value kept from a reader: eight bullets (U+2022), then,
 * when last4 and the value is 12 characters or more and ends in ASCII, its
 * last four characters (what a receipt shows of a card). out holds at
 * least BW_MASK_MAX bytes. */
#define BW_MASK_MAX 32
void bw_mask(const char *s, size_t n, bool last4, char *out, size_t outsz);

/* The attributes as a reader sees them (a new object): sensitive values
 * masked unless `view` (SensitiveData.View), restricted values always
 * masked, without their last four. */
json_t *bw_class_mask_attrs(const json_t *attrs, const json_t *a, const json_t *b, bool view);

#endif
