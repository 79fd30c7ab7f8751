/*
 * mcpserver.c: the MCP door, the mob as an MCP server over Streamable HTTP
 * (protocol revisions 2025-06-18 and 2025-03-26).
 *
 * POST /mcp carries one JSON-RPC message.  A request is answered with one
 * JSON response (application/json; the transport lets the server choose
 * it over SSE), or, when the client's Accept prefers text/event-stream
 * (a higher q than application/json, or no JSON at all), with an event
 * stream of that one response as a "message" event, closed after it; a
 * notification or a response is taken with 202.  A batch (an array)
 * holding a request is refused with 400 and a JSON-RPC error (-32600, id
 * null), as the transport allows: since 2025-06-18 a POST carries one
 * message (a batch of notifications or responses only, which 2025-03-26
 * allowed, is still taken with 202).
 * initialize opens a session (Mcp-Session-Id); every later request must
 * name a live one (400 without, 404 when unknown: the client then
 * initializes again).  DELETE /mcp ends a session.  GET /mcp has no
 * route, so 405: we offer no server-initiated stream.
 *
 * Tools map onto the root's verbs: mobkit_status (status), mobkit_members
 * (members), mobkit_send (send, waited for the reply text when asked),
 * mobkit_conversation (conversation), mobkit_inputs (inputs),
 * mobkit_restart (restart).
 *
 * Invariant: the same auth as the rest (the route needs the token), and
 * a browser's Origin must be this host; a session is only a name we gave
 * out, bounded in number (oldest out).
 */
#include <sys/random.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "gateway.h"

#define SESSIONS_MAX	1024
#define PROTO_LATEST	"2025-06-18"

static char	sessions[SESSIONS_MAX][33];
static size_t	nsessions_next;		/* the slot the next one takes */

static const char *const protocols[] = { "2025-06-18", "2025-03-26",
    "2024-11-05" };

/* The tools: name, description, input schema (JSON text), verb. */
static const struct mtool {
	const char	*name;
	const char	*desc;
	const char	*schema;
	const char	*verb;
} mtools[] = {
	{ "mobkit_status", "The supervision tree: the daemon and every child "
	  "with its state, pid and restarts.",
	  "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\","
	  "\"description\":\"one child only\"}}}", "status" },
	{ "mobkit_members", "The members of the mob: id, profile, state, "
	  "peers.", "{\"type\":\"object\",\"properties\":{}}", "members" },
	{ "mobkit_send", "Send a member a message (an input).  With wait, "
	  "the answer is the member's reply text.",
	  "{\"type\":\"object\",\"properties\":{"
	  "\"member\":{\"type\":\"string\",\"description\":\"the member id\"},"
	  "\"text\":{\"type\":\"string\"},"
	  "\"key\":{\"type\":\"string\",\"description\":\"idempotency key: "
	  "the same key is the same input\"},"
	  "\"wait\":{\"type\":\"boolean\",\"description\":\"wait for the "
	  "reply\"},"
	  "\"timeout_ms\":{\"type\":\"integer\"}},"
	  "\"required\":[\"member\",\"text\"]}", "send" },
	{ "mobkit_conversation", "A member's conversation: its messages, "
	  "oldest first.",
	  "{\"type\":\"object\",\"properties\":{\"member\":{\"type\":"
	  "\"string\"},\"n\":{\"type\":\"integer\",\"description\":\"the last "
	  "n messages\"}},\"required\":[\"member\"]}", "conversation" },
	{ "mobkit_inputs", "A member's inputs (its mailbox): queued, "
	  "running and done.",
	  "{\"type\":\"object\",\"properties\":{\"member\":{\"type\":"
	  "\"string\"}},\"required\":[\"member\"]}", "inputs" },
	{ "mobkit_restart", "Restart a child of the tree (a member, a module, "
	  "a service).",
	  "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":"
	  "\"string\"}},\"required\":[\"name\"]}", "restart" },
};
#define NTOOLS	(sizeof(mtools) / sizeof(mtools[0]))

/* A request in progress: its JSON-RPC id, and the tool's. */
struct mcall {
	json_t			*id;
	const struct mtool	*tool;
	int			 waited;
	int			 sse;	/* answer as an event stream */
};

static void
mcall_free(void *p)
{
	struct mcall *c = p;

	json_decref(c->id);
	free(c);
}

