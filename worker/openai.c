/*
 * openai.c: OpenAI-compatible chat completions (OpenAI, Azure OpenAI,
 * Ollama, vLLM, llama.cpp server, ...): POST BASE/chat/completions, a
 * stream of "data: {chunk}" lines ending with "data: [DONE]", or one JSON
 * response with stream = false.  Tool calls arrive as deltas keyed by
 * index, their arguments split across chunks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "wire.h"
#include "worker.h"

/* The optional parameters the profile sets, as the request's fields. */
static void
sampling(json_t *req)
{
	static const char *const keys[] = { "temperature", "top_p",
	    "max_tokens", "seed", "stop", NULL };
	const char *fmt = param_str("response_format");
	json_t *v, *schema;
	int i;

	for (i = 0; keys[i] != NULL; i++)
		if ((v = json_object_get(W.params, keys[i])) != NULL)
			json_object_set(req, keys[i], v);
	if (fmt == NULL)
		return;
	if (strcmp(fmt, "json_schema") != 0) {
		json_object_set_new(req, "response_format", json_pack("{s:s}",
		    "type", fmt));
		return;
	}
	schema = json_object_get(W.params, "response_schema");
	/* a file that is already {"name":..,"schema":..} is sent as it is */
	if (json_object_get(schema, "schema") != NULL &&
	    json_object_get(schema, "name") != NULL)
		json_object_set_new(req, "response_format", json_pack("{s:s,"
		    "s:O}", "type", "json_schema", "json_schema", schema));
	else
		json_object_set_new(req, "response_format", json_pack("{s:s,"
		    "s:{s:s,s:o}}", "type", "json_schema", "json_schema", "name",
		    "response", "schema", schema ? json_incref(schema) :
		    json_object()));
}

/* The tools as OpenAI functions. */
static json_t *
functions(json_t *tools)
{
	json_t *a = json_array(), *tl;
	size_t i;

	json_array_foreach(tools, i, tl)
		json_array_append_new(a, json_pack("{s:s,s:{s:O,s:O,s:O}}",
		    "type", "function", "function", "name", json_object_get(tl,
		    "name"), "description", json_object_get(tl, "description"),
		    "parameters", json_object_get(tl, "schema")));
	return a;
}

/* The key's header: Authorization: Bearer KEY, or NAME: KEY. */
static struct curl_slist *
key_header(struct curl_slist *h, const char *dflt_name, int bearer)
{
	const char *name = param_str("api_key_header");
	char *line;

	if (W.api_key == NULL)
		return h;
	if (name == NULL)
		name = dflt_name;
	if (asprintf(&line, "%s: %s%s", name, bearer && strcasecmp(name,
	    "Authorization") == 0 ? "Bearer " : "", W.api_key) == -1)
		fatal("asprintf");
	h = http_header(h, line);
	free(line);
	return h;
}

/* The profile's header.NAME lines. */
struct curl_slist *
extra_headers(struct curl_slist *h)
{
	const char *k;
	json_t *v;
	char *line;

	json_object_foreach(json_object_get(W.params, "headers"), k, v) {
		if (asprintf(&line, "%s: %s", k, json_string_value(v) ?
		    json_string_value(v) : "") == -1)
			fatal("asprintf");
		h = http_header(h, line);
		free(line);
	}
	return h;
}

static int
oa_request(struct turn *t, json_t *msgs, const char *system, json_t *tools,
    char **url, struct curl_slist **hp, char **body, char *err, size_t errsz)
{
	json_t *req;
	int stream = json_is_false(json_object_get(W.params, "stream")) ? 0 : 1;
	struct curl_slist *h = NULL;

	(void)t;
	if (system != NULL)
		json_array_insert_new(msgs, 0, json_pack("{s:s,s:s}", "role",
		    "system", "content", system));
	req = json_pack("{s:s,s:O,s:b}", "model", W.model ? W.model : "",
	    "messages", msgs, "stream", stream);
	if (req != NULL && stream)
		json_object_set_new(req, "stream_options", json_pack("{s:b}",
		    "include_usage", 1));
	if (req != NULL && json_array_size(tools) > 0)
		json_object_set_new(req, "tools", functions(tools));
	if (req != NULL)
		sampling(req);
	*body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (*body == NULL) {	/* jansson refuses text that is not UTF-8 */
		snprintf(err, errsz, "the request is not valid JSON: is some "
		    "text (input, system, instructions) not UTF-8?");
		return -1;
	}
	*url = url_build(W.base_url, "http://127.0.0.1:8080/v1",
	    "/chat/completions", json_object_get(W.params, "query"));
	h = http_header(h, "Content-Type: application/json");
	h = http_header(h, stream ? "Accept: text/event-stream" :
	    "Accept: application/json");
	h = key_header(h, "Authorization", 1);
	h = http_header(h, "Expect:");	/* no 100-continue wait on big bodies */
	*hp = extra_headers(h);
	return 0;
}

