/*
 * openai.c: the OpenAI-compatible door.
 *
 * POST /v1/chat/completions: "model" names a member; the last user
 * message is sent to it as an input (keyed by the Idempotency-Key header
 * when given) and its reply comes back as a chat.completion, or, with
 * "stream": true, as chat.completion.chunk events ending "data: [DONE]"
 * (the streamed input of sse.c, its events written in OpenAI's shape).
 * A completion not streamed has its usage when the turn's run_completed
 * event gives one (the events since the seq before the send); a streamed
 * one asked with "stream_options": {"include_usage": true} has it as
 * OpenAI gives it: "usage": null in every chunk, then one last chunk with
 * no choices and the usage (null when the provider counted no tokens).
 * GET /v1/models: the members as models, in OpenAI's list shape.
 *
 * Invariant: the input goes through the root's send verb like any other;
 * errors here are in OpenAI's shape {"error":{"message","type","code"}}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "gateway.h"

/* A completion in progress: what its answer needs. */
struct oa {
	char	*model;
	char	*id;		/* chatcmpl-INPUT */
	long long created;
	size_t	 sent;		/* bytes of content streamed */
	int	 started;	/* the role chunk is out */
	int	 include_usage;	/* stream_options.include_usage */
	json_t	*args;		/* of the send (not streamed) */
	json_int_t since;	/* the newest event seq before it */
	json_t	*answer;	/* the completion, waiting for its usage */
	char	*input_id;
};

static void
oa_free(void *p)
{
	struct oa *o = p;

	if (o == NULL)
		return;
	free(o->model);
	free(o->id);
	json_decref(o->args);
	json_decref(o->answer);
	free(o->input_id);
	free(o);
}

/* OpenAI's error shape. */
static json_t *
oa_error_body(unsigned status, const char *msg)
{
	const char *type = status == 401 ? "authentication_error" :
	    status == 404 || status == 400 || status == 413 ?
	    "invalid_request_error" : status == 503 ? "service_unavailable" :
	    "server_error";
	const char *code = status == 404 ? "model_not_found" :
	    error_code(status);

	return json_pack("{s:{s:s,s:s,s:s,s:n}}", "error", "message",
	    msg != NULL ? msg : "error", "type", type, "code", code, "param");
}

static void
oa_error(struct hreq *r, unsigned status, const char *msg)
{
	hreq_json(r, status, oa_error_body(status, msg));
}

/* The text of a message's content: a string, or its text parts joined. */
static char *
content_text(json_t *c)
{
	json_t *part;
	size_t i, len = 0;
	const char *t;
	char *s;

	if (json_is_string(c))
		return strdup(json_string_value(c));
	if (!json_is_array(c))
		return NULL;
	json_array_foreach(c, i, part)
		if ((t = json_string_value(json_object_get(part, "text"))))
			len += strlen(t) + 1;
	if ((s = calloc(1, len + 1)) == NULL)
		fatal("calloc");
	json_array_foreach(c, i, part)
		if ((t = json_string_value(json_object_get(part, "text")))) {
			if (*s != '\0')
				strcat(s, "\n");
			strcat(s, t);
		}
	return s;
}

/* The last user message's text, or NULL. */
static char *
last_user(json_t *msgs)
{
	json_t *m;
	size_t i;

	for (i = json_array_size(msgs); i-- > 0;) {
		m = json_array_get(msgs, i);
		if (json_is_string(json_object_get(m, "role")) &&
		    strcmp(json_string_value(json_object_get(m, "role")),
		    "user") == 0)
			return content_text(json_object_get(m, "content"));
	}
	return NULL;
}

/* The completion's id, from its input's, once known. */
static void
set_id(struct oa *o, const char *input_id)
{
	size_t n;

	if (o->id != NULL || input_id == NULL)
		return;
	n = strlen(input_id) + 10;
	if ((o->id = malloc(n)) == NULL)
		fatal("malloc");
	snprintf(o->id, n, "chatcmpl-%s", input_id);
}

static void	put_data(struct hreq *, json_t *);

/* A chunk: delta (or NULL), finish_reason (or NULL), out as "data:". */
static void
put_chunk(struct hreq *r, struct oa *o, json_t *delta, const char *finish)
{
	json_t *c = json_pack("{s:s,s:s,s:I,s:s,s:[{s:i,s:o,s:o}]}", "id",
	    o->id ? o->id : "chatcmpl-mobkit", "object",
	    "chat.completion.chunk", "created", o->created, "model", o->model,
	    "choices", "index", 0, "delta", delta ? delta : json_object(),
	    "finish_reason", finish ? json_string(finish) : json_null());

	if (o->include_usage)
		json_object_set_new(c, "usage", json_null());
	put_data(r, c);
}

/* OpenAI's usage from a run_completed's, or null. */
static json_t *
oa_usage(json_t *u)
{
	if (!json_is_object(u))
		return json_null();
	return json_pack("{s:O,s:O,s:O}", "prompt_tokens", json_object_get(u,
	    "input_tokens"), "completion_tokens", json_object_get(u,
	    "output_tokens"), "total_tokens", json_object_get(u,
	    "total_tokens"));
}

