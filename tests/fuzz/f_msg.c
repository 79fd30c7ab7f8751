/*
 * f_msg.c: every message a mobkit process reads from another, through the
 * real handlers.  An input is a sequence of records: dest, sub, a 4-byte
 * big-endian length and that many bytes (a msgpack map, decoded by
 * frame_decode as a peer would, or a text line):
 *   0 mobkitd <- its child number sub (HELLO, READY, EVENT, PONG,
 *     RUN_DONE, TOOL_SEND, MOD_RESULT, FIRE, ATTEMPT, anything; a type
 *     the trust table refuses that child must condemn it)
 *   1 mobkitd <- a stdout line of child sub (JSON events)
 *   2 mobkit-worker <- mobkitd (CONFIG, RUN, TOOL_RESULT, INTERRUPT, RESET)
 *   3 mobkit-router <- mobkitd (ROUTES, MOD_CALL)
 *   4 mobkit-scheduler <- mobkitd (SCHEDULES, FIRED)
 *   5 mobkit-delivery <- mobkitd (DELIVER)
 *     (2 to 5 through child.c's dispatch: STOP, PING answered with PONG)
 *   6 mobkitctl <- mobkitd (an answer to verb sub: result, item)
 *   7 an HTTP response to a pending request: its status from sub (or a
 *     failed connection when sub >= 240), the bytes as the body (an
 *     event stream for a worker)
 *   8 mobkitd <- its store: a delivery record (delivery_restore), which
 *     the ATTEMPT messages of dest 0 can then name
 * Every map also goes through the table reader (msgtab.c) on its own:
 * what it accepts packs again through the writer and reads back the same.
 * Each child process starts afresh with every input; mobkitd keeps its
 * tree (its state is bounded by its own limits), a condemned child reaped
 * after each input as if its KILL had landed.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mpack.h"
#include "msgtab.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	fuzz_root_init();
	fuzz_worker_init();
	fuzz_router_init();
	fuzz_scheduler_init();
	fuzz_delivery_init();
	fuzz_ctl_init();
	return 0;
}

/* A text record as a C string (cut at a NUL, as a line reader would). */
static void
text_rec(const struct fuzz_rec *r)
{
	char *line;

	if ((line = strndup(r->p, r->len)) == NULL)
		fuzz_fail("strndup");
	fuzz_root_stdout(r->sub, line);
	free(line);
}

/*
 * The table reader on any map: an error names the message; a message it
 * accepts has its required fields, packs again through the writer (every
 * field declared, none missing) and reads back with the same fields.
 */
static void
table_rec(const msgpack_object *m)
{
	msgpack_unpacked u;
	struct msg_view v, back;
	struct msgw w;
	const char *why;
	char err[512];
	int k;

	if (msg_read(m, &v, err, sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0');
		return;
	}
	FUZZ_ASSERT(v.def != NULL && (v.def->req & ~v.have) == 0);
	msgw_begin(&w, (int)v.type);
	for (k = 1; k < K__N; k++)
		if (v.have & MSG_KBIT(k))
			msgpack_pack_object(msgw_key(&w, k), *v.o[k]);
	FUZZ_ASSERT(msgw_end(&w) == 0);
	msgpack_unpacked_init(&u);
	FUZZ_ASSERT(frame_decode(msgw_data(&w), msgw_len(&w), &u, &why) == 0);
	FUZZ_ASSERT(msg_read(&u.data, &back, err, sizeof(err)) == 0);
	FUZZ_ASSERT(back.type == v.type && back.have == v.have);
	msgpack_unpacked_destroy(&u);
	msgw_free(&w);
}

static void
map_rec(const struct fuzz_rec *r)
{
	msgpack_unpacked u;
	const char *err;

	msgpack_unpacked_init(&u);
	if (frame_decode(r->p, r->len, &u, &err) == 0) {
		table_rec(&u.data);
		switch (r->dest) {
		case 0:
			fuzz_root_msg(r->sub, &u.data);
			break;
		case 2:
			fuzz_worker_msg(&u.data);
			break;
		case 3:
			fuzz_router_msg(&u.data);
			break;
		case 4:
			fuzz_scheduler_msg(&u.data);
			break;
		case 5:
			fuzz_delivery_msg(&u.data);
			break;
		case 6:
			fuzz_ctl_msg(r->sub, &u.data);
			break;
		}
	}
	msgpack_unpacked_destroy(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static const long statuses[] = { 200, 201, 204, 301, 400, 401, 404,
	    429, 500, 502, 503, 0 };
	struct fuzz_rec r;
	size_t off = 0;
	int n = 0;

	while (n++ < 64 && fuzz_next_rec(buf, len, &off, &r)) {
		r.dest %= 9;
		if (r.dest == 8)
			fuzz_root_restore(r.p, r.len);
		else if (r.dest == 1)
			text_rec(&r);
		else if (r.dest == 7)
			fuzz_http_answer(r.sub / 16, r.p, r.len,
			    statuses[r.sub % 12], r.sub >= 240,
			    (unsigned)r.sub % 13 + 1);
		else
			map_rec(&r);
	}
	fuzz_root_after();
	fuzz_worker_reset();
	fuzz_router_reset();
	fuzz_scheduler_reset();
	fuzz_delivery_reset();
	fuzz_http_reset();
	fuzz_sinks_drain();
	return 0;
}
