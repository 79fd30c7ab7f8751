/*
 * routes.c: the routes table, and how a request becomes a root verb.  A
 * route names its method, its path ({x} is a segment captured under the
 * name of the verb's field x), and the verb; the args are the captured
 * segments, the query (GET, DELETE) or the JSON body (POST, PUT), each
 * value typed by the verb's field (ctlverbs.c).  The root checks them as
 * it checks mobkitctl's, and its answer is the body, as mobkitctl --json
 * prints it.
 *
 * Invariant: gw_routes is the one list of routes; openapi.c documents
 * each (t_gateway_openapi checks that both agree).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlverbs.h"
#include "log.h"
#include "gateway.h"

#define PARAMS_MAX	4
#define SEGS_MAX	8

static void	r_verb(struct hreq *, const struct gw_route *, char **, int);
static void	r_healthz(struct hreq *, const struct gw_route *, char **, int);
static void	r_readyz(struct hreq *, const struct gw_route *, char **, int);
static void	r_metrics(struct hreq *, const struct gw_route *, char **, int);
static void	r_openapi(struct hreq *, const struct gw_route *, char **, int);
static void	r_events(struct hreq *, const struct gw_route *, char **, int);
static void	r_member_delete(struct hreq *, const struct gw_route *,
		    char **, int);
static void	r_send(struct hreq *, const struct gw_route *, char **, int);

const struct gw_route gw_routes[] = {
	{ "GET", "/healthz", NULL, 0, r_healthz },
	{ "GET", "/readyz", "status", 0, r_readyz },
	{ "GET", "/metrics", "status", 1, r_metrics },
	{ "GET", "/v1/openapi.json", NULL, 1, r_openapi },
	{ "GET", "/v1/status", "status", 1, r_verb },
	{ "POST", "/v1/reload", "reload", 1, r_verb },
	{ "GET", "/v1/children/{name}", "status", 1, r_verb },
	{ "POST", "/v1/children/{name}/start", "start", 1, r_verb },
	{ "POST", "/v1/children/{name}/stop", "stop", 1, r_verb },
	{ "POST", "/v1/children/{name}/restart", "restart", 1, r_verb },
	{ "POST", "/v1/children/{name}/kill", "kill", 1, r_verb },
	{ "GET", "/v1/transitions", "transitions", 1, r_verb },
	{ "GET", "/v1/events", "events", 1, r_events },
	{ "GET", "/v1/members", "members", 1, r_verb },
	{ "POST", "/v1/members", "spawn", 1, r_verb },
	{ "DELETE", "/v1/members/{id}", "retire", 1, r_member_delete },
	{ "POST", "/v1/members/{id}/reset", "reset", 1, r_verb },
	{ "POST", "/v1/members/{id}/interrupt", "interrupt", 1, r_verb },
	{ "POST", "/v1/members/{member}/inputs", "send", 1, r_send },
	{ "GET", "/v1/members/{id}/inputs", "inputs", 1, r_verb },
	{ "GET", "/v1/members/{id}/conversation", "conversation", 1, r_verb },
	{ "POST", "/v1/wires", "wire", 1, r_verb },
	{ "DELETE", "/v1/wires/{a}/{b}", "unwire", 1, r_verb },
	{ "GET", "/v1/routes", "routes", 1, r_verb },
	{ "PUT", "/v1/routes/{id}", "route add", 1, r_verb },
	{ "DELETE", "/v1/routes/{id}", "route rm", 1, r_verb },
	{ "GET", "/v1/resolve", "resolve", 1, r_verb },
	{ "POST", "/v1/deliveries", "deliver", 1, r_verb },
	{ "GET", "/v1/deliveries", "deliveries", 1, r_verb },
	{ "GET", "/v1/schedules", "schedules", 1, r_verb },
	{ "POST", "/v1/tick", "tick", 1, r_verb },
	{ "GET", "/v1/tools", "tools", 1, r_verb },
	{ "POST", "/v1/tools/{server}/{tool}", "call", 1, r_verb },
	{ "POST", "/v1/chat/completions", "send", 1, oa_chat },
	{ "GET", "/v1/models", "members", 1, oa_models },
	{ "POST", "/mcp", NULL, 1, mcps_post },
	{ "DELETE", "/mcp", NULL, 1, mcps_delete },
	{ "GET", "/", NULL, 0, console_serve },
	{ "GET", "/app.js", NULL, 0, console_serve },
	{ "GET", "/app.css", NULL, 0, console_serve },
};
const size_t gw_nroutes = sizeof(gw_routes) / sizeof(gw_routes[0]);

/* Split a path into at most SEGS_MAX segments (in place); -1 if more. */
static int
segments(char *path, char **seg)
{
	char *p, *s;
	int n = 0;

	for (p = path; (s = strsep(&p, "/")) != NULL;) {
		if (*s == '\0')
			continue;
		if (n == SEGS_MAX)
			return -1;
		seg[n++] = s;
	}
	return n;
}

