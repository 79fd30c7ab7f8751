/*
 * mobkit-router: resolves a recipient (and channel) to a sink.
 *
 * The table is mobkitd's: it arrives whole (ROUTES) at start and on every
 * change, so a restarted router knows everything at once.  A resolve call
 * (MOD_CALL) is matched in this order: exact recipient and channel, exact
 * recipient and *, * and exact channel, * and *; with no route the sink
 * follows the recipient's form (mob.member.X, user@host, http(s)://).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "frame.h"
#include "log.h"
#include "mail.h"
#include "mpack.h"
#include "msgtab.h"
#include "proto.h"

struct rroute {
	char	*id, *recipient, *channel, *sink, *target;
	int64_t	 retry_max, backoff_ms, rate;
};

static struct {
	struct ev_loop	*loop;
	struct mkchild	 mk;
	struct rroute	*v;
	size_t		 n;
	uint64_t	 resolved;
} R;

static void
table_free(void)
{
	size_t i;

	for (i = 0; i < R.n; i++) {
		free(R.v[i].id);
		free(R.v[i].recipient);
		free(R.v[i].channel);
		free(R.v[i].sink);
		free(R.v[i].target);
	}
	free(R.v);
	R.v = NULL;
	R.n = 0;
}

/* ROUTES: the whole table replaces ours. */
/*
 * ROUTES: the whole table replaces ours.  msg_read has checked every
 * route against its record's table already.
 */
static void
on_routes(const struct msg_view *m)
{
	const msgpack_object *a = msgv_obj(m, K_ROUTES);
	struct msg_view o;
	char err[256];
	uint32_t i;

	table_free();
	if ((R.v = calloc(a->via.array.size + 1, sizeof(*R.v))) == NULL)
		fatal("calloc");
	for (i = 0; i < a->via.array.size; i++) {
		struct rroute *r = &R.v[R.n];

		if (msg_read_rec(&a->via.array.ptr[i], &msg_rec_route, &o,
		    err, sizeof(err)) == -1) {
			log_warnx("route %u: %s: skipped", i, err);
			continue;
		}
		r->id = msgv_strdup(&o, K_ID);
		r->recipient = msgv_strdup(&o, K_RECIPIENT);
		r->channel = msgv_strdup(&o, K_CHANNEL);
		r->sink = msgv_strdup(&o, K_SINK);
		r->target = msgv_strdup(&o, K_TARGET);
		r->retry_max = msgv_int(&o, K_RETRY_MAX, 1);
		r->backoff_ms = msgv_int(&o, K_BACKOFF_MS, 250);
		r->rate = msgv_int(&o, K_RATE_LIMIT, 60);
		R.n++;
	}
	log_debug("%zu route(s)", R.n);
}

