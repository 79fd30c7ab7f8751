/*
 * modules.c: what mobkitd keeps for the well-known modules, and the calls
 * it forwards to them.
 *
 * The route table lives here (config routes, routes added at run time,
 * and one roster route per member) and is pushed whole to mobkit-router
 * whenever it changes or the router (re)starts; the router only computes.
 * A call for a module that is down waits in a bounded queue; a call in
 * flight when the module dies is sent again after its restart; every call
 * has a deadline, so a client never waits forever.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "msgtab.h"
#include "proto.h"
#include "engine/engine.h"
#include "client.h"
#include "mob/modules.h"
#include "mob/schedules.h"
#include "mob/deliveries.h"
#include "verbs.h"
#include "roster.h"

#define CALLS_MAX	1024
#define CALL_TIMEOUT	30.0	/* seconds */

enum { ROUTE_CONFIG, ROUTE_ADDED };
static const char *const route_sources[] = { "config", "added" };

struct route {
	TAILQ_ENTRY(route)	 entry;
	char			*id, *recipient, *channel, *sink, *target;
	int			 retry_max;
	int64_t			 backoff_ms;
	int			 rate;
	int			 source;
};

struct call {
	TAILQ_ENTRY(call)	 entry;
	uint64_t		 id;
	uint64_t		 cid;
	char			 module[32];
	char			 verb[32];
	msgpack_sbuffer		 args;		/* a packed map */
	int			 sent;
	ev_timer		 deadline;
	module_done_cb		 done;		/* internal calls */
	void			*arg;
};

static TAILQ_HEAD(, route) routes = TAILQ_HEAD_INITIALIZER(routes);
static TAILQ_HEAD(, call) calls = TAILQ_HEAD_INITIALIZER(calls);
static int		 ncalls;
static uint64_t		 next_call = 1;

/* --- the route table --------------------------------------------------- */

static void
route_free(struct route *r)
{
	free(r->id);
	free(r->recipient);
	free(r->channel);
	free(r->sink);
	free(r->target);
	free(r);
}

static struct route *
route_find(const char *id)
{
	struct route *r;

	TAILQ_FOREACH(r, &routes, entry)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

static struct route *
route_new(const char *id, int source)
{
	struct route *r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->id = strdup(id)) == NULL)
		fatal("calloc");
	r->source = source;
	r->retry_max = 1;
	r->backoff_ms = 250;
	r->rate = 60;
	return r;
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (d == NULL)
		fatal("strdup");
	return d;
}

/* The config's routes replace the old config routes; added ones stay. */
void
routes_from_config(struct config *cfg)
{
	struct route *r, *t;
	int i;

	TAILQ_FOREACH_SAFE(r, &routes, entry, t)
		if (r->source == ROUTE_CONFIG) {
			TAILQ_REMOVE(&routes, r, entry);
			route_free(r);
		}
	for (i = 0; i < cfg->nroutes; i++) {
		struct route_conf *rc = cfg->routes[i];

		if ((r = route_find(rc->id)) != NULL) {	/* config wins */
			TAILQ_REMOVE(&routes, r, entry);
			route_free(r);
		}
		r = route_new(rc->id, ROUTE_CONFIG);
		r->recipient = xstrdup(rc->recipient);
		r->channel = xstrdup(rc->channel);
		r->sink = xstrdup(rc->sink);
		r->target = xstrdup(rc->target);
		r->retry_max = rc->retry_max;
		r->backoff_ms = rc->backoff_ms;
		r->rate = rc->rate_limit_per_minute;
		TAILQ_INSERT_TAIL(&routes, r, entry);
	}
	routes_push();
}

/* The added routes become v (a cluster's, read from the database). */
void
routes_set_added(const struct route_row *v, int n)
{
	struct route *r, *t;
	int i;

	TAILQ_FOREACH_SAFE(r, &routes, entry, t)
		if (r->source == ROUTE_ADDED) {
			TAILQ_REMOVE(&routes, r, entry);
			route_free(r);
		}
	for (i = 0; i < n; i++) {
		if (route_find(v[i].id) != NULL)	/* config wins */
			continue;
		r = route_new(v[i].id, ROUTE_ADDED);
		r->recipient = xstrdup(v[i].recipient);
		r->channel = xstrdup(v[i].channel);
		r->sink = xstrdup(v[i].sink);
		r->target = xstrdup(v[i].target);
		r->retry_max = v[i].retry_max;
		r->backoff_ms = v[i].backoff_ms;
		r->rate = v[i].rate;
		TAILQ_INSERT_TAIL(&routes, r, entry);
	}
	routes_push();
}

