/*
 * f_ctlreq.c: how mobkitd reads a control request: a frame (as the peer
 * cuts it) decoded and checked by ctl_req_decode (common/proto.c, then
 * the verb table of common/ctlverbs.c).  What it accepts must be what the
 * client sent: the version when one is given, a verb of the table, and
 * args that pack back (as mobkitctl packs them) to bytes that decode to
 * the same; what it refuses says why and holds nothing.  A string
 * mobkitd finds valid UTF-8 (ctl_args_utf8) must be one jansson takes too.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctlverbs.h"
#include "fuzz.h"
#include "mpack.h"
#include "proto.h"
#include "tojson.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* Pack a's args map into sb. */
static void
pack(const struct ctl_verb *v, const union ctl_args *a, msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	ctl_args_pack(v, a, &pk);
}

/* Every string field of an accepted request: jansson agrees on UTF-8. */
static void
check_strings(const struct ctl_verb *v, const union ctl_args *a)
{
	const char *field;
	size_t at;
	json_t *j;
	int i;

	if (ctl_args_utf8(v, a, &field, &at) == 0)
		return;
	for (i = 0; i < v->nfields; i++) {
		const char *s;

		if (v->fields[i].type != CT_STR)
			continue;
		s = *(char *const *)(const void *)((const char *)a +
		    v->fields[i].off);
		if (s == NULL)
			continue;
		FUZZ_ASSERT((j = json_stringn(s, strlen(s))) != NULL);
		json_decref(j);
	}
}

/* An accepted request against its source, and through the wire again. */
static void
check(const msgpack_object *m, const struct ctl_req *r,
    const struct ctl_verb *v, const union ctl_args *a)
{
	msgpack_sbuffer sb1, sb2;
	msgpack_unpacked u;
	union ctl_args b;
	const char *s;
	size_t len;
	int64_t version;
	char err[256];

	FUZZ_ASSERT(mp_get_str(m, "verb", &s, &len) == 0);
	FUZZ_ASSERT(strlen(r->verb) == len && memcmp(r->verb, s, len) == 0);
	FUZZ_ASSERT(strcmp(v->name, r->verb) == 0);
	if (mp_find(m, "version") == NULL)
		FUZZ_ASSERT(r->version == -1);
	else
		FUZZ_ASSERT(mp_get_int(m, "version", &version) == 0 &&
		    version == r->version);
	check_strings(v, a);
	pack(v, a, &sb1);
	msgpack_unpacked_init(&u);
	FUZZ_ASSERT(msgpack_unpack_next(&u, sb1.data, sb1.size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	FUZZ_ASSERT(ctl_args_decode(v, &u.data, &b, err, sizeof(err)) == 0);
	pack(v, &b, &sb2);
	FUZZ_ASSERT(sb1.size == sb2.size &&
	    memcmp(sb1.data, sb2.data, sb1.size) == 0);
	ctl_args_free(v, &b);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb1);
	msgpack_sbuffer_destroy(&sb2);
}

/* Is a all zero (nothing held)? */
static int
empty(const union ctl_args *a)
{
	static const union ctl_args zero;

	return memcmp(a, &zero, sizeof(zero)) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ctl_verb *v;
	msgpack_unpacked u;
	struct ctl_req r;
	union ctl_args a;
	const char *why;
	char err[256];
	size_t n;

	if (frame_next((const char *)data, size, FRAME_MAX_FUZZ, &n) != 1)
		return 0;
	err[0] = '\0';
	if (ctl_req_decode((const char *)data + FRAME_HDR, n, &r, &v, &a, err,
	    sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT(empty(&a));
		return 0;
	}
	/* accepted: the same bytes decode to the message it describes */
	msgpack_unpacked_init(&u);
	FUZZ_ASSERT(frame_decode((const char *)data + FRAME_HDR, n, &u,
	    &why) == 0);
	check(&u.data, &r, v, &a);
	msgpack_unpacked_destroy(&u);
	ctl_args_free(v, &a);
	FUZZ_ASSERT(empty(&a));
	return 0;
}
