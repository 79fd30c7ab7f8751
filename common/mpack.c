/* mpack.c: the checked msgpack reader and packing helpers. */
#include <string.h>
#include <stdlib.h>

#include "mpack.h"

static uint64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Walk the msgpack headers of buf without building anything, and refuse
 * a container that claims more elements than the bytes left could hold:
 * msgpack-c allocates a container's elements before reading them, so a
 * 1 MiB frame claiming 2^32 elements would ask for tens of gigabytes.
 * Returns 0, -1 when the frame is shorter than what it claims, -2 when a
 * byte is not msgpack at all.
 */
static int
mp_plausible(const unsigned char *p, size_t len)
{
	static const signed char fixed[256] = {
		/* bytes of payload after the type byte, for fixed sizes */
		[0xc0] = 0, [0xc2] = 0, [0xc3] = 0, [0xca] = 4, [0xcb] = 8,
		[0xcc] = 1, [0xcd] = 2, [0xce] = 4, [0xcf] = 8,
		[0xd0] = 1, [0xd1] = 2, [0xd2] = 4, [0xd3] = 8,
		[0xd4] = 2, [0xd5] = 3, [0xd6] = 5, [0xd7] = 9, [0xd8] = 17,
	};
	uint64_t need = 1, n, skip;
	size_t pos = 0;
	unsigned b;

	while (need > 0) {
		if (pos >= len)
			return -1;
		b = p[pos++];
		need--;
		n = skip = 0;
		if (b <= 0x7f || b >= 0xe0)
			;				/* fixint */
		else if (b <= 0x8f)
			n = 2 * (uint64_t)(b & 0x0f);	/* fixmap */
		else if (b <= 0x9f)
			n = b & 0x0f;			/* fixarray */
		else if (b <= 0xbf)
			skip = b & 0x1f;		/* fixstr */
		else if (b == 0xc1)
			return -2;			/* never used */
		else if (b >= 0xc4 && b <= 0xc9) {	/* bin, ext */
			int w = 1 << ((b - 0xc4) % 3);

			if (len - pos < (size_t)w)
				return -1;
			skip = be(p + pos, w) + (b >= 0xc7);
			pos += (size_t)w;
		} else if (b >= 0xd9 && b <= 0xdb) {	/* str8/16/32 */
			int w = 1 << (b - 0xd9);

			if (len - pos < (size_t)w)
				return -1;
			skip = be(p + pos, w);
			pos += (size_t)w;
		} else if (b >= 0xdc && b <= 0xdf) {	/* array/map 16/32 */
			int w = b & 1 ? 4 : 2;

			if (len - pos < (size_t)w)
				return -1;
			n = be(p + pos, w) * (b >= 0xde ? 2 : 1);
			pos += (size_t)w;
		} else
			skip = (uint64_t)fixed[b];
		if (skip > len - pos)
			return -1;
		pos += (size_t)skip;
		need += n;
		if (need > len - pos)
			return -1;	/* each element takes a byte at least */
	}
	return 0;
}

/* Unpack one value and insist that it is a map using every byte. */
int
frame_decode(const char *buf, size_t len, msgpack_unpacked *out,
    const char **err)
{
	size_t off = 0;
	msgpack_unpack_return r;

	switch (mp_plausible((const unsigned char *)buf, len)) {
	case -1:
		*err = "truncated msgpack";
		return -1;
	case -2:
		*err = "malformed msgpack";
		return -1;
	}

	r = msgpack_unpack_next(out, buf, len, &off);
	if (r == MSGPACK_UNPACK_CONTINUE) {
		*err = "truncated msgpack";
		return -1;
	}
	if (r != MSGPACK_UNPACK_SUCCESS && r != MSGPACK_UNPACK_EXTRA_BYTES) {
		*err = "malformed msgpack";
		return -1;
	}
	if (off != len) {
		*err = "bytes left over after the message";
		return -1;
	}
	if (out->data.type != MSGPACK_OBJECT_MAP) {
		*err = "message is not a map";
		return -1;
	}
	return 0;
}

int
mp_is_str(const msgpack_object *o)
{
	return o != NULL && o->type == MSGPACK_OBJECT_STR;
}

/* The value under a string key of a map, or NULL. */
const msgpack_object *
mp_find(const msgpack_object *map, const char *key)
{
	size_t klen = strlen(key);
	uint32_t i;

	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    (klen == 0 || memcmp(k->via.str.ptr, key, klen) == 0))
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

int
mp_get_int(const msgpack_object *map, const char *key, int64_t *out)
{
	const msgpack_object *o = mp_find(map, key);

	if (o == NULL)
		return -1;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX)
			return -1;
		*out = (int64_t)o->via.u64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return 0;
	}
	return -1;
}

int
mp_get_str(const msgpack_object *map, const char *key, const char **s,
    size_t *len)
{
	const msgpack_object *o = mp_find(map, key);

	if (!mp_is_str(o))
		return -1;
	/* msgpack-c gives an empty string a NULL pointer */
	*s = o->via.str.size > 0 ? o->via.str.ptr : "";
	*len = o->via.str.size;
	return 0;
}

int
mp_get_bool(const msgpack_object *map, const char *key, int *out)
{
	const msgpack_object *o = mp_find(map, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_BOOLEAN)
		return -1;
	*out = o->via.boolean;
	return 0;
}

/* A NUL-terminated copy of a string field; NULL when missing or bad. */
char *
mp_strdup(const msgpack_object *map, const char *key)
{
	const char *s;
	size_t len;
	char *p;

	if (mp_get_str(map, key, &s, &len) == -1 || memchr(s, '\0', len))
		return NULL;
	if ((p = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Copy a string field into buf; fails when missing, bad or too long. */
int
mp_copy_str(const msgpack_object *map, const char *key, char *buf,
    size_t bufsz)
{
	const char *s;
	size_t len;

	if (mp_get_str(map, key, &s, &len) == -1 || len >= bufsz ||
	    memchr(s, '\0', len))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

void
mp_str(msgpack_packer *pk, const char *s)
{
	size_t len = strlen(s);

	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

void
mp_kstr(msgpack_packer *pk, const char *k, const char *v)
{
	mp_str(pk, k);
	mp_str(pk, v);
}

void
mp_kint(msgpack_packer *pk, const char *k, int64_t v)
{
	mp_str(pk, k);
	msgpack_pack_int64(pk, v);
}

void
mp_kbool(msgpack_packer *pk, const char *k, int v)
{
	mp_str(pk, k);
	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

void
mp_knil(msgpack_packer *pk, const char *k)
{
	mp_str(pk, k);
	msgpack_pack_nil(pk);
}

void
mp_kstr_or_nil(msgpack_packer *pk, const char *k, const char *v)
{
	if (v == NULL)
		mp_knil(pk, k);
	else
		mp_kstr(pk, k, v);
}

/* k: [v[0], ..., v[n-1]] (a list of names). */
void
mp_kstrs(msgpack_packer *pk, const char *k, char *const *v, int n)
{
	int i;

	mp_str(pk, k);
	msgpack_pack_array(pk, (size_t)n);
	for (i = 0; i < n; i++)
		mp_str(pk, v[i]);
}
