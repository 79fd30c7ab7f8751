/*
 * session.c: the MCP client side of one server.
 *
 * initialize (the protocol version negotiated), notifications/initialized,
 * tools/list (every page) -> MCP_LIST then READY to the root.  A call
 * from the root becomes tools/call under an id of ours; its response
 * becomes MCP_RESULT; a cancel becomes notifications/cancelled.  The
 * root's watchdog PING is answered only once the server has answered an
 * MCP ping, so a wedged server is a wedged bridge.  tools/list_changed
 * lists again.  Invariant: every request we sent is in reqs until its
 * response comes or it is cancelled; nothing here times out (the root
 * owns every deadline).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "jsonrpc.h"
#include "log.h"
#include "tojson.h"
#include "proto.h"

#define PINGS_MAX	4	/* outstanding pings: more are not sent */

enum { RQ_INIT, RQ_LIST, RQ_CALL, RQ_PING };

struct req {
	struct req	*next;
	int64_t		 id;
	int		 kind;
	int64_t		 seq;		/* RQ_PING: the root's */
	char		 call_id[128];	/* RQ_CALL: the root's */
	char		 tool[256];	/* RQ_CALL */
};

const char *const session_versions[] = { "2025-06-18", "2025-03-26",
    "2024-11-05", NULL };

static struct {
	struct req	*reqs;
	int64_t		 next_id;
	int		 npings;
	const char	*protocol;
	int		 ready;		/* READY sent */
	int		 listing;	/* a tools/list round is on */
	int		 relist;	/* list_changed during it */
	json_t		*acc;		/* tools of this round */
} S = { .next_id = 1 };

static struct req *
req_add(int kind)
{
	struct req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("calloc");
	r->id = S.next_id++;
	r->kind = kind;
	r->next = S.reqs;
	S.reqs = r;
	return r;
}

/* Take the request with this id off the list. */
static struct req *
req_take(int64_t id)
{
	struct req **pp, *r;

	for (pp = &S.reqs; (r = *pp) != NULL; pp = &r->next)
		if (r->id == id) {
			*pp = r->next;
			return r;
		}
	return NULL;
}

/* Send a request we keep as r; on failure r is dropped and -1. */
static int
req_send(struct req *r, const char *method, json_t *params)
{
	size_t len;
	char *line = jrpc_request(r->id, method, params, &len);

	if (bridge_transport->send(line, len, r->id) == 0)
		return 0;
	free(req_take(r->id));
	return -1;
}

static void
notify(const char *method, json_t *params)
{
	size_t len;
	char *line = jrpc_notification(method, params, &len);

	(void)bridge_transport->send(line, len, -1);
}

const char *
session_protocol(void)
{
	return S.protocol;
}

/* Begin: initialize with our newest version. */
void
session_start(void)
{
	json_t *p = json_object(), *info = json_object();

	json_object_set_new(info, "name", json_string("mobkit"));
	json_object_set_new(info, "version", json_string(MOBKIT_VERSION));
	json_object_set_new(p, "protocolVersion",
	    json_string(session_versions[0]));
	json_object_set_new(p, "capabilities", json_object());
	json_object_set_new(p, "clientInfo", info);
	if (req_send(req_add(RQ_INIT), "initialize", p) == -1)
		fatalx("%s: cannot send initialize", bridge_name);
}

/* One tools/list page (cursor NULL: the first). */
static void
list_page(const char *cursor)
{
	json_t *p = json_object();

	if (cursor != NULL)
		json_object_set_new(p, "cursor", json_string(cursor));
	if (req_send(req_add(RQ_LIST), "tools/list", p) == -1)
		fatalx("%s: cannot send tools/list", bridge_name);
}

static void
list_begin(void)
{
	if (S.listing) {
		S.relist = 1;
		return;
	}
	S.listing = 1;
	S.relist = 0;
	json_decref(S.acc);
	S.acc = json_array();
	list_page(NULL);
}

/* The initialize result: a version we speak, or the bridge gives up. */
static void
on_init(json_t *result)
{
	const char *v = json_string_value(json_object_get(result,
	    "protocolVersion"));
	int i;

	for (i = 0; v != NULL && session_versions[i] != NULL; i++)
		if (strcmp(v, session_versions[i]) == 0)
			break;
	if (v == NULL || session_versions[i] == NULL) {
		log_warnx("%s: the server answered initialize with protocol "
		    "version %s; mobkit speaks %s, %s and %s", bridge_name,
		    v ? v : "(none)", session_versions[0], session_versions[1],
		    session_versions[2]);
		bridge_exit(1);
	}
	S.protocol = session_versions[i];
	log_info("%s: MCP %s with %s", bridge_name, S.protocol,
	    json_string_value(json_object_get(json_object_get(result,
	    "serverInfo"), "name")) ? json_string_value(json_object_get(
	    json_object_get(result, "serverInfo"), "name")) : "the server");
	notify("notifications/initialized", NULL);
	list_begin();
}

