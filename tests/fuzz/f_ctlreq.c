/*
 * f_ctlreq.c: how mobkitd reads a control request: a frame (as the peer
 * cuts it) decoded and checked by ctl_req_decode (common/proto.c).  What
 * it accepts must be what the client sent: the version when one is given,
 * a verb that fits, at most CTL_ARGS_MAX arguments, each the same bytes;
 * what it refuses says why and holds nothing.  An argument mobkitd finds
 * valid UTF-8 (utf8_invalid) must be one jansson takes too.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

/* An accepted request against its source. */
static void
check(const msgpack_object *m, const struct ctl_req *r)
{
	const msgpack_object *args = mp_find(m, "args");
	const char *v;
	size_t vlen;
	int64_t version;
	json_t *j;
	int i;

	FUZZ_ASSERT(mp_get_str(m, "verb", &v, &vlen) == 0);
	FUZZ_ASSERT(strlen(r->verb) == vlen && memcmp(r->verb, v, vlen) == 0);
	if (mp_find(m, "version") == NULL)
		FUZZ_ASSERT(r->version == -1);
	else
		FUZZ_ASSERT(mp_get_int(m, "version", &version) == 0 &&
		    version == r->version);
	FUZZ_ASSERT(args != NULL && args->type == MSGPACK_OBJECT_ARRAY);
	FUZZ_ASSERT(r->argc >= 0 && r->argc <= CTL_ARGS_MAX &&
	    (uint32_t)r->argc == args->via.array.size);
	for (i = 0; i < r->argc; i++) {
		const msgpack_object *a = &args->via.array.ptr[i];
		size_t len = a->via.str.size;

		FUZZ_ASSERT(strlen(r->argv[i]) == len && (len == 0 ||
		    memcmp(r->argv[i], a->via.str.ptr, len) == 0));
		if (utf8_invalid(r->argv[i], len) == -1) {
			FUZZ_ASSERT((j = json_stringn(r->argv[i], len)) != NULL);
			json_decref(j);
		}
	}
	FUZZ_ASSERT(r->argv[r->argc] == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_unpacked u;
	struct ctl_req r;
	const char *why;
	char err[256];
	size_t n;

	if (frame_next((const char *)data, size, FRAME_MAX_FUZZ, &n) != 1)
		return 0;
	err[0] = '\0';
	if (ctl_req_decode((const char *)data + FRAME_HDR, n, &r, err,
	    sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT(r.argc == 0 && r.argv[0] == NULL);
		return 0;
	}
	/* accepted: the same bytes decode to the message it describes */
	msgpack_unpacked_init(&u);
	FUZZ_ASSERT(frame_decode((const char *)data + FRAME_HDR, n, &u,
	    &why) == 0);
	check(&u.data, &r);
	msgpack_unpacked_destroy(&u);
	ctl_req_free(&r);
	FUZZ_ASSERT(r.argc == 0 && r.argv[0] == NULL);
	return 0;
}