/* A route record (msgtab.c), in ROUTES and in the routes verb. */
static void
pack_route(msgpack_packer *pk, const char *id, const char *recipient,
    const char *channel, const char *sink, const char *target, int retry,
    int64_t backoff, int rate, const char *source)
{
	struct msgw w;

	msgw_rec(&w, pk, &msg_rec_route);
	msgw_str(&w, K_ID, id);
	msgw_str(&w, K_RECIPIENT, recipient);
	msgw_str(&w, K_CHANNEL, channel);
	msgw_str(&w, K_SINK, sink);
	msgw_str(&w, K_TARGET, target);
	msgw_int(&w, K_RETRY_MAX, retry);
	msgw_int(&w, K_BACKOFF_MS, backoff);
	msgw_int(&w, K_RATE_LIMIT, rate);
	msgw_str(&w, K_SOURCE, source);
	(void)msgw_end(&w);
}

/* Every route: the table's, then one per member (mob.member.ID). */
void
routes_pack(msgpack_packer *pk)
{
	struct route *r;
	struct child *c;
	char id[128];
	int n = 0;

	TAILQ_FOREACH(r, &routes, entry)
		n++;
	TAILQ_FOREACH(c, &D->children, entry)
		if (c->mbox != NULL && !c->removing)
			n++;
	msgpack_pack_array(pk, (size_t)n);
	TAILQ_FOREACH(r, &routes, entry)
		pack_route(pk, r->id, r->recipient, r->channel, r->sink,
		    r->target, r->retry_max, r->backoff_ms, r->rate,
		    route_sources[r->source]);
	TAILQ_FOREACH(c, &D->children, entry) {
		if (c->mbox == NULL || c->removing)
			continue;
		snprintf(id, sizeof(id), "mob.member.%s", c->name);
		pack_route(pk, id, c->name, "notification", "mob_member",
		    "delivery", 1, 250, 60, "roster");
	}
}

/* Send the whole table to the router, if it is there to hear it. */
void
routes_push(void)
{
	struct child *c = child_find("router");
	struct msgw w;

	if (c == NULL || c->peer == NULL || !c->hello)
		return;
	msgw_begin(&w, MSG_ROUTES);
	routes_pack(msgw_key(&w, K_ROUTES));
	if (msgw_send(&w, c->peer, 0) == -1)
		log_warnx("router: its queue is full; the route table was "
		    "not sent");
}

static int
v_routes(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	(void)cl;
	(void)a;
	routes_pack(pk);
	return 0;
}

/* A route key's whole number in [lo, hi], naming the key when it is not. */
static int
route_int(const char *key, const struct ctl_int *n, int64_t lo, int64_t hi)
{
	if (n->set && (n->v < lo || n->v > hi))
		return ctl_fail("%s: bad value \"%lld\": expected a whole "
		    "number from %lld to %lld", key, (long long)n->v,
		    (long long)lo, (long long)hi);
	return 0;
}

/* What route add is given, checked as the INI's [route] is. */
static int
route_add_check(const struct ctl_route_args *ra)
{
	static const char *const sinks[] = { "webhook", "email", "mob_member",
	    "file", NULL };
	const char *why;
	char buf[256];
	int k;

	if (!valid_name(ra->id) || strncmp(ra->id, "mob.member.", 11) == 0)
		return ctl_fail("bad route id \"%s\"", ra->id);
	if (route_find(ra->id) != NULL)
		return ctl_fail("route \"%s\" exists", ra->id);
	for (k = 0; ra->sink != NULL && sinks[k] != NULL; k++)
		if (strcmp(ra->sink, sinks[k]) == 0)
			break;
	if (ra->sink != NULL && sinks[k] == NULL)
		return ctl_fail("sink: bad value \"%s\": expected webhook | "
		    "email | mob_member | file", ra->sink);
	if (route_int("retry_max", &ra->retry_max, 0, 10) == -1 ||
	    route_int("backoff_ms", &ra->backoff_ms, 0, 3600000) == -1 ||
	    route_int("rate_limit_per_minute", &ra->rate_limit_per_minute, 1,
	    1000000) == -1)
		return -1;
	if (ra->sink == NULL || ra->target == NULL)
		return ctl_fail("route add: \"%s\" is required",
		    ra->sink == NULL ? "sink" : "target");
	if ((why = route_target_check(ra->sink, ra->target, buf,
	    sizeof(buf))) != NULL)
		return ctl_fail("target: \"%s\" %s", ra->target, why);
	return 0;
}

