/* Data classification (C13): class names, class maps and masks. */
#include "sec/classify.h"

#include <string.h>

static const char *const names[BW_CLASS_COUNT] = {"public", "internal", "sensitive",
                                                  "restricted"};

int bw_class_parse(const char *s)
{
	for (int i = 0; s && i < BW_CLASS_COUNT; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

const char *bw_class_name(enum bw_class c)
{
	return (unsigned)c < BW_CLASS_COUNT ? names[c] : names[BW_CLASS_INTERNAL];
}

enum bw_class bw_class_of(const json_t *map, const char *name)
{
	int c = bw_class_parse(json_string_value(json_object_get(map, name)));
	return c < 0 ? BW_CLASS_INTERNAL : (enum bw_class)c;
}

enum bw_class bw_class_max(const json_t *a, const json_t *b, const char *name)
{
	/* A map without the name has no say; with neither, internal. */
	int x = bw_class_parse(json_string_value(json_object_get(a, name)));
	int y = bw_class_parse(json_string_value(json_object_get(b, name)));
	int m = x > y ? x : y;
	return m < 0 ? BW_CLASS_INTERNAL : (enum bw_class)m;
}

int bw_class_raise(json_t *map, const char *name, enum bw_class c)
{
	if (bw_class_of(map, name) >= c && json_object_get(map, name))
		return 0;
	return json_object_set_new(map, name, json_string(bw_class_name(c)));
}

json_t *bw_class_map(const json_t *attrs, const json_t *a, const json_t *b)
{
	json_t *m = json_object();
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)attrs, k, v)
	{
		if (m && json_object_set_new(m, k, json_string(bw_class_name(bw_class_max(a, b, k)))))
			break;
	}
	return m;
}

void bw_mask(const char *s, size_t n, bool last4, char *out, size_t outsz)
{
	size_t chars = 0, k = 0, shown = 0;
	for (size_t i = 0; i < n; i++)
		chars += ((unsigned char)s[i] & 0xc0) != 0x80;
	if (last4 && chars >= 12 && n >= 4) {
		shown = 4;
		for (size_t i = n - 4; i < n; i++)
			if ((unsigned char)s[i] >= 0x80)
				shown = 0; /* only plain ASCII ends are shown */
	}
	for (size_t i = 0; i < 8 && k + 4 < outsz; i++) {
		memcpy(out + k, "\xe2\x80\xa2", 3); /* U+2022 */
		k += 3;
	}
	if (shown && k + shown < outsz) {
		memcpy(out + k, s + n - shown, shown);
		k += shown;
	}
	if (outsz)
		out[k] = '\0';
}

json_t *bw_class_mask_attrs(const json_t *attrs, const json_t *a, const json_t *b, bool view)
{
	json_t *o = json_object();
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)attrs, k, v)
	{
		enum bw_class c = bw_class_max(a, b, k);
		const char *s = json_string_value(v);
		json_t *shown;
		if (c <= BW_CLASS_INTERNAL || (c == BW_CLASS_SENSITIVE && view)) {
			shown = json_incref(v);
		} else {
			char m[BW_MASK_MAX];
			bw_mask(s ? s : "", s ? json_string_length(v) : 0, c == BW_CLASS_SENSITIVE, m,
			        sizeof(m));
			shown = json_string(m);
		}
		if (!o || json_object_set_new(o, k, shown) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}
