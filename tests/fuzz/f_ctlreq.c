/*
 * f_ctlreq.c: how mobkitd reads a control request: a frame (as the peer
 * cuts it) decoded and parsed by control_request_parse into a verb and
 * arguments.  Whatever it accepts must be what the client sent: a verb
 * that fits, at most CTL_MAX_ARGS arguments, each the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mobkitd.h"
#include "mpack.h"
#include "proto.h"

/* mobkitd.c is not linked. */
void
sd_notify_parent(const char *msg)
{
	(void)msg;
}

int
config_check_commands(struct config *cfg)
{
	(void)cfg;
	return 0;
}

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
check(const msgpack_object *m, const char *verb, char **argv, int argc)
{
	const msgpack_object *args = mp_find(m, "args");
	const char *v;
	size_t vlen;
	int i;

	FUZZ_ASSERT(mp_get_str(m, "verb", &v, &vlen) == 0);
	FUZZ_ASSERT(strlen(verb) == vlen && memcmp(verb, v, vlen) == 0);
	FUZZ_ASSERT(args != NULL && args->type == MSGPACK_OBJECT_ARRAY);
	FUZZ_ASSERT(argc >= 0 && argc <= CTL_MAX_ARGS &&
	    (uint32_t)argc == args->via.array.size);
	for (i = 0; i < argc; i++) {
		const msgpack_object *a = &args->via.array.ptr[i];

		FUZZ_ASSERT(strlen(argv[i]) == a->via.str.size &&
		    memcmp(argv[i], a->via.str.ptr, a->via.str.size) == 0);
	}
	FUZZ_ASSERT(argv[argc] == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[CTL_MAX_ARGS + 2], verb[32];
	msgpack_unpacked u;
	const char *err;
	size_t n;
	int argc;

	if (frame_next((const char *)data, size, FRAME_MAX_FUZZ, &n) != 1)
		return 0;
	msgpack_unpacked_init(&u);
	if (frame_decode((const char *)data + FRAME_HDR, n, &u, &err) == 0) {
		argv[CTL_MAX_ARGS + 1] = (char *)"guard";
		argc = control_request_parse(&u.data, verb, sizeof(verb), argv);
		FUZZ_ASSERT(argc >= -2);
		FUZZ_ASSERT(argv[CTL_MAX_ARGS + 1] != NULL);
		if (argc >= 0) {
			check(&u.data, verb, argv, argc);
			while (argc > 0)
				free(argv[--argc]);
		}
	}
	msgpack_unpacked_destroy(&u);
	return 0;
}
