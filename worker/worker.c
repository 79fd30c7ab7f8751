/*
 * mobkit-worker: one member of the mob.  It takes its profile and its
 * conversation from mobkitd (CONFIG), runs one turn at a time (RUN), and
 * answers each with RUN_DONE carrying the new conversation snapshot, which
 * mobkitd keeps and hands back after a restart.
 *
 * Providers: echo (deterministic, offline; "@peer text" sends text to a
 * wired peer) and openai (POST {base_url}/chat/completions with
 * "stream": true, Server-Sent Events parsed as they arrive, through the
 * curl multi interface on this process's libev loop).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "child.h"
#include "frame.h"
#include "httpc.h"
#include "log.h"
#include "mpack.h"
#include "msgtab.h"
#include "proto.h"
#include "sse.h"
#include "tojson.h"

#define MAX_TOOL_ROUNDS	4
#define SSE_LINE_MAX	(1024 * 1024)

struct toolcall {
	char	*id;
	char	*name;
	char	*args;		/* JSON text, accumulated */
	char	*result;	/* what we tell the model */
	int	 pending;
};

struct turn {
	char		 input_id[64];
	char		*text;
	int		 rounds;
	json_t		*added;		/* messages this turn adds */
	char		*out;		/* assistant text so far */
	size_t		 outlen;
	struct http_req	*req;
	struct sse	 sse;		/* the event stream's lines */
	char		*body;		/* a non-stream (error) body */
	size_t		 bodylen;
	int		 done_seen;
	int		 stream_error;
	char		 errmsg[512];
	struct toolcall	 calls[8];
	int		 ncalls;
	int		 waiting;	/* tool results outstanding */
	json_t		*usage;
	char		*finish;
};

static struct {
	struct ev_loop	*loop;
	struct mkchild	 mk;
	int		 configured;
	char		*id, *provider, *model, *base_url, *api_key, *system;
	char		*instructions;
	long		 timeout_ms;
	int		 comms;
	json_t		*history;	/* user/assistant/tool messages */
	struct turn	*turn;
	unsigned	 ncall;
} W;

static void	turn_request(struct turn *);
static void	turn_finish(struct turn *, const char *status,
		    const char *error);

/* --- messages to mobkitd ----------------------------------------------- */

/*
 * Queue a message that must not be dropped for the queue's length (a
 * turn's result, a tool call): -1 only when it is larger than a message
 * may be (EMSGSIZE) or mobkitd is gone.
 */
static int
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

/* Pack RUN_DONE: how a turn ended. */
static void
pack_done(struct msgw *w, const char *input_id, const char *status,
    const char *text, const char *error, const char *messages)
{
	msgw_begin(w, MSG_RUN_DONE);
	msgw_str(w, K_INPUT_ID, input_id);
	msgw_str(w, K_STATUS, status);
	msgw_str(w, K_TEXT, text);
	msgw_str(w, K_ERROR, error);
	msgw_str(w, K_MESSAGES, messages);
}

/* Send a RUN_DONE without a result. */
static void
send_done(const char *input_id, const char *status, const char *error)
{
	struct msgw w;

	pack_done(&w, input_id, status, NULL, error, NULL);
	(void)send_msg(&w);
}

/* An agent event: run_started, text_delta, run_completed, run_failed. */
static void
agent_event(const char *type, const char *k1, const char *v1,
    const char *k2, json_t *v2)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int n = 1 + (k1 != NULL) + (k2 != NULL);

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, (size_t)n);
	mp_kstr(&pk, "input_id", W.turn ? W.turn->input_id : "");
	if (k1 != NULL)
		mp_kstr_or_nil(&pk, k1, v1);
	if (k2 != NULL) {
		mp_str(&pk, k2);
		if (v2 != NULL)
			json_to_mp(&pk, v2);
		else
			msgpack_pack_nil(&pk);
	}
	(void)mkchild_event(&W.mk, type, &sb);
	msgpack_sbuffer_destroy(&sb);
}

