/*
 * m_worker.c: mobkit-worker's side of the msg target, and the whole
 * stream path of the sse target (worker.c is included to reach its
 * static handlers, the worker's other files are linked; libcurl is
 * fuzz_httpc.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define FUZZ_TOOL_ROUNDS	8	/* the default max_tool_rounds */

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
	W.params = json_object();
	W.tools = json_array();
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

/* End a message, read it against its table and hand it to on_msg. */
static void
deliver(struct msgw *w)
{
	msgpack_unpacked u;
	struct msg_view v;
	const char *err;
	char why[256];

	if (msgw_end(w) == -1)
		fuzz_fail("worker: a message breaks its table");
	msgpack_unpacked_init(&u);
	if (frame_decode(msgw_data(w), msgw_len(w), &u, &err) == -1)
		fuzz_fail("worker: %s", err);
	if (msg_read(&u.data, &v, why, sizeof(why)) == -1)
		fuzz_fail("worker: %s", why);
	(void)on_msg(&v, NULL);
	msgpack_unpacked_destroy(&u);
	msgw_free(w);
}

/*
 * An openai member runs one turn whose every response is these bytes,
 * cut in pieces; tool calls are answered (ok) until the rounds run out.
 */
void
fuzz_worker_stream(const char *body, size_t len, unsigned chunk, long status)
{
	msgpack_packer *pk;
	struct msgw w;
	int round, i;

	fuzz_worker_reset();
	msgw_begin(&w, MSG_CONFIG);
	msgw_str(&w, K_ID, "m1");
	msgw_str(&w, K_MOB, "fuzz");
	msgw_str(&w, K_PROVIDER, "openai");
	msgw_str(&w, K_MODEL, "fuzz");
	msgw_bool(&w, K_COMMS, 1);
	pk = msgw_key(&w, K_PEERS);	/* a wired peer: send_message offered */
	msgpack_pack_array(pk, 1);
	msgpack_pack_str(pk, 2);
	msgpack_pack_str_body(pk, "m2", 2);
	msgw_str(&w, K_SNAPSHOT, "[{\"role\":\"user\",\"content\":\"hi\"}]");
	deliver(&w);
	msgw_begin(&w, MSG_RUN);
	msgw_str(&w, K_INPUT_ID, "in-1");
	msgw_str(&w, K_TEXT, "hello");
	deliver(&w);
	for (round = 0; round <= FUZZ_TOOL_ROUNDS + 1 && W.turn != NULL;
	    round++) {
		if (fuzz_http_pending() > 0) {
			fuzz_http_answer(0, body, len, status, 0, chunk);
			continue;
		}
		for (i = 0; W.turn != NULL && i < W.turn->ncalls; i++) {
			if (!W.turn->calls[i].pending)
				continue;
			msgw_begin(&w, MSG_TOOL_RESULT);
			msgw_str(&w, K_CALL_ID, W.turn->calls[i].wire);
			msgw_bool(&w, K_OK, 1);
			msgw_str(&w, K_INPUT_ID, "in-2");
			deliver(&w);
		}
		if (fuzz_http_pending() == 0)
			break;
	}
	fuzz_worker_reset();
	fuzz_http_reset();
	fuzz_sinks_drain();
}