/* The last chunk of a stream asked with include_usage: no choices. */
static void
put_usage(struct hreq *r, struct oa *o)
{
	put_data(r, json_pack("{s:s,s:s,s:I,s:s,s:[],s:o}", "id", o->id ?
	    o->id : "chatcmpl-mobkit", "object", "chat.completion.chunk",
	    "created", o->created, "model", o->model, "choices", "usage",
	    oa_usage(sse_usage(r))));
}

/* j (taken) to the stream as one "data:" event. */
static void
put_data(struct hreq *r, json_t *j)
{
	size_t len;
	char *d = json_text(j, &len);

	json_decref(j);
	sse_put(r, "data: ", 6);
	sse_put(r, d, len);
	sse_put(r, "\n\n", 2);
	free(d);
}

/* Content to the stream (the role first). */
static void
stream_text(struct hreq *r, struct oa *o, const char *t)
{
	if (!o->started) {
		o->started = 1;
		put_chunk(r, o, json_pack("{s:s,s:s}", "role", "assistant",
		    "content", ""), NULL);
	}
	if (t != NULL && *t != '\0') {
		put_chunk(r, o, json_pack("{s:s}", "content", t), NULL);
		o->sent += strlen(t);
	}
}

/* The end of a stream: the rest of the text, finish_reason, [DONE]. */
static void
stream_result(struct hreq *r, struct oa *o, json_t *res)
{
	json_t *rs = json_object_get(res, "result");
	const char *st = json_string_value(json_object_get(rs, "status"));
	const char *t = json_string_value(json_object_get(rs, "text"));
	const char *why = json_string_value(json_object_get(res, "reason"));
	const char *err = json_string_value(json_object_get(rs, "error"));

	set_id(o, json_string_value(json_object_get(res, "input_id")));
	if (json_object_get(res, "error") != NULL)
		put_data(r, oa_error_body(root_error_status(json_string_value(
		    json_object_get(json_object_get(res, "error"),
		    "message"))), json_string_value(json_object_get(
		    json_object_get(res, "error"), "message"))));
	else if (why != NULL)
		put_data(r, oa_error_body(strstr(why, "unknown") ? 404 : 503,
		    why));
	else if (st == NULL || strcmp(st, "completed") != 0)
		put_data(r, oa_error_body(st == NULL ? 504 : 500, err ? err :
		    st ? st : "the reply did not come in time"));
	else {
		stream_text(r, o, t != NULL && strlen(t) > o->sent ?
		    t + o->sent : NULL);
		put_chunk(r, o, NULL, "stop");
		if (o->include_usage)
			put_usage(r, o);
	}
	sse_put(r, "data: [DONE]\n\n", 14);
}

/* sse.c's events of the streamed input, in OpenAI's shape. */
static void
oa_format(struct hreq *r, const char *type, json_t *data)
{
	struct oa *o = r->ctx;
	const char *id = json_string_value(json_object_get(data, "input_id"));

	set_id(o, id);
	if (strcmp(type, "delta") == 0)
		stream_text(r, o, json_string_value(json_object_get(data,
		    "delta")));
	else if (strcmp(type, "result") == 0)
		stream_result(r, o, data);
	else if (strcmp(type, "dropped") == 0) {
		put_data(r, oa_error_body(503, "the stream was dropped"));
		sse_put(r, "data: [DONE]\n\n", 14);
	}
}

static void	usage_find(struct hreq *, const char *);

/* The waited send answered: the chat.completion (its usage next). */
static void
chat_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct oa *o = r->ctx;
	json_t *rs = json_object_get(res, "result");
	const char *st = json_string_value(json_object_get(rs, "status"));
	const char *why = json_string_value(json_object_get(res, "reason"));
	const char *t = json_string_value(json_object_get(rs, "text"));
	char id[160];

	r->rid = 0;
	if (!ok) {
		oa_error(r, root_error_status(error), error);
		return;
	}
	if (why != NULL) {
		oa_error(r, strstr(why, "unknown") ? 404 : strstr(why,
		    "large") ? 413 : 503, why);
		return;
	}
	if (st == NULL || strcmp(st, "completed") != 0) {
		oa_error(r, st == NULL ? 504 : 500, json_string_value(
		    json_object_get(rs, "error")) ? json_string_value(
		    json_object_get(rs, "error")) : st ? st :
		    "the reply did not come in time");
		return;
	}
	snprintf(id, sizeof(id), "chatcmpl-%s", json_string_value(
	    json_object_get(res, "input_id")) ? json_string_value(
	    json_object_get(res, "input_id")) : "mobkit");
	o->answer = json_pack("{s:s,s:s,s:I,s:s,s:[{s:i,s:{s:s,s:s},s:s}]}",
	    "id", id, "object", "chat.completion", "created", o->created,
	    "model", o->model, "choices", "index", 0, "message", "role",
	    "assistant", "content", t ? t : "", "finish_reason", "stop");
	usage_find(r, json_string_value(json_object_get(res, "input_id")));
}