/* --- the turn ------------------------------------------------------------ */

static void
turn_free(struct turn *t)
{
	int i;

	if (t->req != NULL)
		http_cancel(t->req);
	for (i = 0; i < t->ncalls; i++) {
		free(t->calls[i].id);
		free(t->calls[i].name);
		free(t->calls[i].args);
		free(t->calls[i].result);
	}
	json_decref(t->added);
	json_decref(t->usage);
	free(t->text);
	free(t->out);
	sse_free(&t->sse);
	free(t->body);
	free(t->finish);
	free(t);
}

static void
append(char **buf, size_t *len, const char *s, size_t n)
{
	char *nb;

	if ((nb = realloc(*buf, *len + n + 1)) == NULL)
		fatal("realloc");
	memcpy(nb + *len, s, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
}

/*
 * RUN_DONE to mobkitd; on success the history grows too.  A result too
 * large for one message fails the turn (saying so) rather than leaving
 * mobkitd waiting for it.
 */
static void
turn_finish(struct turn *t, const char *status, const char *error)
{
	struct msgw w;
	char *added = NULL, msg[160];
	size_t i;
	json_t *m;

	/* only what this turn adds goes up: mobkitd appends it */
	if (strcmp(status, "completed") == 0)
		added = json_dumps(t->added, JSON_COMPACT);
	pack_done(&w, t->input_id, status, t->out ? t->out : "", error,
	    added);
	if (t->usage != NULL) {	/* helper verbs: usage in RUN_DONE */
		msgw_int(&w, K_INPUT_TOKENS, json_integer_value(json_object_get(t->usage, "prompt_tokens")));
		msgw_int(&w, K_OUTPUT_TOKENS, json_integer_value(json_object_get(t->usage, "completion_tokens")));
	}
	if (W.mk.peer != NULL && msgw_len(&w) > W.mk.peer->max_msg) {
		snprintf(msg, sizeof(msg), "the turn's result (%zu bytes) is "
		    "larger than the largest message (%zu bytes)",
		    msgw_len(&w), W.mk.peer->max_msg);
		msgw_free(&w);
		pack_done(&w, t->input_id, "failed", NULL, msg, NULL);
		status = "failed";
		error = msg;
	}
	if (strcmp(status, "completed") == 0) {
		json_array_foreach(t->added, i, m)
			json_array_append(W.history, m);
		agent_event("run_completed", "text", t->out ? t->out : "",
		    "usage", t->usage);
	} else if (strcmp(status, "failed") == 0)
		agent_event("run_failed", "error", error, NULL, NULL);
	(void)send_msg(&w);
	free(added);
	if (W.turn == t)
		W.turn = NULL;
	turn_free(t);
}

static void
delta(struct turn *t, const char *s, size_t n)
{
	char *piece;

	if (n == 0)
		return;
	append(&t->out, &t->outlen, s, n);
	if ((piece = strndup(s, n)) == NULL)
		fatal("strndup");
	agent_event("text_delta", "delta", piece, NULL, NULL);
	free(piece);
}

/*
 * Ask mobkitd to put text into a peer's mailbox (send_message); -1 with
 * the call's result set when it cannot be sent (then nothing is awaited).
 */
static int
tool_send(struct turn *t, struct toolcall *c, const char *to,
    const char *text)
{
	const struct msg_def *d = msg_def_of(MSG_TOOL_SEND);
	struct msgw w;
	int r;

	/* the model names the call: an id too long for the table is
	 * refused here, not sent for mobkitd to take as a bad message */
	if (strlen(c->id) > msg_field_of(d, K_CALL_ID)->max ||
	    strlen(to) > msg_field_of(d, K_TO)->max) {
		if (asprintf(&c->result, "error: the call id or \"to\" is "
		    "longer than %u bytes", msg_field_of(d, K_TO)->max) == -1)
			fatal("asprintf");
		return -1;
	}
	msgw_begin(&w, MSG_TOOL_SEND);
	msgw_str(&w, K_CALL_ID, c->id);
	msgw_str(&w, K_TO, to);
	msgw_str(&w, K_TEXT, text);
	if ((r = send_msg(&w)) == 0) {
		c->pending = 1;
		t->waiting++;
	} else if (asprintf(&c->result, "error: the message (%zu bytes) "
	    "could not be sent: %s", strlen(text), strerror(errno)) == -1)
		fatal("asprintf");
	return r;
}

static struct toolcall *
new_call(struct turn *t, const char *name)
{
	struct toolcall *c;
	char id[64];

	if (t->ncalls == (int)(sizeof(t->calls) / sizeof(t->calls[0])))
		return NULL;
	c = &t->calls[t->ncalls++];
	memset(c, 0, sizeof(*c));
	snprintf(id, sizeof(id), "call_%u", ++W.ncall);
	c->id = strdup(id);
	c->name = strdup(name);
	return c;
}

/* --- echo ---------------------------------------------------------------- */

/* A reply built from the input; "@peer text" messages a peer first. */
static void
echo_turn(struct turn *t)
{
	const char *p, *sp;
	char reply[64];

	(void)p;
	json_t *user = json_pack("{s:s,s:s}", "role", "user", "content",
	    t->text);

	json_array_append_new(t->added, user);
	if (t->text[0] == '@' && (sp = strchr(t->text, ' ')) != NULL &&
	    t->rounds == 0) {
		char *to = strndup(t->text + 1, (size_t)(sp - t->text - 1));
		struct toolcall *c = new_call(t, "send_message");

		c->args = strdup(sp + 1);
		t->rounds++;
		if (!W.comms) {
			c->result = strdup("error: messaging peers is off for "
			    "this profile");
		} else if (tool_send(t, c, to, sp + 1) == 0) {
			free(to);
			return;		/* the TOOL_RESULT continues it */
		}
		free(to);
	}
	if (t->ncalls > 0) {
		delta(t, "sent: ", 6);
		delta(t, t->calls[0].result, strlen(t->calls[0].result));
	} else {
		/* one delta: echo has nothing to stream */
		snprintf(reply, sizeof(reply), "echo (turn %zu): ",
		    json_array_size(W.history) / 2 + 1);
		append(&t->out, &t->outlen, reply, strlen(reply));
		p = t->text;
		delta(t, p, strlen(p));
	}
	json_array_append_new(t->added, json_pack("{s:s,s:s}", "role",
	    "assistant", "content", t->out ? t->out : ""));
	turn_finish(t, "completed", NULL);
}

/* --- openai --------------------------------------------------------------- */

/* One "data: {...}" chunk of the stream. */
static void
sse_data(void *arg, const char *data)
{
	struct turn *t = arg;
	json_t *j, *choice, *d, *tc, *u;
	json_error_t jerr;
	const char *s, *fr;
	size_t i;

	if (strcmp(data, "[DONE]") == 0) {
		t->done_seen = 1;
		return;
	}
	if ((j = json_loads(data, 0, &jerr)) == NULL) {
		if (!t->stream_error)
			snprintf(t->errmsg, sizeof(t->errmsg), "malformed "
			    "stream chunk (%s): %.80s", jerr.text, data);
		t->stream_error = 1;
		return;
	}
	if ((u = json_object_get(j, "usage")) != NULL && json_is_object(u)) {
		json_decref(t->usage);
		t->usage = json_incref(u);
	}
	if (json_object_get(j, "error") != NULL) {
		snprintf(t->errmsg, sizeof(t->errmsg), "server error in "
		    "stream: %s", json_string_value(json_object_get(
		    json_object_get(j, "error"), "message")) ?: "?");
		t->stream_error = 1;
	}
	choice = json_array_get(json_object_get(j, "choices"), 0);
	d = json_object_get(choice, "delta");
	if ((s = json_string_value(json_object_get(d, "content"))) != NULL)
		delta(t, s, strlen(s));
	json_array_foreach(json_object_get(d, "tool_calls"), i, tc) {
		size_t idx = (size_t)json_integer_value(json_object_get(tc,
		    "index"));
		json_t *f = json_object_get(tc, "function");
		const char *id = json_string_value(json_object_get(tc, "id"));
		const char *name = json_string_value(json_object_get(f,
		    "name"));
		const char *args = json_string_value(json_object_get(f,
		    "arguments"));
		struct toolcall *c;

		while ((size_t)t->ncalls <= idx && new_call(t, name ? name :
		    "") != NULL)
			;
		if (idx >= (size_t)t->ncalls)
			continue;
		c = &t->calls[idx];
		if (id != NULL) {
			free(c->id);
			c->id = strdup(id);
		}
		if (name != NULL && *name) {
			free(c->name);
			c->name = strdup(name);
		}
		if (args != NULL) {
			size_t len = c->args ? strlen(c->args) : 0;

			append(&c->args, &len, args, strlen(args));
		}
	}
	if ((fr = json_string_value(json_object_get(choice,
	    "finish_reason"))) != NULL) {
		free(t->finish);
		t->finish = strdup(fr);
	}
	json_decref(j);
}

/* Bytes of the response: SSE lines when streaming, else an error body. */
static void
on_data(void *arg, const char *buf, size_t n)
{
	struct turn *t = arg;

	if (t->bodylen > 0 || (t->sse.len == 0 && t->out == NULL &&
	    t->ncalls == 0 && n > 0 && buf[0] == '{')) {
		append(&t->body, &t->bodylen, buf, n);	/* not a stream */
		return;
	}
	if (sse_feed(&t->sse, buf, n, sse_data, t) == -1) {
		snprintf(t->errmsg, sizeof(t->errmsg), "stream line "
		    "longer than %d bytes", SSE_LINE_MAX);
		t->stream_error = 1;
	}
}

/* The model asked for tools: run them, then ask it again. */
static void
run_tools(struct turn *t)
{
	json_t *calls = json_array(), *msg;
	int i;

	for (i = 0; i < t->ncalls; i++)
		json_array_append_new(calls, json_pack("{s:s,s:s,s:{s:s,s:s}}",
		    "id", t->calls[i].id, "type", "function", "function",
		    "name", t->calls[i].name, "arguments", t->calls[i].args ?
		    t->calls[i].args : "{}"));
	msg = json_pack("{s:s,s:o,s:o}", "role", "assistant", "content",
	    t->out ? json_string(t->out) : json_null(), "tool_calls", calls);
	json_array_append_new(t->added, msg);
	t->rounds++;
	for (i = 0; i < t->ncalls; i++) {
		struct toolcall *c = &t->calls[i];
		json_t *a = json_loads(c->args ? c->args : "", 0, NULL);
		const char *to = json_string_value(json_object_get(a, "to"));
		const char *text = json_string_value(json_object_get(a, "text"));

		if (strcmp(c->name, "send_message") != 0)
			c->result = strdup("error: unknown tool");
		else if (!W.comms)
			c->result = strdup("error: messaging peers is off for "
			    "this profile");
		else if (to == NULL || text == NULL)
			c->result = strdup("error: send_message needs \"to\" "
			    "and \"text\"");
		else
			tool_send(t, c, to, text);
		json_decref(a);
	}
	if (t->waiting == 0)
		turn_request(t);
}

static void
on_done(void *arg, CURLcode rc, long status, const char *err)
{
	struct turn *t = arg;
	char msg[1024];
	json_t *j;

	t->req = NULL;
	if (rc != CURLE_OK) {
		snprintf(msg, sizeof(msg), "curl: %s%s%s", err,
		    status ? " after HTTP " : "", status ? "status" : "");
		turn_finish(t, "failed", msg);
		return;
	}
	if (status < 200 || status >= 300) {
		const char *m = NULL;

		j = t->body ? json_loads(t->body, 0, NULL) : NULL;
		m = json_string_value(json_object_get(json_object_get(j,
		    "error"), "message"));
		snprintf(msg, sizeof(msg), "HTTP %ld: %s", status, m ? m :
		    t->body ? t->body : "(no body)");
		json_decref(j);
		turn_finish(t, "failed", msg);
		return;
	}
	if (t->stream_error) {
		turn_finish(t, "failed", t->errmsg);
		return;
	}
	if (t->body != NULL) {
		snprintf(msg, sizeof(msg), "expected an event stream, got: "
		    "%.200s", t->body);
		turn_finish(t, "failed", msg);
		return;
	}
	if (!t->done_seen && t->finish == NULL) {
		turn_finish(t, "failed", "the stream ended before [DONE]");
		return;
	}
	if (t->ncalls > 0 && t->rounds < MAX_TOOL_ROUNDS) {
		run_tools(t);
		return;
	}
	json_array_append_new(t->added, json_pack("{s:s,s:s}", "role",
	    "assistant", "content", t->out ? t->out : ""));
	turn_finish(t, "completed", NULL);
}

/* The request: system, history, this turn's messages; the tool offer. */
static void
turn_request(struct turn *t)
{
	json_t *req, *msgs = json_array(), *m;
	struct curl_slist *h = NULL;
	char url[1024], auth[1024], *body, *sys = NULL;
	size_t i;

	if (W.system != NULL || W.instructions != NULL) {
		if (asprintf(&sys, "%s%s%s", W.system ? W.system : "",
		    W.system && W.instructions ? "\n\n" : "",
		    W.instructions ? W.instructions : "") == -1)
			fatal("asprintf");
		json_array_append_new(msgs, json_pack("{s:s,s:s}", "role",
		    "system", "content", sys));
		free(sys);
	}
	json_array_foreach(W.history, i, m)
		json_array_append(msgs, m);
	json_array_foreach(t->added, i, m)
		json_array_append(msgs, m);
	req = json_pack("{s:s,s:o,s:b,s:{s:b}}", "model", W.model ? W.model :
	    "", "messages", msgs, "stream", 1, "stream_options",
	    "include_usage", 1);
	if (W.comms)
		json_object_set_new(req, "tools", json_pack("[{s:s,s:{s:s,s:s,"
		    "s:{s:s,s:{s:{s:s},s:{s:s}},s:[s,s]}}}]", "type", "function",
		    "function", "name", "send_message", "description",
		    "Send a message to a wired peer of this mob.", "parameters",
		    "type", "object", "properties", "to", "type", "string",
		    "text", "type", "string", "required", "to", "text"));
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (body == NULL) {	/* json_pack refuses text that is not UTF-8 */
		turn_finish(t, "failed", "the request is not valid JSON: is "
		    "some text (input, system, instructions) not UTF-8?");
		return;
	}
	snprintf(url, sizeof(url), "%s/chat/completions", W.base_url ?
	    W.base_url : "http://127.0.0.1:8080/v1");
	if (httpc_init(W.loop) == -1) {
		turn_finish(t, "failed", "libcurl is not available");
		return;
	}
	h = http_header(h, "Content-Type: application/json");
	h = http_header(h, "Accept: text/event-stream");
	if (W.api_key != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    W.api_key);
		h = http_header(h, auth);
	}
	/* a fresh response for this request */
	free(t->body);
	t->body = NULL;
	t->bodylen = 0;
	sse_reset(&t->sse);
	t->done_seen = 0;
	free(t->finish);
	t->finish = NULL;
	for (i = 0; i < (size_t)t->ncalls; i++) {
		free(t->calls[i].id);
		free(t->calls[i].name);
		free(t->calls[i].args);
		free(t->calls[i].result);
	}
	t->ncalls = 0;
	t->req = http_post(url, h, body, W.timeout_ms, on_data, on_done, t);
	free(body);
	if (t->req == NULL)
		turn_finish(t, "failed", "cannot start the HTTP request");
}

