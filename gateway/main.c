/*
 * mobkit-gateway: the mob over HTTP.  Started by mobkitd as the module
 * "gateway" ([gateway] in mobkit.ini, its settings in MOBKIT_GATEWAY_*),
 * it serves HTTP (http.c) and turns each request into the control
 * requests mobkitctl sends, on its fd 3, each with a rid; the root's
 * replies and stream items come back with the rid (proto.h).
 *
 * Invariant: a call in flight is in the table under its rid until its
 * reply comes, it is cancelled, or the root is gone (then every call
 * ends with "mobkitd is unreachable").
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "child.h"
#include "frame.h"
#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "tojson.h"
#include "gateway.h"

struct call {
	uint64_t	 rid;
	struct hreq	*r;
	root_item_fn	 item;
	root_done_fn	 done;
	UT_hash_handle	 hh;
};

struct gw_settings GS;
struct ev_loop	*gw_loop;
int		 gw_stopping;
static struct mkchild mk;
static struct call *calls;
static uint64_t	 next_rid = 1;

/* An environment setting, or dflt. */
static const char *
env(const char *name, const char *dflt)
{
	char key[64];
	const char *v;

	snprintf(key, sizeof(key), "MOBKIT_GATEWAY_%s", name);
	v = getenv(key);
	return v != NULL && *v != '\0' ? v : dflt;
}

static void
settings_load(void)
{
	GS.listen = env("LISTEN", "127.0.0.1:8787");
	GS.auth = env("AUTH", "token");
	GS.token_file = env("TOKEN_FILE", NULL);
	GS.jwks_file = env("JWKS_FILE", NULL);
	GS.jwt_issuer = env("JWT_ISSUER", NULL);
	GS.jwt_audience = env("JWT_AUDIENCE", NULL);
	GS.tls_cert_file = env("TLS_CERT_FILE", NULL);
	GS.tls_key_file = env("TLS_KEY_FILE", NULL);
	GS.console = strcmp(env("CONSOLE", "true"), "true") == 0;
	GS.metrics_auth = strcmp(env("METRICS_AUTH", "true"), "true") == 0;
	GS.max_body_bytes = (size_t)strtoull(env("MAX_BODY_BYTES", "1048576"),
	    NULL, 10);
}

int
root_up(void)
{
	return mk.peer != NULL;
}

/*
 * Send {t: CTL_REQUEST, version, rid, verb, args} for r; the reply goes
 * to done (items of a stream to item first).  Its rid, or 0 when the
 * root cannot be reached (nothing will be called).
 */
uint64_t
root_call(struct hreq *r, const char *verb, json_t *args, root_item_fn item,
    root_done_fn done)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct call *c;
	int rc;

	if (mk.peer == NULL)
		return 0;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	mp_kint(&pk, "t", MSG_CTL_REQUEST);
	mp_kint(&pk, "version", PROTO_VERSION);
	mp_kint(&pk, "rid", (int64_t)next_rid);
	mp_kstr(&pk, "verb", verb);
	mp_str(&pk, "args");
	if (args != NULL)
		json_to_mp(&pk, args);
	else
		msgpack_pack_map(&pk, 0);
	rc = peer_send_flags(mk.peer, sb.data, sb.size, PEER_FORCE);
	msgpack_sbuffer_destroy(&sb);
	if (rc == -1)
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->rid = next_rid++;
	c->r = r;
	c->item = item;
	c->done = done;
	HASH_ADD(hh, calls, rid, sizeof(c->rid), c);
	return c->rid;
}

/* The request that made rid is gone: tell the root, forget it. */
void
root_cancel(uint64_t rid)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct call *c;

	HASH_FIND(hh, calls, &rid, sizeof(rid), c);
	if (c == NULL)
		return;
	HASH_DEL(calls, c);
	free(c);
	if (mk.peer == NULL)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kint(&pk, "t", MSG_CTL_CANCEL);
	mp_kint(&pk, "rid", (int64_t)rid);
	(void)peer_send_flags(mk.peer, sb.data, sb.size, PEER_FORCE);
	msgpack_sbuffer_destroy(&sb);
}

/* CTL_REPLY or CTL_STREAM for one of our calls. */
static int
on_root_raw(const msgpack_object *m, void *arg)
{
	const msgpack_object *o;
	struct call *c;
	int64_t t, rid;
	json_t *j;
	char err[512];
	int ok = 0;

	(void)arg;
	if (mp_get_int(m, "t", &t) == -1 || mp_get_int(m, "rid", &rid) == -1)
		return 0;
	HASH_FIND(hh, calls, &rid, sizeof(rid), c);
	if (c == NULL)
		return 0;	/* cancelled */
	if (t == MSG_CTL_STREAM) {
		if ((o = mp_find(m, "item")) != NULL && c->item != NULL &&
		    (j = mp_to_json(o)) != NULL) {
			c->item(c->r, j);
			json_decref(j);
		}
		return 0;
	}
	if (t != MSG_CTL_REPLY)
		return 0;
	HASH_DEL(calls, c);
	(void)mp_get_bool(m, "ok", &ok);
	err[0] = '\0';
	(void)mp_copy_str(m, "error", err, sizeof(err));
	j = (o = mp_find(m, "result")) != NULL ? mp_to_json(o) : NULL;
	c->done(c->r, ok, j, err);
	json_decref(j);
	free(c);
	return 0;
}

/* The root is gone: every call ends. */
static void
calls_fail(void)
{
	struct call *c, *t;

	HASH_ITER(hh, calls, c, t) {
		HASH_DEL(calls, c);
		c->done(c->r, 0, NULL, "mobkitd is unreachable");
		free(c);
	}
}

static void
on_stop(void *arg)
{
	(void)arg;
	log_info("stopping");
	gw_stopping = 1;
	ev_break(gw_loop, EVBREAK_ALL);
}

/* Listening: READY to the root. */
void
gw_ready(void)
{
	if (mkchild_ready(&mk) == -1)
		log_warnx("READY not sent");
}

int
main(int argc, char *argv[])
{
	if (mkchild_version("mobkit-gateway", argc, argv))
		return 0;
	signal(SIGPIPE, SIG_IGN);
	gw_loop = ev_default_loop(EVFLAG_AUTO);
	if (mkchild_init(&mk, gw_loop, "mobkit-gateway", on_stop, NULL) == -1)
		return 1;
	mk.raw = on_root_raw;
	settings_load();
	if (auth_init() == -1)
		return 1;
	if (http_start() == -1)
		return 1;
	gw_ready();
	sse_keepalive_start();
	sse_feed_start();
	ev_run(gw_loop, 0);
	gw_stopping = 1;
	calls_fail();
	http_stop();
	if (mk.peer != NULL)
		(void)peer_flush(mk.peer, 1000);
	return 0;
}