/* Does the route's path match these segments?  Captures into params. */
static int
route_match(const struct gw_route *rt, char **seg, int nseg, char **params,
    int *np)
{
	char buf[128], *pseg[SEGS_MAX];
	int n, i;

	snprintf(buf, sizeof(buf), "%s", rt->path);
	if ((n = segments(buf, pseg)) != nseg)
		return 0;
	*np = 0;
	for (i = 0; i < n; i++) {
		if (pseg[i][0] == '{') {
			if (*np < PARAMS_MAX)
				params[(*np)++] = seg[i];
		} else if (strcmp(pseg[i], seg[i]) != 0)
			return 0;
	}
	return 1;
}

/* The name of the n-th {x} of a route's path, into buf. */
static const char *
param_name(const struct gw_route *rt, int n, char *buf, size_t sz)
{
	const char *p = rt->path, *e;

	while ((p = strchr(p, '{')) != NULL) {
		e = strchr(p, '}');
		if (n-- == 0) {
			snprintf(buf, sz, "%.*s", (int)(e - p - 1), p + 1);
			return buf;
		}
		p = e;
	}
	return "";
}

/* A text value typed as the verb's field wants it. */
static json_t *
typed(const struct ctl_verb *v, const char *name, const char *s)
{
	int i;

	for (i = 0; v != NULL && i < v->nfields; i++) {
		if (strcmp(v->fields[i].name, name) != 0)
			continue;
		if (v->fields[i].type == CT_INT && *s >= '0' && *s <= '9')
			return json_integer(strtoll(s, NULL, 10));
		if (v->fields[i].type == CT_BOOL)
			return json_boolean(strcmp(s, "true") == 0 ||
			    strcmp(s, "1") == 0);
	}
	return json_string(s);
}

/* The query's values for the verb's fields. */
static void
args_query(struct hreq *r, const char *verb, json_t *args)
{
	const struct ctl_verb *v = ctl_verb_find(verb);
	const char *s;
	int i;

	for (i = 0; v != NULL && i < v->nfields; i++)
		if ((s = hreq_query(r, v->fields[i].name)) != NULL)
			json_object_set_new(args, v->fields[i].name,
			    typed(v, v->fields[i].name, s));
}

/*
 * The args of a request: its body (a JSON object; a "payload" that is
 * not a string is passed as its JSON text), or its query, then the path's
 * segments.  NULL after answering 400.
 */
static json_t *
request_args(struct hreq *r, const struct gw_route *rt, char **params,
    int np)
{
	json_t *args, *p;
	json_error_t e;
	char name[32], *s;
	int i;

	if (r->blen > 0) {
		if ((args = json_loadb(r->body, r->blen, 0, &e)) == NULL ||
		    !json_is_object(args)) {
			json_decref(args);
			hreq_error(r, 400, "the body is not a JSON object");
			return NULL;
		}
		if ((p = json_object_get(args, "payload")) != NULL &&
		    !json_is_string(p)) {
			s = json_dumps(p, JSON_COMPACT | JSON_ENCODE_ANY);
			json_object_set_new(args, "payload", json_string(s));
			free(s);
		}
	} else {
		args = json_object();
		args_query(r, rt->verb, args);
	}
	for (i = 0; i < np; i++)
		json_object_set_new(args, param_name(rt, i, name,
		    sizeof(name)), json_string(params[i]));
	return args;
}