/* run_completed of our input: its usage, in OpenAI's words. */
static void
usage_item(struct hreq *r, json_t *item)
{
	struct oa *o = r->ctx;
	json_t *p = json_object_get(item, "payload");
	json_t *u = json_object_get(p, "usage");
	const char *id = json_string_value(json_object_get(p, "input_id"));

	if (o->input_id == NULL || id == NULL || strcmp(id, o->input_id) !=
	    0 || !json_is_object(u))
		return;
	json_object_set_new(o->answer, "usage", oa_usage(u));
}

/* The completion, with its usage when the events had it. */
static void
usage_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct oa *o = r->ctx;

	(void)ok;
	(void)res;
	(void)error;
	r->rid = 0;
	hreq_json(r, 200, json_incref(o->answer));
}

/* Look for the turn's usage among the events since the send. */
static void
usage_find(struct hreq *r, const char *input_id)
{
	struct oa *o = r->ctx;
	json_t *a;

	if (input_id == NULL || o->since < 0 ||
	    (o->input_id = strdup(input_id)) == NULL) {
		hreq_json(r, 200, json_incref(o->answer));
		return;
	}
	a = json_pack("{s:I,s:s}", "since", o->since, "type",
	    "run_completed");
	r->rid = root_call(r, "events", a, usage_item, usage_done);
	json_decref(a);
	if (r->rid == 0)
		hreq_json(r, 200, json_incref(o->answer));
}

/* The newest seq is known: now send, and wait for the reply. */
static void
chat_send(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct oa *o = r->ctx;

	(void)error;
	o->since = ok && json_is_integer(json_object_get(res, "last_seq")) ?
	    json_integer_value(json_object_get(res, "last_seq")) : -1;
	if ((r->rid = root_call(r, "send", o->args, NULL, chat_done)) == 0)
		oa_error(r, 503, "mobkitd is unreachable");
}

/* POST /v1/chat/completions */
void
oa_chat(struct hreq *r, const struct gw_route *rt, char **params, int np)
{
	const char *key = hreq_header(r, "Idempotency-Key"), *model;
	json_t *body, *args;
	json_error_t e;
	struct oa *o;
	char *text;

	(void)rt;
	(void)params;
	(void)np;
	if ((body = json_loadb(r->body ? r->body : "", r->blen, 0, &e)) ==
	    NULL || !json_is_object(body)) {
		json_decref(body);
		oa_error(r, 400, "the body is not a JSON object");
		return;
	}
	model = json_string_value(json_object_get(body, "model"));
	text = last_user(json_object_get(body, "messages"));
	if (model == NULL || text == NULL) {
		oa_error(r, 400, model == NULL ? "\"model\" (a member) is "
		    "missing" : "no message with role \"user\" in \"messages\"");
		json_decref(body);
		free(text);
		return;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->model = strdup(model)) == NULL)
		fatal("calloc");
	o->created = (long long)time(NULL);
	r->ctx = o;
	r->ctx_free = oa_free;
	args = json_pack("{s:s,s:s}", "member", model, "text", text);
	free(text);
	if (key != NULL && *key != '\0')
		json_object_set_new(args, "key", json_string(key));
	if (json_is_true(json_object_get(body, "stream"))) {
		o->include_usage = json_is_true(json_object_get(
		    json_object_get(body, "stream_options"), "include_usage"));
		sse_send_stream(r, model, args);
		sse_set_format(r, oa_format);
	} else {
		/* the newest seq now (no event has this type), then send */
		json_object_set_new(args, "wait", json_true());
		o->args = json_incref(args);
		json_decref(args);
		args = json_pack("{s:s}", "type", "gateway.none");
		if ((r->rid = root_call(r, "events", args, NULL, chat_send)) ==
		    0)
			oa_error(r, 503, "mobkitd is unreachable");
	}
	json_decref(args);
	json_decref(body);
}

/* The members, as OpenAI's list of models. */
static void
models_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	json_t *data = json_array(), *m;
	size_t i;

	r->rid = 0;
	if (!ok) {
		json_decref(data);
		oa_error(r, root_error_status(error), error);
		return;
	}
	json_array_foreach(res, i, m)
		if (json_is_string(json_object_get(m, "id")))
			json_array_append_new(data, json_pack("{s:O,s:s,s:I,"
			    "s:s}", "id", json_object_get(m, "id"), "object",
			    "model", "created", (json_int_t)0, "owned_by",
			    "mobkit"));
	hreq_json(r, 200, json_pack("{s:s,s:o}", "object", "list", "data",
	    data));
}

/* GET /v1/models */
void
oa_models(struct hreq *r, const struct gw_route *rt, char **params, int np)
{
	(void)rt;
	(void)params;
	(void)np;
	if ((r->rid = root_call(r, "members", NULL, NULL, models_done)) == 0)
		oa_error(r, 503, "mobkitd is unreachable");
}