/*
 * The q of a media type in an Accept header: that of its own range, else
 * of its type's wildcard range, else of the range of all types; 0 when
 * none names it.
 */
static double
accept_q(const char *acc, const char *type)
{
	const char *p, *e, *semi, *q;
	double best = 0, qv;
	size_t tl = strlen(type), sl = strcspn(type, "/") + 1, n;
	int rank = 0, k;

	for (p = acc; p != NULL && *p != '\0'; p = *e ? e + 1 : e) {
		p += strspn(p, " \t");
		e = p + strcspn(p, ",");
		semi = memchr(p, ';', (size_t)(e - p));
		n = (size_t)((semi ? semi : e) - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == tl && strncasecmp(p, type, tl) == 0)
			k = 3;
		else if (n == sl + 1 && strncasecmp(p, type, sl) == 0 &&
		    p[sl] == '*')
			k = 2;
		else if (n == 3 && strncmp(p, "*/*", 3) == 0)
			k = 1;
		else
			continue;
		qv = 1;
		for (q = semi; q != NULL && q < e; q = memchr(q + 1, ';',
		    (size_t)(e - q - 1))) {
			q++;
			q += strspn(q, " \t");
			if (strncmp(q, "q=", 2) == 0)
				qv = strtod(q + 2, NULL);
		}
		if (k > rank) {
			rank = k;
			best = qv;
		}
	}
	return best;
}

/* Does the client prefer an event stream to JSON for its answer? */
static int
wants_sse(struct hreq *r)
{
	const char *acc = hreq_header(r, "Accept");

	return acc != NULL && accept_q(acc, "text/event-stream") >
	    accept_q(acc, "application/json");
}

/* A JSON-RPC answer: JSON, or the one event of a stream (200 only). */
static void
rpc_answer(struct hreq *r, unsigned status, json_t *j)
{
	struct mcall *c = r->ctx;
	char *d, *ev;
	size_t len;
	int n;

	if (status != 200 || c == NULL || !c->sse) {
		hreq_json(r, status, j);
		return;
	}
	d = json_text(j, &len);
	json_decref(j);
	if ((n = asprintf(&ev, "event: message\ndata: %s\n\n", d)) == -1)
		fatal("asprintf");
	free(d);
	hreq_header_add(r, "Cache-Control", "no-cache");
	hreq_answer(r, 200, "text/event-stream", ev, (size_t)n);
}

static void
rpc_result(struct hreq *r, json_t *id, json_t *result)
{
	rpc_answer(r, 200, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id",
	    id ? id : json_null(), "result", result));
}

static void
rpc_error(struct hreq *r, unsigned status, json_t *id, int code,
    const char *msg)
{
	rpc_answer(r, status, json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc",
	    "2.0", "id", id ? id : json_null(), "error", "code", code,
	    "message", msg));
}

/* A tool's result: text content, an error or not. */
static json_t *
tool_result(const char *text, int is_error)
{
	return json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text",
	    "text", text, "isError", is_error);
}

/* --- sessions -------------------------------------------------------- */

static const char *
session_new(void)
{
	unsigned char b[16];
	char *s = sessions[nsessions_next];
	size_t i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		fatal("getrandom");
	for (i = 0; i < sizeof(b); i++)
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	nsessions_next = (nsessions_next + 1) % SESSIONS_MAX;
	return s;
}

static char *
session_find(const char *id)
{
	size_t i;

	if (id == NULL || strlen(id) != 32)
		return NULL;
	for (i = 0; i < SESSIONS_MAX; i++)
		if (strcmp(sessions[i], id) == 0)
			return sessions[i];
	return NULL;
}

/* --- tools/call ------------------------------------------------------ */

/* The text a tool answers with: the reply, or the verb's JSON. */
static void
tool_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct mcall *c = r->ctx;
	json_t *rs = json_object_get(res, "result");
	const char *why = json_string_value(json_object_get(res, "reason"));
	const char *st = json_string_value(json_object_get(rs, "status"));
	const char *t = json_string_value(json_object_get(rs, "text"));
	char *s;

	r->rid = 0;
	if (!ok) {
		rpc_result(r, c->id, tool_result(error, 1));
		return;
	}
	if (why != NULL) {
		rpc_result(r, c->id, tool_result(why, 1));
		return;
	}
	if (c->waited && st != NULL) {
		rpc_result(r, c->id, tool_result(t ? t : st,
		    strcmp(st, "completed") != 0));
		return;
	}
	if (c->waited) {
		rpc_result(r, c->id, tool_result("no reply in time", 1));
		return;
	}
	s = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
	rpc_result(r, c->id, tool_result(s ? s : "null", 0));
	free(s);
}