/* A tool as the root keeps it: {server, name, description, input_schema}. */
static json_t *
tool_entry(json_t *t)
{
	json_t *o = json_object(), *d = json_object_get(t, "description"),
	    *s = json_object_get(t, "inputSchema");

	json_object_set_new(o, "server", json_string(bridge_name));
	json_object_set(o, "name", json_object_get(t, "name"));
	json_object_set_new(o, "description", json_is_string(d) ?
	    json_incref(d) : json_string(""));
	json_object_set_new(o, "input_schema", json_is_object(s) ?
	    json_incref(s) : json_pack("{s:s}", "type", "object"));
	return o;
}

/* The round is over: MCP_LIST (then READY the first time). */
static void
list_done(void)
{
	char *s = json_dumps(S.acc, JSON_COMPACT);

	if (s == NULL)
		fatal("json_dumps");
	log_info("%s: %zu tool(s)", bridge_name, json_array_size(S.acc));
	root_list(s);
	free(s);
	S.listing = 0;
	if (!S.ready) {
		S.ready = 1;
		root_ready();
		if (bridge_transport->ready != NULL)
			bridge_transport->ready();
	}
	if (S.relist)
		list_begin();
}

/* A page of tools/list: keep its tools, ask for the next page. */
static void
on_list(json_t *result)
{
	json_t *tools = json_object_get(result, "tools"), *t, *next;
	size_t i;

	json_array_foreach(tools, i, t)
		if (json_is_string(json_object_get(t, "name")))
			json_array_append_new(S.acc, tool_entry(t));
	next = json_object_get(result, "nextCursor");
	if (json_is_string(next) && *json_string_value(next) != '\0')
		list_page(json_string_value(next));
	else
		list_done();
}

/* A tools/call result: its content (or structuredContent as text). */
static void
on_call(struct req *r, json_t *result)
{
	json_t *content = json_object_get(result, "content"), *sc;
	char *s, *t = NULL;
	int is_error = json_is_true(json_object_get(result, "isError"));

	if (!json_is_array(content) || json_array_size(content) == 0) {
		sc = json_object_get(result, "structuredContent");
		if (sc != NULL && (t = json_dumps(sc, JSON_COMPACT)) == NULL)
			fatal("json_dumps");
		s = json_text_blocks(t ? t : "");
		free(t);
	} else if ((s = json_dumps(content, JSON_COMPACT)) == NULL)
		fatal("json_dumps");
	root_result(r->call_id, s, is_error);
	free(s);
}

/* An error response to one of our requests. */
static void
on_error(struct req *r, const struct jrpc_msg *m)
{
	char buf[1024], *s;

	switch (r->kind) {
	case RQ_CALL:
		snprintf(buf, sizeof(buf), "mcp server %s: %s: %s (code %lld)",
		    bridge_name, r->tool, m->message, (long long)m->code);
		s = json_text_blocks(buf);
		root_result(r->call_id, s, 1);
		free(s);
		break;
	case RQ_PING:
		S.npings--;
		root_pong(r->seq);	/* it answered: it is alive */
		break;
	default:
		log_warnx("%s: the server refused %s: %s (code %lld)",
		    bridge_name, r->kind == RQ_INIT ? "initialize" :
		    "tools/list", m->message, (long long)m->code);
		bridge_exit(1);
	}
}

/* A response: matched to the request we sent under its id. */
static void
on_response(const struct jrpc_msg *m)
{
	struct req *r;

	if (m->nid < 0 || (r = req_take(m->nid)) == NULL) {
		log_debug("%s: a response to no request of ours: dropped",
		    bridge_name);
		return;
	}
	if (m->kind == JR_ERROR)
		on_error(r, m);
	else if (r->kind == RQ_INIT)
		on_init(m->result);
	else if (r->kind == RQ_LIST)
		on_list(m->result);
	else if (r->kind == RQ_CALL)
		on_call(r, m->result);
	else {
		S.npings--;
		root_pong(r->seq);
	}
	free(r);
}

/* A request from the server: ping is answered, the rest refused. */
static void
on_request(const struct jrpc_msg *m)
{
	size_t len;
	char *line;

	if (strcmp(m->method, "ping") == 0)
		line = jrpc_result(m->id, json_object(), &len);
	else
		line = jrpc_error(m->id, JRPC_METHOD_NOT_FOUND,
		    "mobkit does not offer this", &len);
	(void)bridge_transport->send(line, len, -1);
}

