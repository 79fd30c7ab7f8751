/*
 * anthropic.c: the Anthropic Messages API: POST BASE/v1/messages with
 * x-api-key and anthropic-version, system at the top level, max_tokens
 * always (1024 unless set).  Streamed as SSE events (message_start,
 * content_block_start/delta/stop with text_delta and input_json_delta,
 * message_delta with stop_reason and usage, message_stop, ping, error),
 * or one JSON message with stream = false.
 *
 * The stored history is in the OpenAI shape; here it becomes Anthropic's:
 * tool_calls are tool_use blocks of the assistant, tool messages are
 * tool_result blocks of a user message, and consecutive messages of one
 * role are merged (the API wants them alternating).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "wire.h"
#include "worker.h"

#define ANTHROPIC_VERSION	"2023-06-01"

/* Append blocks as a message of role, merged into the last if it is one. */
static void
push(json_t *out, const char *role, json_t *blocks)
{
	json_t *last = json_array_get(out, json_array_size(out) - 1);
	const char *lr = json_string_value(json_object_get(last, "role"));

	if (json_array_size(blocks) == 0) {
		json_decref(blocks);
		return;
	}
	if (lr != NULL && strcmp(lr, role) == 0) {
		json_array_extend(json_object_get(last, "content"), blocks);
		json_decref(blocks);
		return;
	}
	json_array_append_new(out, json_pack("{s:s,s:o}", "role", role,
	    "content", blocks));
}

/* A text content as blocks (none when empty). */
static json_t *
text_blocks(json_t *content)
{
	json_t *a = json_array();
	const char *s = json_string_value(content);

	if (s != NULL && *s != '\0')
		json_array_append_new(a, json_pack("{s:s,s:s}", "type", "text",
		    "text", s));
	return a;
}

/* An assistant message: its text, then a tool_use block per call. */
static json_t *
assistant_blocks(json_t *m)
{
	json_t *a = text_blocks(json_object_get(m, "content")), *tc, *f, *in;
	const char *args;
	size_t i;

	json_array_foreach(json_object_get(m, "tool_calls"), i, tc) {
		f = json_object_get(tc, "function");
		args = json_string_value(json_object_get(f, "arguments"));
		in = args ? json_loads(args, 0, NULL) : NULL;
		if (!json_is_object(in)) {
			json_decref(in);
			in = json_object();
		}
		json_array_append_new(a, json_pack("{s:s,s:O,s:O,s:o}", "type",
		    "tool_use", "id", json_object_get(tc, "id"), "name",
		    json_object_get(f, "name"), "input", in));
	}
	return a;
}

/* The OpenAI-shaped messages in Anthropic's shape. */
static json_t *
convert(json_t *msgs)
{
	json_t *out = json_array(), *m;
	const char *role;
	size_t i;

	json_array_foreach(msgs, i, m) {
		role = json_string_value(json_object_get(m, "role"));
		if (role == NULL || strcmp(role, "system") == 0)
			continue;
		if (strcmp(role, "assistant") == 0)
			push(out, "assistant", assistant_blocks(m));
		else if (strcmp(role, "tool") == 0)
			push(out, "user", json_pack("[{s:s,s:O,s:O}]", "type",
			    "tool_result", "tool_use_id", json_object_get(m,
			    "tool_call_id"), "content", json_object_get(m,
			    "content")));
		else
			push(out, "user", text_blocks(json_object_get(m,
			    "content")));
	}
	return out;
}

/* The optional parameters Anthropic takes. */
static void
sampling(json_t *req)
{
	json_t *v;

	if ((v = json_object_get(W.params, "temperature")) != NULL)
		json_object_set(req, "temperature", v);
	if ((v = json_object_get(W.params, "top_p")) != NULL)
		json_object_set(req, "top_p", v);
	if ((v = json_object_get(W.params, "stop")) != NULL)
		json_object_set(req, "stop_sequences", v);
}

/* Does the profile set this header itself (header.NAME)? */
static int
has_header(const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach(json_object_get(W.params, "headers"), k, v)
		if (strcasecmp(k, name) == 0)
			return 1;
	return 0;
}

static int
an_request(struct turn *t, json_t *msgs, const char *system, json_t *tools,
    char **url, struct curl_slist **hp, char **body, char *err, size_t errsz)
{
	int stream = json_is_false(json_object_get(W.params, "stream")) ? 0 : 1;
	struct curl_slist *h = NULL;
	json_t *req, *tl, *a;
	size_t i;

	(void)t;
	req = json_pack("{s:s,s:I,s:o,s:b}", "model", W.model ? W.model : "",
	    "max_tokens", (json_int_t)param_int("max_tokens", 1024), "messages",
	    convert(msgs), "stream", stream);
	if (req != NULL && system != NULL)
		json_object_set_new(req, "system", json_string(system));
	if (req != NULL && json_array_size(tools) > 0) {
		a = json_array();
		json_array_foreach(tools, i, tl)
			json_array_append_new(a, json_pack("{s:O,s:O,s:O}",
			    "name", json_object_get(tl, "name"), "description",
			    json_object_get(tl, "description"), "input_schema",
			    json_object_get(tl, "schema")));
		json_object_set_new(req, "tools", a);
	}
	if (req != NULL)
		sampling(req);
	*body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (*body == NULL) {
		snprintf(err, errsz, "the request is not valid JSON: is some "
		    "text (input, system, instructions) not UTF-8?");
		return -1;
	}
	*url = url_build(W.base_url, "https://api.anthropic.com",
	    "/v1/messages", json_object_get(W.params, "query"));
	h = http_header(h, "Content-Type: application/json");
	h = http_header(h, stream ? "Accept: text/event-stream" :
	    "Accept: application/json");
	h = key_header_of(h, "x-api-key");
	h = http_header(h, "Expect:");	/* no 100-continue wait on big bodies */
	if (!has_header("anthropic-version"))
		h = http_header(h, "anthropic-version: " ANTHROPIC_VERSION);
	*hp = extra_headers(h);
	return 0;
}

