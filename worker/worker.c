/*
 * mobkit-worker: one member of the mob.  It takes its profile and its
 * conversation from mobkitd (CONFIG), runs one turn at a time (RUN), and
 * answers each with RUN_DONE carrying what the turn added to the
 * conversation, which mobkitd keeps and hands back after a restart.
 *
 * This file: main, the messages from mobkitd, messages and events to it.
 * The turn itself is in turn.c, the providers in echo.c, openai.c and
 * anthropic.c (see worker.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "tojson.h"
#include "wire.h"
#include "worker.h"

struct worker W;

/*
 * Queue a message that must not be dropped for the queue's length (a
 * turn's result, a tool call): -1 only when it is larger than a message
 * may be (EMSGSIZE) or mobkitd is gone.
 */
int
send_msg(struct msgw *w)
{
	size_t len;
	int e;

	if (W.mk.peer == NULL || msgw_end(w) == -1) {
		msgw_free(w);
		return W.mk.peer == NULL ? 0 : -1;
	}
	len = msgw_len(w);
	if (peer_send_flags(W.mk.peer, msgw_data(w), len, PEER_FORCE) == 0) {
		msgw_free(w);
		return 0;
	}
	e = errno;
	log_warnx("a message of %zu bytes could not be sent: %s", len,
	    strerror(e));
	msgw_free(w);
	errno = e;
	return -1;
}

/*
 * An agent event of the running turn (run_started, text_delta, tool_call,
 * tool_result, run_completed, run_failed): input_id and attempt, then
 * fields (taken over; may be NULL).
 */
void
agent_event(const char *type, json_t *fields)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	json_t *o = json_object();

	json_object_set_new(o, "input_id", json_string(W.turn ?
	    W.turn->input_id : ""));
	json_object_set_new(o, "attempt", json_integer(W.turn ?
	    W.turn->attempt : 0));
	if (fields != NULL)
		json_object_update(o, fields);
	json_decref(fields);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	json_to_mp(&pk, o);
	(void)mkchild_event(&W.mk, type, &sb);
	msgpack_sbuffer_destroy(&sb);
	json_decref(o);
}

