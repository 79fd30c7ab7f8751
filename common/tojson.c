/* tojson.c: convert between msgpack objects and jansson values. */
#include <stdlib.h>
#include <string.h>

#include "tojson.h"

/*
 * A msgpack string as JSON text must be UTF-8 (or json_dumps fails): bytes
 * that are not become '?'.  msgpack-c gives an empty string a NULL pointer.
 */
static json_t *
str_json(const char *p, size_t len)
{
	json_t *j;
	char *c;
	size_t i;

	if (len == 0)
		return json_string("");
	if ((j = json_stringn(p, len)) != NULL)
		return j;
	if ((c = malloc(len)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		c[i] = (unsigned char)p[i] < 0x80 ? p[i] : '?';
	j = json_stringn(c, len);
	free(c);
	return j;
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
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return str_json(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (i = 0; i < o->via.array.size; i++)
			json_array_append_new(j, mp_to_json(&o->via.array.ptr[i]));
		return j;
	case MSGPACK_OBJECT_MAP:
		j = json_object();
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			json_t *key;

			if (k->type != MSGPACK_OBJECT_STR ||
			    (key = str_json(k->via.str.ptr, k->via.str.size)) ==
			    NULL)
				continue;
			json_object_setn_new_nocheck(j, json_string_value(key),
			    json_string_length(key),
			    mp_to_json(&o->via.map.ptr[i].val));
			json_decref(key);
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
