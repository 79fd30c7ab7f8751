/*
 * jsonrpc.c: JSON-RPC 2.0 messages and the line framing of MCP's stdio
 * transport (jsonrpc.h).  Invariant: a line is never kept beyond max
 * bytes; a message is classified from its fields alone (id, method,
 * result, error), and anything else is said to be malformed, never
 * guessed at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "log.h"

void
jrpc_lines_init(struct jrpc_lines *l, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->max = max;
}

void
jrpc_lines_free(struct jrpc_lines *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

/* Keep n more bytes of the current line, or start skipping it. */
static void
lines_keep(struct jrpc_lines *l, const char *p, size_t n, jrpc_line_cb cb,
    void *arg)
{
	size_t ncap;
	char *nb;

	if (l->skipping)
		return;
	if (l->len + n > l->max) {
		l->skipping = 1;
		cb(arg, NULL, l->len + n);
		l->len = 0;
		return;
	}
	if (l->len + n + 1 > l->cap) {
		ncap = l->cap ? l->cap : 4096;
		while (ncap < l->len + n + 1)
			ncap *= 2;
		if ((nb = realloc(l->buf, ncap)) == NULL)
			fatal("realloc");
		l->buf = nb;
		l->cap = ncap;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

/* Feed bytes; every complete line goes to cb ("\r\n" taken as "\n"). */
void
jrpc_lines_feed(struct jrpc_lines *l, const char *buf, size_t n,
    jrpc_line_cb cb, void *arg)
{
	static char empty[1];
	const char *nl;
	size_t k;

	while (n > 0) {
		if ((nl = memchr(buf, '\n', n)) == NULL) {
			lines_keep(l, buf, n, cb, arg);
			return;
		}
		k = (size_t)(nl - buf);
		lines_keep(l, buf, k, cb, arg);
		if (!l->skipping) {
			if (l->len > 0 && l->buf[l->len - 1] == '\r')
				l->len--;
			if (l->buf != NULL) {
				l->buf[l->len] = '\0';
				cb(arg, l->buf, l->len);
			} else
				cb(arg, empty, 0);
		}
		l->len = 0;
		l->skipping = 0;
		buf = nl + 1;
		n -= k + 1;
	}
}

json_t *
jrpc_parse(const char *s, size_t n, char *err, size_t errsz)
{
	json_error_t je;
	json_t *v;

	if ((v = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(err, errsz, "not JSON (%s at column %d)", je.text,
		    je.column);
		return NULL;
	}
	if (!json_is_object(v) && !json_is_array(v)) {
		snprintf(err, errsz, "not a JSON-RPC message (a JSON %s)",
		    json_is_string(v) ? "string" : json_is_number(v) ?
		    "number" : "scalar");
		json_decref(v);
		return NULL;
	}
	return v;
}

/* The id of a request or response: a string or an integer. */
static int
msg_id(struct jrpc_msg *m, char *err, size_t errsz)
{
	m->nid = -1;
	if (m->id == NULL || json_is_null(m->id))
		return 0;
	if (json_is_integer(m->id)) {
		m->nid = (int64_t)json_integer_value(m->id);
		return 0;
	}
	if (json_is_string(m->id))
		return 0;
	snprintf(err, errsz, "id is neither a string nor an integer");
	return -1;
}

/* The error object of a response. */
static int
msg_error(struct jrpc_msg *m, json_t *e, char *err, size_t errsz)
{
	json_t *code = json_object_get(e, "code");
	json_t *msg = json_object_get(e, "message");

	if (!json_is_object(e) || !json_is_integer(code)) {
		snprintf(err, errsz, "error is not {code, message}");
		return -1;
	}
	m->kind = JR_ERROR;
	m->code = (int64_t)json_integer_value(code);
	m->message = json_is_string(msg) ? json_string_value(msg) : "";
	return 0;
}

int
jrpc_classify(json_t *root, struct jrpc_msg *m, char *err, size_t errsz)
{
	json_t *method, *e;

	memset(m, 0, sizeof(*m));
	m->root = json_incref(root);
	if (!json_is_object(root)) {
		snprintf(err, errsz, "a message is a JSON object");
		return -1;
	}
	m->id = json_object_get(root, "id");
	if (msg_id(m, err, errsz) == -1)
		return -1;
	method = json_object_get(root, "method");
	if (method != NULL) {
		if (!json_is_string(method)) {
			snprintf(err, errsz, "method is not a string");
			return -1;
		}
		m->method = json_string_value(method);
		m->params = json_object_get(root, "params");
		m->kind = m->id != NULL ? JR_REQUEST : JR_NOTIFICATION;
		return 0;
	}
	if (m->id == NULL) {
		snprintf(err, errsz, "neither method nor id");
		return -1;
	}
	if ((e = json_object_get(root, "error")) != NULL)
		return msg_error(m, e, err, errsz);
	if ((m->result = json_object_get(root, "result")) == NULL) {
		snprintf(err, errsz, "a response without result or error");
		return -1;
	}
	m->kind = JR_RESULT;
	return 0;
}

void
jrpc_msg_free(struct jrpc_msg *m)
{
	json_decref(m->root);
	memset(m, 0, sizeof(*m));
}

/* Encode o (taken) as one line: compact, so no newline inside. */
static char *
encode(json_t *o, size_t *len)
{
	char *s, *line;
	size_t n;

	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		fatal("json_dumps");
	n = strlen(s);
	if ((line = realloc(s, n + 2)) == NULL)
		fatal("realloc");
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}

static json_t *
envelope(void)
{
	json_t *o = json_object();

	json_object_set_new(o, "jsonrpc", json_string("2.0"));
	return o;
}

char *
jrpc_request(int64_t id, const char *method, json_t *params, size_t *len)
{
	json_t *o = envelope();

	json_object_set_new(o, "id", json_integer((json_int_t)id));
	json_object_set_new(o, "method", json_string(method));
	if (params != NULL)
		json_object_set_new(o, "params", params);
	return encode(o, len);
}

char *
jrpc_notification(const char *method, json_t *params, size_t *len)
{
	json_t *o = envelope();

	json_object_set_new(o, "method", json_string(method));
	if (params != NULL)
		json_object_set_new(o, "params", params);
	return encode(o, len);
}

char *
jrpc_result(json_t *id, json_t *result, size_t *len)
{
	json_t *o = envelope();

	json_object_set(o, "id", id);
	json_object_set_new(o, "result", result ? result : json_object());
	return encode(o, len);
}

char *
jrpc_error(json_t *id, int code, const char *message, size_t *len)
{
	json_t *o = envelope(), *e = json_object();

	json_object_set(o, "id", id ? id : json_null());
	json_object_set_new(e, "code", json_integer(code));
	json_object_set_new(e, "message", json_string(message));
	json_object_set_new(o, "error", e);
	return encode(o, len);
}