static void
on_notification(const struct jrpc_msg *m)
{
	json_t *data;
	char *s;

	if (strcmp(m->method, "notifications/tools/list_changed") == 0) {
		log_info("%s: its tools changed: listing them again",
		    bridge_name);
		if (S.ready)
			list_begin();
	} else if (strcmp(m->method, "notifications/message") == 0 &&
	    (data = json_object_get(m->params, "data")) != NULL) {
		s = json_is_string(data) ? NULL : json_dumps(data,
		    JSON_COMPACT);
		log_info("%s: %.500s", bridge_name, s ? s :
		    json_string_value(data));
		free(s);
	}
}

/* One value from the server: a message, or a batch of them. */
void
session_value(json_t *v)
{
	struct jrpc_msg m;
	char err[128];
	size_t i;
	json_t *e;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			session_value(e);
		return;
	}
	if (jrpc_classify(v, &m, err, sizeof(err)) == -1)
		log_warnx("%s: a malformed message from the server: %s",
		    bridge_name, err);
	else if (m.kind == JR_RESULT || m.kind == JR_ERROR)
		on_response(&m);
	else if (m.kind == JR_REQUEST)
		on_request(&m);
	else
		on_notification(&m);
	jrpc_msg_free(&m);
}

/* A line the server printed: JSON-RPC, or logged and ignored. */
void
session_line(char *line, size_t len)
{
	char err[128];
	json_t *v;

	if (line == NULL) {
		log_warnx("%s: the server printed a line over %u bytes: "
		    "dropped", bridge_name, JRPC_LINE_MAX);
		return;
	}
	if (len == 0)
		return;
	if ((v = jrpc_parse(line, len, err, sizeof(err))) == NULL) {
		log_warnx("%s: not JSON-RPC, ignored: %.200s", bridge_name,
		    line);
		return;
	}
	session_value(v);
	json_decref(v);
}

/* MCP_CALL from the root: tools/call under an id of ours. */
void
session_call(const char *call_id, const char *name, const char *args_json)
{
	json_t *args, *p;
	struct req *r;
	char *s;

	args = *args_json ? json_loads(args_json, 0, NULL) : json_object();
	if (!json_is_object(args)) {
		json_decref(args);
		s = json_text_blocks("the arguments are not a JSON object");
		root_result(call_id, s, 1);
		free(s);
		return;
	}
	r = req_add(RQ_CALL);
	snprintf(r->call_id, sizeof(r->call_id), "%s", call_id);
	snprintf(r->tool, sizeof(r->tool), "%s", name);
	p = json_pack("{s:s,s:o}", "name", name, "arguments", args);
	if (req_send(r, "tools/call", p) == -1) {
		s = json_text_blocks("the server is not reading its input");
		root_result(call_id, s, 1);
		free(s);
	}
}

/* MCP_CANCEL: forget the call, and tell the server. */
void
session_cancel(const char *call_id)
{
	struct req *r;
	int64_t id = -1;

	for (r = S.reqs; r != NULL; r = r->next)
		if (r->kind == RQ_CALL && strcmp(r->call_id, call_id) == 0)
			id = r->id;
	if (id < 0)
		return;
	free(req_take(id));
	if (bridge_transport->abort != NULL)
		bridge_transport->abort(id);
	notify("notifications/cancelled", json_pack("{s:I,s:s}", "requestId",
	    (json_int_t)id, "reason", "the caller no longer waits"));
}

/* The root's PING: answered (PONG) once the server answers ours. */
void
session_ping(int64_t seq)
{
	struct req *r;

	if (!S.ready || S.npings >= PINGS_MAX)
		return;
	r = req_add(RQ_PING);
	r->seq = seq;
	if (req_send(r, "ping", NULL) == 0)
		S.npings++;
}

/*
 * The transport lost request id: a call fails with why; a lost ping is
 * not answered (the watchdog judges); without initialize or tools/list
 * the bridge cannot go on.
 */
void
session_lost(int64_t id, const char *why)
{
	struct req *r;
	char buf[1024], *s;

	if ((r = req_take(id)) == NULL)
		return;
	switch (r->kind) {
	case RQ_CALL:
		snprintf(buf, sizeof(buf), "mcp server %s: %s: %s",
		    bridge_name, r->tool, why);
		s = json_text_blocks(buf);
		root_result(r->call_id, s, 1);
		free(s);
		break;
	case RQ_PING:
		S.npings--;
		break;
	default:
		log_warnx("%s: %s: %s", bridge_name, r->kind == RQ_INIT ?
		    "initialize" : "tools/list", why);
		bridge_exit(1);
	}
	free(r);
}
