/*
 * turn.c: one turn of a member.  A turn sends the conversation to its
 * provider, streams the reply (text_delta events), has the tools the
 * model asks for run (tools.c) and asks again, up to max_tool_rounds,
 * then answers RUN_DONE.  The worker does not retry: a retryable failure goes back to
 * mobkitd (with the server's Retry-After), which runs the input again;
 * a failure that another attempt would not cure is marked final.
 *
 * Timeouts of an attempt: connect (curl), first byte of the body, the
 * longest silence inside it (a libev timer reset on every byte, so a slow
 * healthy stream lives on) and the whole attempt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "proto.h"
#include "wire.h"
#include "worker.h"

#define BODY_MAX	(64 * 1024 * 1024)


void
turn_append(char **buf, size_t *len, const char *s, size_t n)
{
	char *nb;

	if ((nb = realloc(*buf, *len + n + 1)) == NULL)
		fatal("realloc");
	memcpy(nb + *len, s, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
}

/* Text of the reply: kept, and sent on as a text_delta event. */
void
turn_delta(struct turn *t, const char *s, size_t n)
{
	if (n == 0)
		return;
	turn_append(&t->out, &t->outlen, s, n);
	agent_event("text_delta", json_pack("{s:s%}", "delta", s, n));
}

/* The usage a response reports (integers, or NULL when absent). */
void
turn_usage(struct turn *t, json_t *in, json_t *out)
{
	if (json_is_integer(in)) {
		t->r_in = (long)json_integer_value(in);
		t->r_seen = 1;
	}
	if (json_is_integer(out)) {
		t->r_out = (long)json_integer_value(out);
		t->r_seen = 1;
	}
}

/* A response is over: its usage counts for the turn. */
static void
usage_fold(struct turn *t)
{
	if (t->r_seen) {
		t->in_tokens += t->r_in;
		t->out_tokens += t->r_out;
		t->usage_seen = 1;
	}
	t->r_in = t->r_out = 0;
	t->r_seen = 0;
}

void
call_clear(struct toolcall *c)
{
	free(c->id);
	free(c->name);
	free(c->args);
	free(c->result);
	free(c->server);
	free(c->tool);
	memset(c, 0, sizeof(*c));
}

/*
 * The call at the provider's index (a new one when the index is new),
 * its id and name set when given; NULL when there are too many.
 */
struct toolcall *
turn_call(struct turn *t, int index, const char *id, const char *name)
{
	struct toolcall *c = NULL;
	int i;

	for (i = 0; i < t->ncalls; i++)
		if (t->calls[i].index == index)
			c = &t->calls[i];
	if (c == NULL) {
		if (t->ncalls == MAX_CALLS)
			return NULL;
		c = &t->calls[t->ncalls++];
		memset(c, 0, sizeof(*c));
		c->index = index;
		snprintf(c->wire, sizeof(c->wire), "c%u", ++W.ncall);
	}
	if (id != NULL && *id != '\0') {
		free(c->id);
		c->id = strdup(id);
	}
	if (name != NULL && *name != '\0') {
		free(c->name);
		c->name = strdup(name);
	}
	return c;
}

static void
stop_timers(struct turn *t)
{
	ev_timer_stop(W.loop, &t->gap);
	ev_timer_stop(W.loop, &t->whole);
}

void
turn_free(struct turn *t)
{
	int i;

	stop_timers(t);
	if (t->req != NULL)
		http_cancel(t->req);
	for (i = 0; i < t->ncalls; i++)
		call_clear(&t->calls[i]);
	json_decref(t->added);
	free(t->text);
	free(t->out);
	sse_free(&t->sse);
	free(t->body);
	free(t->finish);
	free(t);
}

/* Pack RUN_DONE: how a turn ended. */
static void
pack_done(struct msgw *w, struct turn *t, const char *status,
    const char *text, const char *error, const char *messages)
{
	msgw_begin(w, MSG_RUN_DONE);
	msgw_str(w, K_INPUT_ID, t->input_id);
	msgw_str(w, K_STATUS, status);
	msgw_str(w, K_TEXT, text);
	msgw_str(w, K_ERROR, error);
	msgw_str(w, K_MESSAGES, messages);
	if (t->usage_seen) {
		msgw_int(w, K_INPUT_TOKENS, t->in_tokens);
		msgw_int(w, K_OUTPUT_TOKENS, t->out_tokens);
	}
}

