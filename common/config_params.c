/*
 * config_params.c: a profile's provider parameters (section 8 keys) as one
 * JSON object text, built once at load and handed to the member's worker
 * in CONFIG's params.  Optional request parameters appear only when set,
 * so that the worker sends only what the user wrote.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"

/* "NAME: value" or "NAME=value" items as an object. */
static json_t *
pairs(const struct strlist *l, const char *sep)
{
	json_t *o = json_object();
	char *k, *v;
	int i;

	for (i = 0; i < l->n; i++) {
		if ((k = strdup(l->v[i])) == NULL)
			return o;
		if ((v = strstr(k, sep)) != NULL) {
			*v = '\0';
			v += strlen(sep);
			json_object_set_new(o, k, json_string(v));
		}
		free(k);
	}
	return o;
}

/* Set key to an integer when it is set (>= 0). */
static void
opt_int(json_t *o, const char *key, int64_t v)
{
	if (v >= 0)
		json_object_set_new(o, key, json_integer(v));
}

/* The request's optional sampling parameters. */
static void
sampling(json_t *o, const struct profile_conf *p)
{
	json_t *stop;
	int i;

	if (p->temperature != NULL)
		json_object_set_new(o, "temperature",
		    json_real(strtod(p->temperature, NULL)));
	if (p->top_p != NULL)
		json_object_set_new(o, "top_p", json_real(strtod(p->top_p,
		    NULL)));
	opt_int(o, "max_tokens", p->max_tokens);
	opt_int(o, "seed", p->seed);
	if (p->stop.n > 0) {
		stop = json_array();
		for (i = 0; i < p->stop.n; i++)
			json_array_append_new(stop, json_string(p->stop.v[i]));
		json_object_set_new(o, "stop", stop);
	}
	if (p->response_format != NULL)
		json_object_set_new(o, "response_format",
		    json_string(p->response_format));
	if (p->response_schema != NULL)
		json_object_set_new(o, "response_schema",
		    json_loads(p->response_schema, 0, NULL));
}

/* The JSON text (malloc'd), or NULL when out of memory. */
char *
profile_params_json(const struct profile_conf *p)
{
	json_t *o = json_object();
	char *s;

	if (p->api_key_header != NULL)
		json_object_set_new(o, "api_key_header",
		    json_string(p->api_key_header));
	json_object_set_new(o, "headers", pairs(&p->http_headers, ": "));
	json_object_set_new(o, "query", pairs(&p->http_query, "="));
	sampling(o, p);
	json_object_set_new(o, "stream", json_boolean(p->stream != 0));
	opt_int(o, "connect_timeout_ms", p->connect_timeout_ms);
	opt_int(o, "first_byte_timeout_ms", p->first_byte_timeout_ms);
	opt_int(o, "idle_timeout_ms", p->idle_timeout_ms);
	opt_int(o, "request_timeout_ms", p->request_timeout_ms);
	opt_int(o, "retry_backoff_ms", p->retry_backoff_ms);
	opt_int(o, "retry_backoff_max_ms", p->retry_backoff_max_ms);
	opt_int(o, "max_context_tokens", p->max_context_tokens);
	json_object_set_new(o, "max_tool_rounds", json_integer(
	    p->max_tool_rounds > 0 ? p->max_tool_rounds : 8));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