/* route add ID KEY=VALUE...: the keys of a [route] section. */
static int
v_route_add(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	const struct ctl_route_args *ra = &a->route;
	struct route *r;

	(void)cl;
	if (route_add_check(ra) == -1)
		return -1;
	r = route_new(ra->id, ROUTE_ADDED);
	r->recipient = xstrdup(ra->recipient != NULL ? ra->recipient : "*");
	r->channel = xstrdup(ra->channel != NULL ? ra->channel : "*");
	r->sink = xstrdup(ra->sink);
	r->target = xstrdup(ra->target);
	if (ra->retry_max.set)
		r->retry_max = (int)ra->retry_max.v;
	if (ra->backoff_ms.set)
		r->backoff_ms = ra->backoff_ms.v;
	if (ra->rate_limit_per_minute.set)
		r->rate = (int)ra->rate_limit_per_minute.v;
	TAILQ_INSERT_TAIL(&routes, r, entry);
	routes_push();
	roster_route_added(&(struct route_row){ r->id, r->recipient,
	    r->channel, r->sink, r->target, r->retry_max, r->backoff_ms,
	    r->rate });
	pack_route(pk, r->id, r->recipient, r->channel, r->sink, r->target,
	    r->retry_max, r->backoff_ms, r->rate, route_sources[r->source]);
	return 0;
}

/* route rm ID */
static int
v_route_rm(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	const char *id = a->route.id;
	struct route *r;

	(void)cl;
	if (strncmp(id, "mob.member.", 11) == 0)
		return ctl_fail("%s is a roster route: it goes when the member "
		    "does", id);
	if ((r = route_find(id)) == NULL)
		return ctl_fail("no route \"%s\"", id);
	if (r->source == ROUTE_ADDED)
		roster_route_removed(id);
	TAILQ_REMOVE(&routes, r, entry);
	route_free(r);
	routes_push();
	msgpack_pack_map(pk, 1);
	mp_kstr(pk, "removed", id);
	return 0;
}

/* --- calls to modules ---------------------------------------------------- */

static void
call_free(struct call *k)
{
	ev_timer_stop(D->loop, &k->deadline);
	TAILQ_REMOVE(&calls, k, entry);
	msgpack_sbuffer_destroy(&k->args);
	ncalls--;
	free(k);
}

/* Send a call if its module is up and healthy. */
static void
call_send(struct call *k)
{
	struct child *c = child_find(k->module);
	struct msgw w;

	if (k->sent || c == NULL || c->peer == NULL || c->state != CS_HEALTHY)
		return;
	msgw_begin(&w, MSG_MOD_CALL);
	msgw_int(&w, K_ID, (int64_t)k->id);
	msgw_str(&w, K_VERB, k->verb);
	msgw_raw(&w, K_ARGS, k->args.data, k->args.size);
	if (msgw_send(&w, c->peer, 0) == 0)
		k->sent = 1;
}

static void
call_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct call *k = w->data;
	char msg[128];

	(void)loop;
	(void)revents;
	snprintf(msg, sizeof(msg), "%s did not answer %s within %.0f s",
	    k->module, k->verb, CALL_TIMEOUT);
	if (k->done != NULL)
		k->done(k->arg, NULL, msg);
	else
		reply_error(k->cid, msg);
	call_free(k);
}

/* Queue a call and send it if its module is up; 1, or -1 with an error. */
static int
call_new(uint64_t cid, const char *module, const char *verb,
    const msgpack_sbuffer *args, module_done_cb done, void *arg)
{
	struct child *c = child_find(module);
	struct call *k;

	if (c == NULL || c->conf->kind != KIND_MODULE)
		return ctl_fail("no module named \"%s\" is configured", module);
	if (ncalls >= CALLS_MAX)
		return ctl_fail("%s: %d calls are waiting already; try again",
		    module, CALLS_MAX);
	if ((k = calloc(1, sizeof(*k))) == NULL)
		fatal("calloc");
	k->id = next_call++;
	k->cid = cid;
	k->done = done;
	k->arg = arg;
	snprintf(k->module, sizeof(k->module), "%s", module);
	snprintf(k->verb, sizeof(k->verb), "%s", verb);
	msgpack_sbuffer_init(&k->args);
	msgpack_sbuffer_write(&k->args, args->data, args->size);
	ev_timer_init(&k->deadline, call_deadline, CALL_TIMEOUT, 0.);
	k->deadline.data = k;
	ev_timer_start(D->loop, &k->deadline);
	TAILQ_INSERT_TAIL(&calls, k, entry);
	ncalls++;
	call_send(k);
	return 1;
}