/* The end of a turn's event: run_completed or run_failed. */
static void
end_event(struct turn *t, const char *status, const char *error, int final)
{
	json_t *usage = json_null();

	if (t->usage_seen)
		usage = json_pack("{s:I,s:I,s:I}", "input_tokens",
		    (json_int_t)t->in_tokens, "output_tokens",
		    (json_int_t)t->out_tokens, "total_tokens",
		    (json_int_t)(t->in_tokens + t->out_tokens));
	if (strcmp(status, "completed") == 0)
		agent_event("run_completed", json_pack("{s:s,s:o}", "text",
		    t->out ? t->out : "", "usage", usage));
	else {
		json_decref(usage);
		if (strcmp(status, "failed") == 0)
			agent_event("run_failed", json_pack("{s:s,s:b}",
			    "error", error ? error : "failed", "final", final));
	}
}

/*
 * RUN_DONE to mobkitd; on success the history grows too.  A result too
 * large for one message fails the turn (saying so) rather than leaving
 * mobkitd waiting for it.
 */
void
turn_finish(struct turn *t, const char *status, const char *error,
    int final, long retry_after_ms)
{
	struct msgw w;
	char *added = NULL, msg[160];
	size_t i;
	json_t *m;

	stop_timers(t);
	usage_fold(t);
	if (strcmp(status, "completed") == 0)
		added = json_dumps(t->added, JSON_COMPACT);
	pack_done(&w, t, status, t->out ? t->out : "", error, added);
	if (strcmp(status, "failed") == 0) {
		if (final)
			msgw_bool(&w, K_FINAL, 1);
		if (retry_after_ms >= 0)
			msgw_int(&w, K_RETRY_AFTER_MS, retry_after_ms);
	}
	if (W.mk.peer != NULL && msgw_len(&w) > W.mk.peer->max_msg) {
		snprintf(msg, sizeof(msg), "the turn's result (%zu bytes) is "
		    "larger than the largest message (%zu bytes)",
		    msgw_len(&w), W.mk.peer->max_msg);
		msgw_free(&w);
		pack_done(&w, t, "failed", NULL, msg, NULL);
		msgw_bool(&w, K_FINAL, 1);
		status = "failed";
		error = msg;
		final = 1;
	}
	if (strcmp(status, "completed") == 0)
		json_array_foreach(t->added, i, m) {
			json_array_append(W.history, m);
			W.nuser += msg_is_user(m);
		}
	end_event(t, status, error, final);
	(void)send_msg(&w);
	free(added);
	if (W.turn == t)
		W.turn = NULL;
	turn_free(t);
}

/* A failed attempt: final, or retryable with the server's Retry-After. */
static void
fail(struct turn *t, const char *error, int final)
{
	turn_finish(t, "failed", error, final, final ? -1 : t->retry_after_ms);
}

/* The profile's system text and the member's instructions, or NULL. */
char *
turn_system(void)
{
	char *sys = NULL;

	if (W.system == NULL && W.instructions == NULL)
		return NULL;
	if (asprintf(&sys, "%s%s%s", W.system ? W.system : "",
	    W.system && W.instructions ? "\n\n" : "",
	    W.instructions ? W.instructions : "") == -1)
		fatal("asprintf");
	return sys;
}

/* --- the HTTP attempt ------------------------------------------------------ */

static const struct provider *
provider_of(void)
{
	if (W.provider != NULL && strcmp(W.provider, "anthropic") == 0)
		return &anthropic_provider;
	return &openai_provider;
}

/* A timer of the attempt fired: cancel it, fail (to be retried). */
static void
timeout_fail(struct turn *t, const char *what, const char *key, long ms)
{
	char msg[256];

	if (t->req != NULL)
		http_cancel(t->req);
	t->req = NULL;
	snprintf(msg, sizeof(msg), "timeout: %s (%s = %ld ms)", what, key, ms);
	fail(t, msg, 0);
}

static void
gap_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct turn *t = w->data;

	(void)l;
	(void)revents;
	if (!t->got_byte)
		timeout_fail(t, "no response from the server",
		    "first_byte_timeout_ms", param_int("first_byte_timeout_ms",
		    60000));
	else
		timeout_fail(t, "the response stalled", "idle_timeout_ms",
		    param_int("idle_timeout_ms", 60000));
}

static void
whole_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)revents;
	timeout_fail(w->data, "the request took too long",
	    "request_timeout_ms", param_int("request_timeout_ms", 600000));
}