/* An optional whole number between lo and hi from the call's args. */
static int
arg_int(const msgpack_object *args, const char *key, int64_t lo, int64_t hi,
    int64_t *out, char *err, size_t errsz)
{
	char buf[32];
	int64_t v;

	if (mp_find(args, key) == NULL)
		return 0;
	if (mp_copy_str(args, key, buf, sizeof(buf)) == -1 ||
	    parse_ms(buf, &v) == -1 || v < lo || v > hi) {
		snprintf(err, errsz, "%s: bad value \"%s\": expected a whole "
		    "number from %lld to %lld", key, mp_copy_str(args, key, buf,
		    sizeof(buf)) == 0 ? buf : "?", (long long)lo, (long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

static struct rroute *
match(const char *recipient, const char *channel)
{
	static const int order[4][2] = { { 1, 1 }, { 1, 0 }, { 0, 1 },
	    { 0, 0 } };
	size_t p, i;

	for (p = 0; p < 4; p++)
		for (i = 0; i < R.n; i++) {
			struct rroute *r = &R.v[i];
			int rx = strcmp(r->recipient, recipient) == 0;
			int cx = strcmp(r->channel, channel) == 0;

			if ((order[p][0] ? rx : strcmp(r->recipient, "*") == 0)
			    && (order[p][1] ? cx : strcmp(r->channel, "*") == 0))
				return r;
		}
	return NULL;
}

/* The sink a recipient's form names, or NULL. */
static const char *
sink_by_form(const char *recipient)
{
	if (strncmp(recipient, "mob.member.", 11) == 0 && recipient[11])
		return "mob_member";
	if (http_url(recipient))
		return "webhook";
	if (mail_addr_check(recipient) == NULL)
		return "email";
	return NULL;
}

/* resolve: one resolution with a fresh route_id, or an error naming why. */
static int
resolve(const msgpack_object *args, msgpack_packer *pk, char *err,
    size_t errsz)
{
	char recipient[512], channel[128], rid[64];
	const char *sink, *target;
	struct rroute *r;
	struct msgw w;
	int64_t retry = 1, backoff = 250, rate = 60;

	if (mp_copy_str(args, "recipient", recipient, sizeof(recipient)) == -1
	    || recipient[0] == '\0') {
		snprintf(err, errsz, "recipient: missing or empty");
		return -1;
	}
	snprintf(channel, sizeof(channel), "notification");
	if (mp_find(args, "channel") != NULL && (mp_copy_str(args, "channel",
	    channel, sizeof(channel)) == -1 || channel[0] == '\0')) {
		snprintf(err, errsz, "channel: bad value");
		return -1;
	}
	if ((r = match(recipient, channel)) != NULL) {
		sink = r->sink;
		target = strcmp(r->sink, "mob_member") == 0 &&
		    strcmp(r->target, "delivery") == 0 ? r->recipient : r->target;
		retry = r->retry_max;
		backoff = r->backoff_ms;
		rate = r->rate;
	} else if ((sink = sink_by_form(recipient)) != NULL)
		target = strcmp(sink, "mob_member") == 0 ? recipient + 11 :
		    recipient;
	else {
		snprintf(err, errsz, "recipient \"%.200s\": no route matches and its "
		    "form names no sink (mob.member.ID, user@host or an "
		    "http(s):// URL)", recipient);
		return -1;
	}
	if (arg_int(args, "retry_max", 0, 10, &retry, err, errsz) == -1 ||
	    arg_int(args, "backoff_ms", 0, 3600000, &backoff, err, errsz) == -1
	    || arg_int(args, "rate_limit_per_minute", 1, 1000000, &rate, err,
	    errsz) == -1)
		return -1;
	snprintf(rid, sizeof(rid), "res-%d-%llu", (int)getpid(),
	    (unsigned long long)++R.resolved);
	msgw_rec(&w, pk, &msg_rec_resolution);
	msgw_str(&w, K_ROUTE_ID, rid);
	msgw_str(&w, K_ROUTE, r ? r->id : NULL);
	msgw_str(&w, K_RECIPIENT, recipient);
	msgw_str(&w, K_CHANNEL, channel);
	msgw_str(&w, K_SINK, sink);
	msgw_str(&w, K_TARGET, target);
	msgw_str(&w, K_TARGET_MODULE, "delivery");
	msgw_int(&w, K_RETRY_MAX, retry);
	msgw_int(&w, K_BACKOFF_MS, backoff);
	msgw_int(&w, K_RATE_LIMIT, rate);
	if (msgw_end(&w) == -1) {
		snprintf(err, errsz, "the resolution breaks its table");
		return -1;
	}
	return 0;
}

/* MOD_CALL: answer with MOD_RESULT carrying the same id. */
static void
on_call(const struct msg_view *m)
{
	const msgpack_object *args = msgv_obj(m, K_ARGS);
	msgpack_sbuffer res;
	msgpack_packer rp;
	struct msgw w;
	char verb[32], err[600];
	int64_t id = msgv_int(m, K_ID, 0);
	int r = -1;

	if (msgv_copy(m, K_VERB, verb, sizeof(verb)) == -1)
		return;		/* not after msg_read: at most 31 bytes */
	msgpack_sbuffer_init(&res);
	msgpack_packer_init(&rp, &res, msgpack_sbuffer_write);
	snprintf(err, sizeof(err), "the router has no verb \"%s\"", verb);
	if (strcmp(verb, "resolve") == 0)
		r = resolve(args, &rp, err, sizeof(err));
	msgw_begin(&w, MSG_MOD_RESULT);
	msgw_int(&w, K_ID, id);
	msgw_bool(&w, K_OK, r == 0);
	if (r == 0)
		msgw_raw(&w, K_RESULT, res.data, res.size);
	else
		msgw_str(&w, K_ERROR, err);
	if (msgw_send(&w, R.mk.peer, 0) == -1)
		log_warnx("mobkitd's queue is full: a result was dropped");
	msgpack_sbuffer_destroy(&res);
}

static int
on_msg(const struct msg_view *m, void *arg)
{
	(void)arg;
	if (m->type == MSG_ROUTES)
		on_routes(m);
	else if (m->type == MSG_MOD_CALL)
		on_call(m);
	else
		log_debug("ignored %s", msg_type_name((int)m->type));
	return 0;
}

int
main(int argc, char *argv[])
{
	int r;

	if (mkchild_version("mobkit-router", argc, argv))
		return 0;
	R.loop = ev_default_loop(0);
	r = mkchild_serve(&R.mk, R.loop, "mobkit-router", on_msg, NULL, 1);
	table_free();
	return r;
}