static void
openai_turn(struct turn *t)
{
	json_array_append_new(t->added, json_pack("{s:s,s:s}", "role", "user",
	    "content", t->text));
	turn_request(t);
}

/* --- messages from mobkitd ------------------------------------------------ */

static void
set_str(char **dst, const struct msg_view *m, int key)
{
	free(*dst);
	*dst = msgv_strdup(m, key);
}

static void
on_config(const struct msg_view *m)
{
	char *snap = NULL;

	set_str(&W.id, m, K_ID);
	set_str(&W.provider, m, K_PROVIDER);
	set_str(&W.model, m, K_MODEL);
	set_str(&W.base_url, m, K_BASE_URL);
	set_str(&W.api_key, m, K_API_KEY);
	set_str(&W.system, m, K_SYSTEM);
	set_str(&W.instructions, m, K_INSTRUCTIONS);
	W.timeout_ms = (long)msgv_int(m, K_REQUEST_TIMEOUT_MS, 60000);
	W.comms = msgv_bool(m, K_COMMS, 1);
	set_str(&snap, m, K_SNAPSHOT);
	json_decref(W.history);
	W.history = snap ? json_loads(snap, 0, NULL) : NULL;
	if (!json_is_array(W.history)) {
		json_decref(W.history);
		W.history = json_array();
	}
	free(snap);
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
	if ((t->text = msgv_strdup(m, K_TEXT)) == NULL)
		t->text = strdup("");
	t->added = json_array();
	sse_init(&t->sse, SSE_LINE_MAX);
	W.turn = t;
	agent_event("run_started", "text", t->text, NULL, NULL);
	if (W.provider != NULL && strcmp(W.provider, "openai") == 0)
		openai_turn(t);
	else
		echo_turn(t);
}