/* A byte of the body arrived: the first-byte wait ends, idle restarts. */
static void
byte_seen(struct turn *t)
{
	long idle = param_int("idle_timeout_ms", 60000);

	if (!t->got_byte) {
		t->got_byte = 1;
		ev_timer_stop(W.loop, &t->gap);
		if (idle > 0) {
			t->gap.repeat = (double)idle / 1000.0;
			ev_timer_again(W.loop, &t->gap);
		}
	} else if (idle > 0)
		ev_timer_again(W.loop, &t->gap);
}

static void
on_header(void *arg, const char *line, size_t n)
{
	struct turn *t = arg;
	const char *sp;
	long ms;

	if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
		t->is_sse = 0;		/* a new response (after a 100) */
		t->retry_after_ms = -1;
		sp = memchr(line, ' ', n);
		t->status = sp ? strtol(sp + 1, NULL, 10) : 0;
	} else if (n > 13 && strncasecmp(line, "Content-Type:", 13) == 0)
		t->is_sse = memmem(line, n, "text/event-stream", 17) != NULL;
	else if ((ms = retry_after_header(line, n, time(NULL))) >= 0)
		t->retry_after_ms = ms;
}

/* SSE data lines to the provider. */
static void
sse_data(void *arg, const char *data)
{
	struct turn *t = arg;

	provider_of()->chunk(t, data);
}

static void
on_data(void *arg, const char *buf, size_t n)
{
	struct turn *t = arg;

	byte_seen(t);
	if (!t->is_sse || t->status < 200 || t->status >= 300) {
		if (t->bodylen + n <= BODY_MAX)
			turn_append(&t->body, &t->bodylen, buf, n);
		return;
	}
	if (sse_feed(&t->sse, buf, n, sse_data, t) == -1 && !t->stream_error) {
		snprintf(t->errmsg, sizeof(t->errmsg), "stream line longer "
		    "than %d bytes", SSE_LINE_MAX);
		t->stream_error = 1;
	}
}

/* The server's own message in an error body (OpenAI, Anthropic, others). */
static char *
server_message(const char *body)
{
	json_t *j = body ? json_loads(body, 0, NULL) : NULL, *e;
	const char *m = NULL;
	char *s;

	e = json_object_get(j, "error");
	if ((m = json_string_value(json_object_get(e, "message"))) == NULL &&
	    (m = json_string_value(e)) == NULL &&
	    (m = json_string_value(json_object_get(j, "message"))) == NULL)
		m = json_string_value(json_object_get(j, "detail"));
	if (m != NULL)
		s = strdup(m);
	else if (body != NULL && *body != '\0')
		s = strndup(body, 300);
	else
		s = strdup("(no body)");
	json_decref(j);
	return s;
}

/* Is an HTTP status worth another attempt? */
static int
retryable(long status)
{
	switch (status) {
	case 408: case 409: case 429: case 500: case 502: case 503: case 504:
	case 529:
		return 1;
	}
	return 0;
}

static void
http_fail(struct turn *t, long status)
{
	char *m = server_message(t->body), msg[1024];

	snprintf(msg, sizeof(msg), "HTTP %ld: %s", status, m);
	free(m);
	fail(t, msg, !retryable(status));
}

/* A response ended well: the model's calls, or the turn's reply. */
static void
response_end(struct turn *t)
{
	long max = param_int("max_tool_rounds", 8);
	char msg[160];

	if (t->ncalls > 0 && t->rounds >= max) {
		snprintf(msg, sizeof(msg), "the model asked for tools again "
		    "after max_tool_rounds (%ld) rounds", max);
		fail(t, msg, 1);
		return;
	}
	if (t->ncalls > 0) {
		turn_run_calls(t);
		return;
	}
	json_array_append_new(t->added, json_pack("{s:s,s:s}", "role",
	    "assistant", "content", t->out ? t->out + t->round_off : ""));
	turn_finish(t, "completed", NULL, 0, -1);
}

/* Does a body that came without an event-stream type hold one anyway? */
static int
looks_like_sse(const char *b)
{
	return b != NULL && (strncmp(b, "data:", 5) == 0 ||
	    strncmp(b, "event:", 6) == 0 || b[0] == ':');
}