/* The root's answer to a verb: the result as mobkitctl --json has it. */
static void
verb_done(struct hreq *r, int ok, json_t *result, const char *error)
{
	r->rid = 0;
	if (!ok) {
		hreq_error(r, root_error_status(error), error);
		return;
	}
	hreq_json(r, 200, result != NULL && !json_is_null(result) ?
	    json_incref(result) : json_pack("{s:b}", "ok", 1));
}

/* send: a rejected input is an error (why: the reason), else verb_done. */
static void
send_done(struct hreq *r, int ok, json_t *result, const char *error)
{
	const char *o = json_string_value(json_object_get(result, "outcome"));
	const char *why = json_string_value(json_object_get(result, "reason"));

	if (ok && o != NULL && strcmp(o, "rejected") == 0) {
		r->rid = 0;
		why = why != NULL ? why : "rejected";
		hreq_error(r, strstr(why, "unknown") != NULL ? 404 :
		    strstr(why, "large") != NULL ? 413 : 503, why);
		return;
	}
	verb_done(r, ok, result, error);
}

/* Call verb with args (taken over); answer 503 when the root is away. */
static void
call_verb(struct hreq *r, const char *verb, json_t *args)
{
	r->rid = root_call(r, verb, args, NULL, strcmp(verb, "send") == 0 ?
	    send_done : verb_done);
	json_decref(args);
	if (r->rid == 0)
		hreq_error(r, 503, "mobkitd is unreachable");
}

static void
r_verb(struct hreq *r, const struct gw_route *rt, char **params, int np)
{
	json_t *args;

	if ((args = request_args(r, rt, params, np)) == NULL)
		return;
	if (strcmp(rt->verb, "tick") == 0 && json_object_get(args, "at_ms")) {
		json_object_set(args, "at", json_object_get(args, "at_ms"));
		json_object_del(args, "at_ms");
	}
	if (strcmp(rt->verb, "call") == 0) {	/* call SERVER TOOL --args */
		json_t *a = json_pack("{s:O,s:O}", "server",
		    json_object_get(args, "server"), "tool",
		    json_object_get(args, "tool"));
		char *s;

		json_object_del(args, "server");
		json_object_del(args, "tool");
		s = json_dumps(args, JSON_COMPACT);
		json_object_set_new(a, "args", json_string(s));
		free(s);
		json_decref(args);
		args = a;
	}
	call_verb(r, rt->verb, args);
}

/* DELETE /v1/members/ID: retire, or destroy with ?destroy=true. */
static void
r_member_delete(struct hreq *r, const struct gw_route *rt, char **params,
    int np)
{
	const char *d = hreq_query(r, "destroy");

	(void)rt;
	(void)np;
	call_verb(r, d != NULL && strcmp(d, "true") == 0 ? "destroy" :
	    "retire", json_pack("{s:s}", "id", params[0]));
}

/* POST /v1/members/ID/inputs: send, or its reply streamed (sse.c). */
static void
r_send(struct hreq *r, const struct gw_route *rt, char **params, int np)
{
	const char *acc = hreq_header(r, "Accept");
	json_t *args;

	if ((args = request_args(r, rt, params, np)) == NULL)
		return;
	if (acc != NULL && strstr(acc, "text/event-stream") != NULL) {
		sse_send_stream(r, params[0], args);
		json_decref(args);
		return;
	}
	call_verb(r, "send", args);
}

static void
r_events(struct hreq *r, const struct gw_route *rt, char **params, int np)
{
	(void)rt;
	(void)params;
	(void)np;
	sse_events(r);
}

