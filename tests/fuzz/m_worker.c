/*
 * m_worker.c: mobkit-worker's side of the msg target, and the whole
 * stream path of the sse target (worker.c is included to reach its
 * static handlers; libcurl is fuzz_httpc.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define main	worker_main
#include "../../worker/worker.c"
#undef main

static int
sink_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	(void)p;
	(void)m;
	(void)arg;
	return 0;
}

static void
sink_gone(struct peer *p, const char *why, void *arg)
{
	(void)p;
	(void)why;
	(void)arg;
}

void
fuzz_worker_init(void)
{
	W.loop = ev_default_loop(0);
	W.history = json_array();
	W.mk.loop = W.loop;
	W.mk.name = "mobkit-worker";
	W.mk.peer = fuzz_sink_peer(W.loop, sink_msg, sink_gone, NULL, NULL);
}

void
fuzz_worker_msg(const msgpack_object *m)
{
	fuzz_child_msg(&W.mk, on_msg, m);
}

/* Back to a worker that has not been configured. */
void
fuzz_worker_reset(void)
{
	char **s[] = { &W.id, &W.provider, &W.model, &W.base_url, &W.api_key,
	    &W.system, &W.instructions };
	size_t i;

	if (W.turn != NULL)
		turn_free(W.turn);
	W.turn = NULL;
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
	W.configured = 0;
	json_decref(W.history);
	W.history = json_array();
}

/* Decode one packed map and hand it to on_msg. */
static void
deliver(msgpack_sbuffer *sb)
{
	msgpack_unpacked u;
	const char *err;

	msgpack_unpacked_init(&u);
	if (frame_decode(sb->data, sb->size, &u, &err) == -1)
		fuzz_fail("worker: %s", err);
	(void)on_msg(W.mk.peer, &u.data, NULL);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_clear(sb);
}

/*
 * An openai member runs one turn whose every response is these bytes,
 * cut in pieces; tool calls are answered (ok) until the rounds run out.
 */
void
fuzz_worker_stream(const char *body, size_t len, unsigned chunk, long status)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int round, i;

	fuzz_worker_reset();
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);
	mp_kint(&pk, "t", MSG_CONFIG);
	mp_kstr(&pk, "id", "m1");
	mp_kstr(&pk, "provider", "openai");
	mp_kstr(&pk, "model", "fuzz");
	mp_kbool(&pk, "comms", 1);
	mp_kstr(&pk, "snapshot", "[{\"role\":\"user\",\"content\":\"hi\"}]");
	deliver(&sb);
	msgpack_pack_map(&pk, 3);
	mp_kint(&pk, "t", MSG_RUN);
	mp_kstr(&pk, "input_id", "in-1");
	mp_kstr(&pk, "text", "hello");
	deliver(&sb);
	for (round = 0; round <= MAX_TOOL_ROUNDS + 1 && W.turn != NULL;
	    round++) {
		if (fuzz_http_pending() > 0) {
			fuzz_http_answer(0, body, len, status, 0, chunk);
			continue;
		}
		for (i = 0; W.turn != NULL && i < W.turn->ncalls; i++) {
			if (!W.turn->calls[i].pending)
				continue;
			msgpack_pack_map(&pk, 4);
			mp_kint(&pk, "t", MSG_TOOL_RESULT);
			mp_kstr(&pk, "call_id", W.turn->calls[i].id);
			mp_kbool(&pk, "ok", 1);
			mp_kstr(&pk, "input_id", "in-2");
			deliver(&sb);
		}
		if (fuzz_http_pending() == 0)
			break;
	}
	msgpack_sbuffer_destroy(&sb);
	fuzz_worker_reset();
	fuzz_http_reset();
	fuzz_sinks_drain();
}