/* A whole (non-streamed) body. */
static void
whole_body(struct turn *t)
{
	json_error_t jerr;
	json_t *j;
	char msg[512];

	if (looks_like_sse(t->body)) {
		t->is_sse = 1;
		(void)sse_feed(&t->sse, t->body, t->bodylen, sse_data, t);
		(void)sse_feed(&t->sse, "\n", 1, sse_data, t);
		if (t->stream_error)
			fail(t, t->errmsg, t->stream_final);
		else if (!t->done_seen && t->finish == NULL)
			fail(t, "the stream ended before its end", 0);
		else
			response_end(t);
		return;
	}
	if ((j = t->body ? json_loads(t->body, 0, &jerr) : NULL) == NULL) {
		snprintf(msg, sizeof(msg), "the response is not JSON: %.200s",
		    t->body ? t->body : "(empty)");
		fail(t, msg, 0);
		return;
	}
	provider_of()->whole(t, j);
	json_decref(j);
	if (t->stream_error)
		fail(t, t->errmsg, t->stream_final);
	else
		response_end(t);
}

static void
on_done(void *arg, CURLcode rc, long status, const char *err)
{
	struct turn *t = arg;
	char msg[1024];

	t->req = NULL;
	stop_timers(t);
	if (rc != CURLE_OK) {
		snprintf(msg, sizeof(msg), "network error: %s", err);
		fail(t, msg, 0);
	} else if (status < 200 || status >= 300)
		http_fail(t, status);
	else if (!t->is_sse)
		whole_body(t);
	else if (t->stream_error)
		fail(t, t->errmsg, t->stream_final);
	else if (!t->done_seen && t->finish == NULL)
		fail(t, "the stream ended before its end", 0);
	else
		response_end(t);
}

/* A fresh response for the next request. */
static void
response_reset(struct turn *t)
{
	usage_fold(t);
	free(t->body);
	t->body = NULL;
	t->bodylen = 0;
	sse_reset(&t->sse);
	t->done_seen = t->stream_error = t->stream_final = 0;
	t->got_byte = t->is_sse = 0;
	t->status = 0;
	t->retry_after_ms = -1;
	free(t->finish);
	t->finish = NULL;
	t->round_off = t->outlen;
}

/* Start the attempt's timers. */
static void
timers_start(struct turn *t)
{
	long fb = param_int("first_byte_timeout_ms", 60000);
	long whole = param_int("request_timeout_ms", 600000);

	ev_timer_init(&t->gap, gap_cb, (double)fb / 1000.0, 0.);
	t->gap.data = t;
	if (fb > 0)
		ev_timer_start(W.loop, &t->gap);
	ev_timer_init(&t->whole, whole_cb, (double)whole / 1000.0, 0.);
	t->whole.data = t;
	if (whole > 0)
		ev_timer_start(W.loop, &t->whole);
}

/* The request: system, the context, this turn's messages; the tools. */
void
turn_request(struct turn *t)
{
	struct http_opts o;
	json_t *msgs, *tools;
	char *sys = turn_system(), *url = NULL, *body = NULL, err[256];
	size_t dropped;
	int r;

	response_reset(t);
	if (httpc_init(W.loop) == -1) {
		free(sys);
		fail(t, "libcurl is not available", 1);
		return;
	}
	msgs = context_messages(W.history, t->added, sys ? strlen(sys) : 0,
	    param_int("max_context_tokens", 0), &dropped);
	if (dropped > 0)
		log_debug("%s: %zu old message(s) left out of the request",
		    t->input_id, dropped);
	tools = tools_offer();
	r = provider_of()->request(t, msgs, sys, tools, &url, &o.headers,
	    &body, err, sizeof(err));
	json_decref(msgs);
	json_decref(tools);
	free(sys);
	if (r == -1) {
		fail(t, err, 1);
		return;
	}
	o.url = url;
	o.body = body;
	o.connect_timeout_ms = param_int("connect_timeout_ms", 10000);
	o.timeout_ms = 0;	/* whole_cb says which limit it was */
	o.on_data = on_data;
	o.on_done = on_done;
	o.on_header = on_header;
	o.arg = t;
	timers_start(t);
	if ((t->req = http_request(&o)) == NULL)
		fail(t, "cannot start the HTTP request", 0);
	free(url);
	free(body);
}

/* RUN: the provider's first request, or the echo reply. */
void
turn_start(struct turn *t)
{
	if (W.provider == NULL || (strcmp(W.provider, "openai") != 0 &&
	    strcmp(W.provider, "anthropic") != 0)) {
		echo_turn(t);
		return;
	}
	json_array_append_new(t->added, json_pack("{s:s,s:s}", "role", "user",
	    "content", t->text));
	turn_request(t);
}