/* An integer provider parameter of CONFIG's params. */
long
param_int(const char *key, long dflt)
{
	json_t *v = json_object_get(W.params, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

const char *
param_str(const char *key)
{
	return json_string_value(json_object_get(W.params, key));
}

/* --- messages from mobkitd ------------------------------------------------ */

static void
set_str(char **dst, const struct msg_view *m, int key)
{
	free(*dst);
	*dst = msgv_strdup(m, key);
}

/* A JSON text field of a message, or NULL. */
static json_t *
json_field(const struct msg_view *m, int key)
{
	char *s = msgv_strdup(m, key);
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;

	free(s);
	return j;
}

/* The MCP tools it may call (CONFIG tools, TOOLS). */
static void
set_tools(const struct msg_view *m)
{
	json_t *t = json_field(m, K_TOOLS);

	if (!msgv_has(m, K_TOOLS))
		return;
	json_decref(W.tools);
	W.tools = json_is_array(t) ? t : json_array();
	if (!json_is_array(t))
		json_decref(t);
}

/* CONFIG's peers: how many, and their names for the tool's description. */
static void
set_peers(const struct msg_view *m)
{
	const msgpack_object *o = msgv_obj(m, K_PEERS);
	size_t len = 0;
	uint32_t i;

	free(W.peers);
	W.peers = NULL;
	W.npeers = 0;
	if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (i = 0; i < o->via.array.size; i++) {
		const msgpack_object *p = &o->via.array.ptr[i];

		if (p->type != MSGPACK_OBJECT_STR)
			continue;
		if (W.npeers++ > 0)
			turn_append(&W.peers, &len, ", ", 2);
		turn_append(&W.peers, &len, p->via.str.ptr, p->via.str.size);
	}
}

static void
on_config(const struct msg_view *m)
{
	json_t *snap, *h;
	size_t i;

	set_str(&W.id, m, K_ID);
	set_str(&W.provider, m, K_PROVIDER);
	set_str(&W.model, m, K_MODEL);
	set_str(&W.base_url, m, K_BASE_URL);
	set_str(&W.api_key, m, K_API_KEY);
	set_str(&W.system, m, K_SYSTEM);
	set_str(&W.instructions, m, K_INSTRUCTIONS);
	W.comms = msgv_bool(m, K_COMMS, 1);
	set_peers(m);
	set_tools(m);
	json_decref(W.params);
	W.params = json_field(m, K_PARAMS);	/* json_is_* are macros */
	if (!json_is_object(W.params)) {
		json_decref(W.params);
		W.params = json_object();
	}
	/* an older root sends only request_timeout_ms */
	if (json_object_get(W.params, "request_timeout_ms") == NULL)
		json_object_set_new(W.params, "request_timeout_ms",
		    json_integer(msgv_int(m, K_REQUEST_TIMEOUT_MS, 600000)));
	snap = json_field(m, K_SNAPSHOT);
	json_decref(W.history);
	W.history = json_is_array(snap) ? snap : json_array();
	if (!json_is_array(snap))
		json_decref(snap);
	W.nuser = 0;
	json_array_foreach(W.history, i, h)
		W.nuser += msg_is_user(h);
	if (!W.configured) {
		W.configured = 1;
		log_info("member %s: provider %s, %zu message(s) of history",
		    W.id, W.provider, json_array_size(W.history));
		(void)mkchild_ready(&W.mk);
	}
}

static void
on_run(const struct msg_view *m)
{
	struct turn *t;
	char id[64];

	if (msgv_copy(m, K_INPUT_ID, id, sizeof(id)) == -1)
		return;		/* not after msg_read: its table says 63 */
	if (W.turn != NULL) {
		log_warnx("RUN %s while %s runs: refused", id, W.turn->input_id);
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal("calloc");
	snprintf(t->input_id, sizeof(t->input_id), "%s", id);
	t->attempt = (int)msgv_int(m, K_ATTEMPT, 1);
	if ((t->text = msgv_strdup(m, K_TEXT)) == NULL &&
	    (t->text = strdup("")) == NULL)
		fatal("strdup");
	t->added = json_array();
	t->retry_after_ms = -1;
	sse_init(&t->sse, SSE_LINE_MAX);
	W.turn = t;
	agent_event("run_started", json_pack("{s:s}", "text", t->text));
	turn_start(t);
}

/* TOOL_RESULT: mobkitd's answer to a send_message call. */
static void
on_tool_result(const struct msg_view *m)
{
	char call[128], *err, *input, *text;

	if (W.turn == NULL || msgv_copy(m, K_CALL_ID, call, sizeof(call)) == -1)
		return;
	err = msgv_strdup(m, K_ERROR);
	input = msgv_strdup(m, K_INPUT_ID);
	if (msgv_bool(m, K_OK, 0)) {
		if (asprintf(&text, "delivered (input %s)", input ? input :
		    "?") == -1)
			fatal("asprintf");
		turn_tool_result(W.turn, call, 1, text);
	} else {
		if (asprintf(&text, "error: %s", err ? err : "refused") == -1)
			fatal("asprintf");
		turn_tool_result(W.turn, call, 0, text);
	}
	free(text);
	free(err);
	free(input);
}

/* The text of MCP content blocks: text blocks as they are, others as JSON. */
static char *
content_text(const char *content)
{
	json_t *a = content ? json_loads(content, 0, NULL) : NULL, *b;
	const char *s;
	size_t i, len = 0;
	char *out = NULL, *d;

	if (!json_is_array(a)) {
		json_decref(a);
		return strdup(content ? content : "");
	}
	json_array_foreach(a, i, b) {
		if (len > 0)
			turn_append(&out, &len, "\n", 1);
		if ((s = json_string_value(json_object_get(b, "text"))) != NULL)
			turn_append(&out, &len, s, strlen(s));
		else if ((d = json_dumps(b, JSON_COMPACT)) != NULL) {
			turn_append(&out, &len, d, strlen(d));
			free(d);
		}
	}
	json_decref(a);
	return out ? out : strdup("");
}

/* MCP_RESULT: an MCP tool's answer. */
static void
on_mcp_result(const struct msg_view *m)
{
	char call[128], *content, *text;

	if (W.turn == NULL || msgv_copy(m, K_CALL_ID, call, sizeof(call)) == -1)
		return;
	content = msgv_strdup(m, K_CONTENT);
	text = content_text(content);
	turn_tool_result(W.turn, call, !msgv_bool(m, K_IS_ERROR, 0), text);
	free(text);
	free(content);
}

static int
on_msg(const struct msg_view *m, void *arg)
{
	struct msgw w;
	char id[64];

	(void)arg;
	switch (m->type) {
	case MSG_CONFIG:
		on_config(m);
		break;
	case MSG_RUN:
		on_run(m);
		break;
	case MSG_TOOL_RESULT:
		on_tool_result(m);
		break;
	case MSG_MCP_RESULT:
		on_mcp_result(m);
		break;
	case MSG_TOOLS:
		set_tools(m);
		break;
	case MSG_INTERRUPT:
		if (W.turn != NULL) {
			log_info("%s: interrupted", W.turn->input_id);
			turn_interrupt(W.turn);
		} else if (msgv_copy(m, K_INPUT_ID, id, sizeof(id)) == 0) {
			/* a turn we never had: still free mobkitd's side */
			msgw_begin(&w, MSG_RUN_DONE);
			msgw_str(&w, K_INPUT_ID, id);
			msgw_str(&w, K_STATUS, "interrupted");
			msgw_str(&w, K_ERROR, "interrupted");
			(void)send_msg(&w);
		}
		break;
	case MSG_RESET:
		json_decref(W.history);
		W.history = json_array();
		W.nuser = 0;
		log_info("conversation reset");
		break;
	default:
		log_debug("ignored %s", msg_type_name((int)m->type));
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	int r;

	if (mkchild_version("mobkit-worker", argc, argv))
		return 0;
	W.loop = ev_default_loop(0);
	W.history = json_array();
	W.params = json_object();
	W.tools = json_array();
	/* READY comes once CONFIG has arrived (on_config) */
	r = mkchild_serve(&W.mk, W.loop, "mobkit-worker", on_msg, NULL, 0);
	if (W.turn != NULL)
		turn_free(W.turn);
	json_decref(W.history);
	json_decref(W.params);
	json_decref(W.tools);
	return r;
}
