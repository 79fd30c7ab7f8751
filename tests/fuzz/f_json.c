/*
 * f_json.c: JSON <-> msgpack (common/tojson.c), as mobkitd packs a
 * module's stdout event and the worker its usage (json_to_mp), and as
 * mobkitctl shows an answer (mp_to_json).  First byte even: the rest is
 * JSON text; it must come back equal after json_to_mp and mp_to_json.
 * Odd: the rest is a msgpack map read as a peer reads one (frame_decode),
 * turned into JSON, dumped, and packed again.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mpack.h"
#include "tojson.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* Unpack exactly one value of p[0..n); -1 when it does not parse. */
static int
unpack(const char *p, size_t n, msgpack_unpacked *u)
{
	size_t off = 0;

	return msgpack_unpack_next(u, p, n, &off) == MSGPACK_UNPACK_SUCCESS &&
	    off == n ? 0 : -1;
}

static void
from_json(const char *text, size_t len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	json_t *j, *back;

	if ((j = json_loadb(text, len, JSON_DECODE_ANY, NULL)) == NULL)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	json_to_mp(&pk, j);
	msgpack_unpacked_init(&u);
	/* nesting deeper than msgpack-c unpacks is its limit, not ours */
	if (unpack(sb.data, sb.size, &u) == 0) {
		back = mp_to_json(&u.data);
		FUZZ_ASSERT(back != NULL);
		if (!json_equal(j, back)) {
			char *a = json_dumps(j, JSON_ENCODE_ANY),
			    *b = json_dumps(back, JSON_ENCODE_ANY);

			fuzz_fail("JSON changed on the way: %s -> %s", a, b);
		}
		json_decref(back);
	}
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	json_decref(j);
}

static void
from_msgpack(const char *p, size_t len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const char *err;
	json_t *j;
	char *s;

	msgpack_unpacked_init(&u);
	if (frame_decode(p, len, &u, &err) == 0 &&
	    (j = mp_to_json(&u.data)) != NULL) {
		s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
		free(s);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		json_to_mp(&pk, j);
		msgpack_sbuffer_destroy(&sb);
		json_decref(j);
	}
	msgpack_unpacked_destroy(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		from_msgpack((const char *)data + 1, size - 1);
	else
		from_json((const char *)data + 1, size - 1);
	return 0;
}