/* An error event or body: retried unless another try cannot help. */
static void
an_error(struct turn *t, json_t *e)
{
	const char *type = json_string_value(json_object_get(e, "type"));
	const char *m = json_string_value(json_object_get(e, "message"));

	snprintf(t->errmsg, sizeof(t->errmsg), "server error in the "
	    "response: %s: %s", type ? type : "error", m ? m : "?");
	t->stream_error = 1;
	t->stream_final = type != NULL && (strcmp(type,
	    "invalid_request_error") == 0 || strcmp(type,
	    "authentication_error") == 0 || strcmp(type,
	    "permission_error") == 0 || strcmp(type, "not_found_error") == 0);
}

/* A piece of a block: text, or a tool_use's input JSON. */
static void
block_delta(struct turn *t, int index, json_t *d)
{
	const char *type = json_string_value(json_object_get(d, "type"));
	const char *s;
	struct toolcall *c;
	size_t len;

	if (type == NULL)
		return;
	if (strcmp(type, "text_delta") == 0 &&
	    (s = json_string_value(json_object_get(d, "text"))) != NULL)
		turn_delta(t, s, strlen(s));
	else if (strcmp(type, "input_json_delta") == 0 &&
	    (s = json_string_value(json_object_get(d, "partial_json"))) !=
	    NULL && (c = turn_call(t, index, NULL, NULL)) != NULL) {
		len = c->args ? strlen(c->args) : 0;
		turn_append(&c->args, &len, s, strlen(s));
	}
}

/* A block begins: a tool_use is a call (its input follows in deltas). */
static void
block_start(struct turn *t, int index, json_t *b)
{
	const char *type = json_string_value(json_object_get(b, "type"));
	const char *s;

	if (type == NULL)
		return;
	if (strcmp(type, "tool_use") == 0)
		(void)turn_call(t, index, json_string_value(json_object_get(b,
		    "id")), json_string_value(json_object_get(b, "name")));
	else if (strcmp(type, "text") == 0 &&
	    (s = json_string_value(json_object_get(b, "text"))) != NULL)
		turn_delta(t, s, strlen(s));
}

/* One event's data (its "type" says which event it is). */
static void
an_chunk(struct turn *t, const char *data)
{
	json_t *j, *u;
	json_error_t jerr;
	const char *type, *s;
	int index;

	if ((j = json_loads(data, 0, &jerr)) == NULL) {
		if (!t->stream_error)
			snprintf(t->errmsg, sizeof(t->errmsg), "malformed "
			    "stream event (%s): %.80s", jerr.text, data);
		t->stream_error = 1;
		return;
	}
	type = json_string_value(json_object_get(j, "type"));
	index = (int)json_integer_value(json_object_get(j, "index"));
	if (type == NULL)
		;
	else if (strcmp(type, "message_start") == 0) {
		u = json_object_get(json_object_get(j, "message"), "usage");
		turn_usage(t, json_object_get(u, "input_tokens"), NULL);
	} else if (strcmp(type, "content_block_start") == 0)
		block_start(t, index, json_object_get(j, "content_block"));
	else if (strcmp(type, "content_block_delta") == 0)
		block_delta(t, index, json_object_get(j, "delta"));
	else if (strcmp(type, "message_delta") == 0) {
		u = json_object_get(j, "usage");
		turn_usage(t, NULL, json_object_get(u, "output_tokens"));
		if ((s = json_string_value(json_object_get(json_object_get(j,
		    "delta"), "stop_reason"))) != NULL) {
			free(t->finish);
			t->finish = strdup(s);
		}
	} else if (strcmp(type, "message_stop") == 0)
		t->done_seen = 1;
	else if (strcmp(type, "error") == 0)
		an_error(t, json_object_get(j, "error"));
	json_decref(j);
}

/* The whole message of stream = false. */
static void
an_whole(struct turn *t, json_t *j)
{
	json_t *b, *u;
	const char *type, *s;
	struct toolcall *c;
	size_t i;

	if ((s = json_string_value(json_object_get(j, "type"))) != NULL &&
	    strcmp(s, "error") == 0) {
		an_error(t, json_object_get(j, "error"));
		return;
	}
	u = json_object_get(j, "usage");
	turn_usage(t, json_object_get(u, "input_tokens"), json_object_get(u,
	    "output_tokens"));
	json_array_foreach(json_object_get(j, "content"), i, b) {
		type = json_string_value(json_object_get(b, "type"));
		if (type != NULL && strcmp(type, "text") == 0 &&
		    (s = json_string_value(json_object_get(b, "text"))) != NULL)
			turn_delta(t, s, strlen(s));
		else if (type != NULL && strcmp(type, "tool_use") == 0 &&
		    (c = turn_call(t, (int)i, json_string_value(
		    json_object_get(b, "id")), json_string_value(
		    json_object_get(b, "name")))) != NULL) {
			free(c->args);
			c->args = json_dumps(json_object_get(b, "input"),
			    JSON_COMPACT | JSON_ENCODE_ANY);
		}
	}
}

const struct provider anthropic_provider = {
	"anthropic", an_request, an_chunk, an_whole
};