static void
on_tool_result(const struct msg_view *m)
{
	struct turn *t = W.turn;
	char call[128], *err, *input;
	int ok, i, matched = 0;

	if (t == NULL || msgv_copy(m, K_CALL_ID, call, sizeof(call)) == -1)
		return;
	ok = msgv_bool(m, K_OK, 0);
	err = msgv_strdup(m, K_ERROR);
	input = msgv_strdup(m, K_INPUT_ID);
	for (i = 0; i < t->ncalls; i++) {
		struct toolcall *c = &t->calls[i];

		if (!c->pending || strcmp(c->id, call) != 0)
			continue;
		c->pending = 0;
		t->waiting--;
		matched = 1;
		free(c->result);
		if (ok && asprintf(&c->result, "delivered (input %s)",
		    input ? input : "?") == -1)
			fatal("asprintf");
		else if (!ok && asprintf(&c->result, "error: %s", err ? err :
		    "refused") == -1)
			fatal("asprintf");
	}
	free(err);
	free(input);
	/* a result that answers no pending call must not run the turn on:
	 * its request may be in flight */
	if (!matched || t->waiting > 0)
		return;
	if (W.provider != NULL && strcmp(W.provider, "openai") == 0) {
		for (i = 0; i < t->ncalls; i++)
			json_array_append_new(t->added, json_pack("{s:s,s:s,"
			    "s:s}", "role", "tool", "tool_call_id",
			    t->calls[i].id, "content", t->calls[i].result ?
			    t->calls[i].result : ""));
		turn_request(t);
	} else
		echo_turn(t);
}

static int
on_msg(const struct msg_view *m, void *arg)
{
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
	case MSG_INTERRUPT:
		if (W.turn != NULL) {
			log_info("%s: interrupted", W.turn->input_id);
			turn_finish(W.turn, "interrupted", "interrupted");
		} else if (msgv_copy(m, K_INPUT_ID, id, sizeof(id)) == 0)
			/* a turn we never had: still free mobkitd's side */
			send_done(id, "interrupted", "interrupted");
		break;
	case MSG_RESET:
		json_decref(W.history);
		W.history = json_array();
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
	/* READY comes once CONFIG has arrived (on_config) */
	r = mkchild_serve(&W.mk, W.loop, "mobkit-worker", on_msg, NULL, 0);
	if (W.turn != NULL)
		turn_free(W.turn);
	json_decref(W.history);
	return r;
}