static void
r_healthz(struct hreq *r, const struct gw_route *rt, char **params, int np)
{
	(void)rt;
	(void)params;
	(void)np;
	hreq_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

/* Settled and healthy: the daemon running, every child healthy. */
static void
readyz_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	const char *st;
	json_t *c;
	size_t i;
	int ready;

	r->rid = 0;
	if (!ok) {
		hreq_error(r, 503, error);
		return;
	}
	st = json_string_value(json_object_get(json_object_get(res, "daemon"),
	    "state"));
	ready = st != NULL && strcmp(st, "running") == 0;
	json_array_foreach(json_object_get(res, "children"), i, c)
		if ((st = json_string_value(json_object_get(c, "state"))) ==
		    NULL || strcmp(st, "healthy") != 0)
			ready = 0;
	hreq_json(r, ready ? 200 : 503, json_pack("{s:s,s:O}", "status",
	    ready ? "ready" : "not_ready", "tree", res));
}

static void
r_readyz(struct hreq *r, const struct gw_route *rt, char **params, int np)
{
	(void)rt;
	(void)params;
	(void)np;
	if ((r->rid = root_call(r, "status", NULL, NULL, readyz_done)) == 0)
		hreq_error(r, 503, "mobkitd is unreachable");
}

static void
r_metrics(struct hreq *r, const struct gw_route *rt, char **params, int np)
{
	(void)rt;
	(void)params;
	(void)np;
	metrics_serve(r);
}

static void
r_openapi(struct hreq *r, const struct gw_route *rt, char **params, int np)
{
	char *s = strdup(gw_openapi);

	(void)rt;
	(void)params;
	(void)np;
	if (s == NULL)
		fatal("strdup");
	hreq_answer(r, 200, "application/json", s, strlen(s));
}

/* The methods a path has, for 405's Allow; 0 when it has none. */
static int
path_methods(char **seg, int nseg, char *allow, size_t sz)
{
	char *params[PARAMS_MAX];
	size_t i;
	int np, n = 0;

	allow[0] = '\0';
	for (i = 0; i < gw_nroutes; i++)
		if (route_match(&gw_routes[i], seg, nseg, params, &np) &&
		    strstr(allow, gw_routes[i].method) == NULL) {
			snprintf(allow + strlen(allow), sz - strlen(allow),
			    "%s%s", n++ ? ", " : "", gw_routes[i].method);
		}
	return n;
}

/* Is this request allowed to call rt?  Answers 401 when not. */
static int
authorized(struct hreq *r, const struct gw_route *rt)
{
	char why[256];

	if (!rt->auth || (rt->fn == r_metrics && !GS.metrics_auth))
		return 1;
	if (auth_check(hreq_header(r, "Authorization"), why, sizeof(why)))
		return 1;
	r->www_auth = 1;
	hreq_error(r, 401, why);
	return 0;
}

/* Find the route of a request and run it; or 404, 405. */
void
route_dispatch(struct hreq *r)
{
	static char allow[64];
	char *seg[SEGS_MAX], *params[PARAMS_MAX], *path;
	int nseg, np;
	size_t i;

	if ((path = strdup(r->path)) == NULL)
		fatal("strdup");
	if ((nseg = segments(path, seg)) == -1) {
		free(path);
		hreq_error(r, 404, "no such route");
		return;
	}
	for (i = 0; i < gw_nroutes; i++) {
		if (strcmp(gw_routes[i].method, r->method) != 0 ||
		    !route_match(&gw_routes[i], seg, nseg, params, &np))
			continue;
		if (authorized(r, &gw_routes[i]))
			gw_routes[i].fn(r, &gw_routes[i], params, np);
		free(path);
		return;
	}
	if (path_methods(seg, nseg, allow, sizeof(allow)) > 0) {
		r->allow = allow;
		hreq_error(r, 405, "method not allowed");
	} else
		hreq_error(r, 404, "no such route");
	free(path);
}