/* The verb's args from the tool's arguments; NULL: a missing one. */
static json_t *
tool_args(const struct mtool *t, json_t *a, const char **missing)
{
	json_t *args = json_object(), *v;
	const char *k;

	json_object_foreach(a, k, v)
		json_object_set(args, k, v);
	if (strcmp(t->verb, "conversation") == 0 || strcmp(t->verb,
	    "inputs") == 0) {
		json_object_set(args, "id", json_object_get(a, "member"));
		json_object_del(args, "member");
		if (!json_is_string(json_object_get(args, "id")))
			*missing = "member";
	}
	if (strcmp(t->verb, "send") == 0 && (!json_is_string(
	    json_object_get(args, "member")) || !json_is_string(
	    json_object_get(args, "text"))))
		*missing = "member and text";
	if (strcmp(t->verb, "restart") == 0 && !json_is_string(
	    json_object_get(args, "name")))
		*missing = "name";
	if (*missing != NULL) {
		json_decref(args);
		return NULL;
	}
	return args;
}

static void
tools_call(struct hreq *r, struct mcall *c, json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	const char *missing = NULL;
	json_t *a = json_object_get(params, "arguments"), *args;
	char msg[160];
	size_t i;

	for (i = 0; i < NTOOLS && name != NULL; i++)
		if (strcmp(mtools[i].name, name) == 0)
			break;
	if (name == NULL || i == NTOOLS) {
		snprintf(msg, sizeof(msg), "unknown tool: %s", name ? name :
		    "(none)");
		rpc_error(r, 200, c->id, -32602, msg);
		return;
	}
	c->tool = &mtools[i];
	if (a != NULL && !json_is_object(a)) {
		rpc_error(r, 200, c->id, -32602, "arguments: not an object");
		return;
	}
	if ((args = tool_args(c->tool, a, &missing)) == NULL) {
		snprintf(msg, sizeof(msg), "%s: %s required", name, missing);
		rpc_result(r, c->id, tool_result(msg, 1));
		return;
	}
	c->waited = json_is_true(json_object_get(args, "wait"));
	r->rid = root_call(r, c->tool->verb, args, NULL, tool_done);
	json_decref(args);
	if (r->rid == 0)
		rpc_result(r, c->id, tool_result("mobkitd is unreachable", 1));
}

/* --- the other methods ----------------------------------------------- */

static json_t *
tools_list(void)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < NTOOLS; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:o}", "name",
		    mtools[i].name, "description", mtools[i].desc,
		    "inputSchema", json_loads(mtools[i].schema, 0, NULL)));
	return json_pack("{s:o}", "tools", a);
}

/* The revision both speak: the client's when we know it, else ours. */
static const char *
negotiate(json_t *params)
{
	const char *v = json_string_value(json_object_get(params,
	    "protocolVersion"));
	size_t i;

	for (i = 0; v != NULL && i < sizeof(protocols) / sizeof(*protocols);
	    i++)
		if (strcmp(v, protocols[i]) == 0)
			return protocols[i];
	return PROTO_LATEST;
}

static void
initialize(struct hreq *r, struct mcall *c, json_t *params)
{
	hreq_header_add(r, "Mcp-Session-Id", session_new());
	rpc_result(r, c->id, json_pack("{s:s,s:{s:{s:b}},s:{s:s,s:s},s:s}",
	    "protocolVersion", negotiate(params), "capabilities", "tools",
	    "listChanged", 0, "serverInfo", "name", "mobkit", "version",
	    "1.0", "instructions", "A mob of AI agents supervised by "
	    "mobkitd: list its members, send them work, read their "
	    "conversations, watch the tree."));
}

/* Is the MCP-Protocol-Version header, when there, one we speak? */
static int
proto_ok(struct hreq *r)
{
	const char *v = hreq_header(r, "MCP-Protocol-Version");
	size_t i;

	if (v == NULL)
		return 1;
	for (i = 0; i < sizeof(protocols) / sizeof(*protocols); i++)
		if (strcmp(v, protocols[i]) == 0)
			return 1;
	return 0;
}

