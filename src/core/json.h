/* Strict JSON decoding for request bodies. */
#ifndef BW_JSON_H
#define BW_JSON_H

#include <jansson.h>
#include <stddef.h>

#define BW_JSON_MAX_DEPTH 32

/* Returns 0 depth-ok, -1 when nesting passes max_depth (strings and escapes minded). */
int bw_json_depth_ok(const char *buf, size_t len, int max_depth);

/* Parses buf: depth cap, UTF-8, no duplicate keys, no NUL, nothing trailing.
 * Returns the value or NULL with a short reason in *why. */
json_t *bw_json_parse(const char *buf, size_t len, const char **why);

/* Typed getters for handlers: 0 on success, -1 if missing or wrong type. */
const char *bw_json_str(const json_t *obj, const char *key);

#endif