/* Call a module for mobkitd itself: done(arg, result | NULL, error). */
int
module_call_cb(const char *module, const char *verb,
    const msgpack_sbuffer *args, module_done_cb done, void *arg)
{
	return call_new(0, module, verb, args, done, arg) == 1 ? 0 : -1;
}

/* Forward a verb for a client; its answer goes to the client. */
int
module_call(struct client *cl, const char *module, const char *verb,
    const msgpack_sbuffer *args)
{
	return call_new(client_id(cl), module, verb, args, NULL, NULL);
}

/* A module said HELLO: it gets the route table (router). */
void
module_hello(struct child *c)
{
	if (strcmp(c->name, "router") == 0)
		routes_push();
	else if (strcmp(c->name, "scheduler") == 0)
		schedules_push();
}

/* A module is healthy: send what waits for it. */
void
module_ready(struct child *c)
{
	struct call *k, *t;

	TAILQ_FOREACH_SAFE(k, &calls, entry, t)
		if (strcmp(k->module, c->name) == 0)
			call_send(k);
	deliveries_ready(c);
}

/* A module's process is gone: its calls in flight go again later. */
void
module_gone(struct child *c)
{
	struct call *k;

	TAILQ_FOREACH(k, &calls, entry)
		if (strcmp(k->module, c->name) == 0)
			k->sent = 0;
	deliveries_gone(c);
}

/* MOD_RESULT from a module: answer the client. */
int
module_result(struct child *c, const struct msg_view *m)
{
	const msgpack_object *res;
	struct call *k;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int64_t id = msgv_int(m, K_ID, -1);
	int ok = msgv_bool(m, K_OK, 0);
	char *err;

	TAILQ_FOREACH(k, &calls, entry)
		if (k->id == (uint64_t)id && strcmp(k->module, c->name) == 0)
			break;
	if (k == NULL)
		return 0;	/* answered already, or timed out */
	if (k->done != NULL) {
		err = ok ? NULL : msgv_strdup(m, K_ERROR);
		k->done(k->arg, ok ? msgv_raw(m, K_RESULT) : NULL, ok ? NULL :
		    err ? err : "refused");
		free(err);
	} else if (!ok) {
		err = msgv_strdup(m, K_ERROR);
		reply_error(k->cid, err ? err : "refused");
		free(err);
	} else {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		if ((res = msgv_raw(m, K_RESULT)) != NULL)
			msgpack_pack_object(&pk, *res);
		else
			msgpack_pack_nil(&pk);
		reply_ok_packed(k->cid, sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
	}
	call_free(k);
	return 0;
}

/*
 * resolve RECIPIENT [--channel C] [--retry-max N] [--backoff-ms N]
 * [--rate-limit N]: forwarded to the router, which takes a map of
 * strings (and checks the ranges).
 */
void
resolve_args_pack(msgpack_packer *pk, const struct ctl_deliver_args *d)
{
	const struct {
		const char		*key;
		const struct ctl_int	*n;
	} ints[] = {
		{ "retry_max", &d->retry_max },
		{ "backoff_ms", &d->backoff_ms },
		{ "rate_limit_per_minute", &d->rate_limit_per_minute },
	};
	char buf[32];
	size_t i;
	int n = 1 + (d->channel != NULL);

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		n += ints[i].n->set;
	msgpack_pack_map(pk, (size_t)n);
	mp_kstr(pk, "recipient", d->recipient);
	if (d->channel != NULL)
		mp_kstr(pk, "channel", d->channel);
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		if (!ints[i].n->set)
			continue;
		snprintf(buf, sizeof(buf), "%lld", (long long)ints[i].n->v);
		mp_kstr(pk, ints[i].key, buf);
	}
}

static int
v_resolve(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	msgpack_sbuffer sb;
	msgpack_packer ap;
	int r;

	(void)pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&ap, &sb, msgpack_sbuffer_write);
	resolve_args_pack(&ap, &a->deliver);
	r = module_call(cl, "router", "resolve", &sb);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

static const struct ctl_handler module_verbs[] = {
	{ "routes", v_routes },
	{ "route add", v_route_add },
	{ "route rm", v_route_rm },
	{ "resolve", v_resolve },
};
CTL_VERBS(module_verbs)