/* One tool-call delta (or a whole call): assembled by its index. */
static void
call_piece(struct turn *t, json_t *tc, int dflt_index)
{
	json_t *f = json_object_get(tc, "function"), *ix;
	const char *args = json_string_value(json_object_get(f, "arguments"));
	struct toolcall *c;
	size_t len;

	ix = json_object_get(tc, "index");
	c = turn_call(t, json_is_integer(ix) ? (int)json_integer_value(ix) :
	    dflt_index, json_string_value(json_object_get(tc, "id")),
	    json_string_value(json_object_get(f, "name")));
	if (c == NULL || args == NULL)
		return;
	len = c->args ? strlen(c->args) : 0;
	turn_append(&c->args, &len, args, strlen(args));
}

/* Usage of a chunk or a response. */
static void
usage_of(struct turn *t, json_t *j)
{
	json_t *u = json_object_get(j, "usage");

	if (json_is_object(u))
		turn_usage(t, json_object_get(u, "prompt_tokens"),
		    json_object_get(u, "completion_tokens"));
}

/* An error object inside a 200 response. */
static int
error_of(struct turn *t, json_t *j)
{
	json_t *e = json_object_get(j, "error");
	const char *m;

	if (e == NULL || json_is_null(e))
		return 0;
	m = json_string_value(json_object_get(e, "message"));
	snprintf(t->errmsg, sizeof(t->errmsg), "server error in the "
	    "response: %s", m ? m : json_string_value(e) ? json_string_value(e) :
	    "?");
	t->stream_error = 1;
	return 1;
}

/* One "data:" line of the stream. */
static void
oa_chunk(struct turn *t, const char *data)
{
	json_t *j, *choice, *d, *tc;
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
	usage_of(t, j);
	error_of(t, j);
	choice = json_array_get(json_object_get(j, "choices"), 0);
	d = json_object_get(choice, "delta");
	if ((s = json_string_value(json_object_get(d, "content"))) != NULL)
		turn_delta(t, s, strlen(s));
	json_array_foreach(json_object_get(d, "tool_calls"), i, tc)
		call_piece(t, tc, (int)i);
	if ((fr = json_string_value(json_object_get(choice,
	    "finish_reason"))) != NULL) {
		free(t->finish);
		t->finish = strdup(fr);
	}
	json_decref(j);
}

/* The whole response of stream = false. */
static void
oa_whole(struct turn *t, json_t *j)
{
	json_t *msg, *tc;
	const char *s;
	size_t i;

	usage_of(t, j);
	if (error_of(t, j))
		return;
	msg = json_object_get(json_array_get(json_object_get(j, "choices"), 0),
	    "message");
	if (msg == NULL) {
		snprintf(t->errmsg, sizeof(t->errmsg), "the response has no "
		    "choices[0].message");
		t->stream_error = 1;
		return;
	}
	if ((s = json_string_value(json_object_get(msg, "content"))) != NULL)
		turn_delta(t, s, strlen(s));
	json_array_foreach(json_object_get(msg, "tool_calls"), i, tc)
		call_piece(t, tc, (int)i);
}

const struct provider openai_provider = {
	"openai", oa_request, oa_chunk, oa_whole
};

/* For anthropic.c: the shared header helpers. */
struct curl_slist *
key_header_of(struct curl_slist *h, const char *dflt_name)
{
	return key_header(h, dflt_name, 0);
}
