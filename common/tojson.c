/*
 * tojson.c: convert between msgpack objects and jansson values.  Strings
 * that are not valid UTF-8 (a child may write anything) become JSON with
 * U+FFFD in place of each bad sequence, so the JSON is always valid.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tojson.h"

/*
 * The length of the valid UTF-8 sequence at s (n bytes left, n > 0), or
 * 0 when it is invalid, with *bad the length of its maximal bad part.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;		/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;		/* past U+10FFFF */
	} else {
		*bad = 1;
		return 0;
	}
	for (i = 1; i < len; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return len;
}

/* -1 when s[0..n) is valid UTF-8, else the offset of the first bad byte. */
ssize_t
utf8_invalid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, bad;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq(p + i, n - i, &bad)) == 0)
			return (ssize_t)i;
		i += k;
	}
	return -1;
}

/* A copy of s[0..n) with U+FFFD for each invalid sequence (NUL-ended). */
char *
utf8_repair(const char *s, size_t n, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, k, bad;
	char *out;

	/* at worst every byte becomes three */
	if (n > (SIZE_MAX - 1) / 3 || (out = malloc(n * 3 + 1)) == NULL)
		return NULL;
	while (i < n) {
		if ((k = utf8_seq(p + i, n - i, &bad)) > 0) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		memcpy(out + o, "\xef\xbf\xbd", 3);
		o += 3;
		i += bad;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* A JSON string of s[0..n), repaired when it is not UTF-8. */
static json_t *
json_str(const char *s, size_t n)
{
	json_t *j;
	char *fixed;
	size_t len;

	if (n == 0)		/* msgpack-c gives it a NULL pointer */
		return json_string("");
	if (utf8_invalid(s, n) == -1)
		return json_stringn_nocheck(s, n);
	if ((fixed = utf8_repair(s, n, &len)) == NULL)
		return json_null();
	j = json_stringn_nocheck(fixed, len);
	free(fixed);
	return j;
}

/* Set o[key] = v, the key repaired when it is not UTF-8. */
static void
json_set(json_t *o, const char *k, size_t n, json_t *v)
{
	char *fixed;
	size_t len;

	if (n == 0)		/* msgpack-c gives it a NULL pointer */
		k = "";
	if (utf8_invalid(k, n) == -1) {
		json_object_setn_new_nocheck(o, k, n, v);
		return;
	}
	if ((fixed = utf8_repair(k, n, &len)) == NULL) {
		json_decref(v);
		return;
	}
	json_object_setn_new_nocheck(o, fixed, len, v);
	free(fixed);
}

/* A msgpack object as a new JSON value (binary and ext as null). */
json_t *
mp_to_json(const msgpack_object *o)
{
	json_t *j;
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer((json_int_t)o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (!isfinite(o->via.f64))
			return json_null();	/* JSON has no NaN */
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return json_str(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (i = 0; i < o->via.array.size; i++)
			json_array_append_new(j, mp_to_json(&o->via.array.ptr[i]));
		return j;
	case MSGPACK_OBJECT_MAP:
		j = json_object();
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;

			if (k->type != MSGPACK_OBJECT_STR)
				continue;
			json_set(j, k->via.str.ptr, k->via.str.size,
			    mp_to_json(&o->via.map.ptr[i].val));
		}
		return j;
	default:
		return json_null();
	}
}

/* Pack a JSON value. */
void
json_to_mp(msgpack_packer *pk, const json_t *j)
{
	const char *key;
	json_t *v;
	size_t i, n;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach((json_t *)(uintptr_t)j, key, v) {
			n = strlen(key);
			msgpack_pack_str(pk, n);
			msgpack_pack_str_body(pk, key, n);
			json_to_mp(pk, v);
		}
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(j));
		for (i = 0; i < json_array_size(j); i++)
			json_to_mp(pk, json_array_get(j, i));
		break;
	case JSON_STRING:
		n = json_string_length(j);
		msgpack_pack_str(pk, n);
		msgpack_pack_str_body(pk, json_string_value(j), n);
		break;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(j));
		break;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(j));
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	default:
		msgpack_pack_nil(pk);
		break;
	}
}

/* MCP content blocks of one text block, as JSON text. */
char *
json_text_blocks(const char *text)
{
	json_t *a = json_pack("[{s:s,s:s}]", "type", "text", "text", text);
	char *s = json_dumps(a, JSON_COMPACT);

	json_decref(a);
	if (s == NULL)
		fatal("json_dumps");
	return s;
}