/* One request: its session checked, then its method. */
static void
request(struct hreq *r, json_t *msg)
{
	const char *m = json_string_value(json_object_get(msg, "method"));
	json_t *params = json_object_get(msg, "params");
	struct mcall *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->id = json_incref(json_object_get(msg, "id"));
	c->sse = wants_sse(r);
	r->ctx = c;
	r->ctx_free = mcall_free;
	if (strcmp(m, "initialize") == 0) {
		initialize(r, c, params);
		return;
	}
	if (hreq_header(r, "Mcp-Session-Id") == NULL) {
		rpc_error(r, 400, c->id, -32000, "Mcp-Session-Id is missing: "
		    "initialize first");
		return;
	}
	if (session_find(hreq_header(r, "Mcp-Session-Id")) == NULL) {
		rpc_error(r, 404, c->id, -32001, "no such session");
		return;
	}
	if (!proto_ok(r))
		rpc_error(r, 400, c->id, -32000, "unsupported "
		    "MCP-Protocol-Version");
	else if (strcmp(m, "ping") == 0)
		rpc_result(r, c->id, json_object());
	else if (strcmp(m, "tools/list") == 0)
		rpc_result(r, c->id, tools_list());
	else if (strcmp(m, "tools/call") == 0)
		tools_call(r, c, params);
	else
		rpc_error(r, 200, c->id, -32601, "method not found");
}

/*
 * A browser's request from another origin (DNS rebinding): its Origin
 * must name the host it was sent to.  Other clients send no Origin.
 */
static int
origin_ok(struct hreq *r)
{
	const char *o = hreq_header(r, "Origin"), *h = hreq_header(r, "Host");
	const char *p;

	if (o == NULL)
		return 1;
	if (h == NULL || (p = strstr(o, "://")) == NULL)
		return 0;
	return strcmp(p + 3, h) == 0;
}

/* What a JSON-RPC message is: 1 a request, 0 a notification or a
 * response, -1 neither. */
static int
kind_of(json_t *m)
{
	if (!json_is_object(m))
		return -1;
	if (json_is_string(json_object_get(m, "method")))
		return json_object_get(m, "id") != NULL;
	if (json_object_get(m, "id") != NULL && (json_object_get(m,
	    "result") != NULL || json_object_get(m, "error") != NULL))
		return 0;
	return -1;
}

/* POST /mcp: one JSON-RPC message (a batch without requests is taken). */
void
mcps_post(struct hreq *r, const struct gw_route *rt, char **p, int np)
{
	json_t *msg, *e;
	json_error_t err;
	size_t i;
	int k = 0, ke;

	(void)rt;
	(void)p;
	(void)np;
	if (!origin_ok(r)) {
		rpc_error(r, 403, NULL, -32000, "Origin is not this host");
		return;
	}
	if ((msg = json_loadb(r->body ? r->body : "", r->blen, 0, &err)) ==
	    NULL) {
		rpc_error(r, 400, NULL, -32700, "parse error: not JSON");
		return;
	}
	if (json_is_array(msg) && json_array_size(msg) > 0) {
		json_array_foreach(msg, i, e)
			if ((ke = kind_of(e)) != 0)
				k = k == -1 ? -1 : ke;
	} else
		k = kind_of(msg);
	if (k == -1)
		rpc_error(r, 400, json_object_get(msg, "id"), -32600,
		    "invalid request: not a JSON-RPC 2.0 message");
	else if (json_is_array(msg) && k == 1)
		rpc_error(r, 400, NULL, -32600, "batches of requests are not "
		    "supported: send one request a POST");
	else if (k == 0)
		hreq_answer(r, 202, "application/json", NULL, 0);
	else
		request(r, msg);
	json_decref(msg);
}

/* DELETE /mcp: the session is over. */
void
mcps_delete(struct hreq *r, const struct gw_route *rt, char **p, int np)
{
	char *s = session_find(hreq_header(r, "Mcp-Session-Id"));

	(void)rt;
	(void)p;
	(void)np;
	if (s == NULL) {
		hreq_error(r, 404, "no such session");
		return;
	}
	s[0] = '\0';
	hreq_json(r, 200, json_pack("{s:b}", "ok", 1));
}
