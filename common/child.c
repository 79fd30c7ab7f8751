/* child.c: what every mobkit-* child says to the root on fd 3. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "frame.h"
#include "log.h"
#include "mpack.h"
#include "proto.h"

/*
 * PING from the root's watchdog: answer PONG with its seq at once.  This
 * runs in the loop every mobkit-* child serves, so a child answers as long
 * as its loop turns (a long LLM turn included, being event-driven), and
 * stops answering when it is stopped, stuck or looping.
 */
static void
pong(struct mkchild *mk, const msgpack_object *m)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int64_t seq;

	if (mp_get_int(m, "seq", &seq) == -1) {
		log_warnx("PING from mobkitd without a seq");
		return;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kint(&pk, "t", MSG_PONG);
	mp_kint(&pk, "seq", seq);
	if (mk->peer != NULL && peer_send_sbuf(mk->peer, &sb) == -1)
		log_warnx("PONG %lld not sent: mobkitd's queue is full",
		    (long long)seq);
	msgpack_sbuffer_destroy(&sb);
}

static int
on_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	struct mkchild *mk = arg;
	int64_t t;

	(void)p;
	if (mp_get_int(m, "t", &t) == -1) {
		log_warnx("message from mobkitd without a type");
		return 0;
	}
	if (t == MSG_PING)
		pong(mk, m);
	else if (t == MSG_STOP) {
		log_debug("STOP from mobkitd");
		mk->on_stop(mk->arg);
	} else
		log_debug("ignored message %s from mobkitd",
		    msg_type_name((int)t));
	return 0;
}

static void
on_gone(struct peer *p, const char *why, void *arg)
{
	struct mkchild *mk = arg;

	(void)p;
	log_info("mobkitd socket %s: stopping", why);
	mk->on_stop(mk->arg);
}

static void
on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct mkchild *mk = w->data;

	(void)loop;
	(void)revents;
	mk->on_stop(mk->arg);
}

static int
send_simple(struct mkchild *mk, int type, int version)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int r;

	if (mk->peer == NULL)
		return 0;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, version ? 4 : 1);
	mp_kint(&pk, "t", type);
	if (version) {
		mp_kint(&pk, "version", PROTO_VERSION);
		mp_kstr(&pk, "name", mk->name);
		mp_kint(&pk, "pid", getpid());
	}
	r = peer_send_sbuf(mk->peer, &sb);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

/* Connect to the root through MOBKIT_FD (if any) and say HELLO. */
int
mkchild_init(struct mkchild *mk, struct ev_loop *loop, const char *role,
    void (*on_stop)(void *), void *arg)
{
	const char *fds = getenv("MOBKIT_FD"), *name = getenv("MOBKIT_NAME");

	memset(mk, 0, sizeof(*mk));
	mk->loop = loop;
	mk->name = name ? name : role;
	mk->on_stop = on_stop;
	mk->arg = arg;
	log_init(mk->name, LOG_L_INFO);
	log_set_bare(fds != NULL);
	ev_signal_init(&mk->sterm, on_signal, SIGTERM);
	ev_signal_init(&mk->sint, on_signal, SIGINT);
	mk->sterm.data = mk->sint.data = mk;
	ev_signal_start(loop, &mk->sterm);
	ev_signal_start(loop, &mk->sint);
	if (fds == NULL)
		return 0;	/* run by hand: no root to talk to */
	if (atoi(fds) != MOBKIT_FD || fcntl(MOBKIT_FD, F_GETFD) == -1) {
		log_warnx("MOBKIT_FD=%s is not an open socket", fds);
		return -1;
	}
	fcntl(MOBKIT_FD, F_SETFD, FD_CLOEXEC);
	fcntl(MOBKIT_FD, F_SETFL, O_NONBLOCK);
	if ((mk->peer = peer_new(loop, MOBKIT_FD, FRAME_MAX, 8 << 20, on_msg,
	    on_gone, mk)) == NULL)
		return -1;
	return send_simple(mk, MSG_HELLO, 1);
}

int
mkchild_ready(struct mkchild *mk)
{
	return send_simple(mk, MSG_READY, 0);
}

/* Send an event of the given type with a packed map as payload. */
int
mkchild_event(struct mkchild *mk, const char *type,
    const msgpack_sbuffer *payload)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int r;

	if (mk->peer == NULL)
		return 0;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kint(&pk, "t", MSG_EVENT);
	mp_kstr(&pk, "event_type", type);
	mp_str(&pk, "payload");
	if (payload != NULL && payload->size > 0)
		msgpack_sbuffer_write(&sb, payload->data, payload->size);
	else
		msgpack_pack_map(&pk, 0);
	r = peer_send_sbuf(mk->peer, &sb);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

/* -V: print the version; 1 when the caller should exit. */
int
mkchild_version(const char *role, int argc, char *argv[])
{
	if (argc > 1 && strcmp(argv[1], "-V") == 0) {
		printf("%s (protocol %d)\n", role, PROTO_VERSION);
		return 1;
	}
	return 0;
}

static peer_msg_cb	 serve_cb;

/* STOP ends the loop, PING is answered; the rest goes to the module. */
static int
serve_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	struct mkchild *mk = arg;
	int64_t t = 0;

	if (mp_get_int(m, "t", &t) == 0 && t == MSG_STOP) {
		log_debug("STOP from mobkitd");
		ev_break(mk->loop, EVBREAK_ALL);
		return 0;
	}
	if (t == MSG_PING) {
		pong(mk, m);
		return 0;
	}
	return serve_cb(p, m, mk->user);
}

static void
serve_gone(struct peer *p, const char *why, void *arg)
{
	struct mkchild *mk = arg;

	(void)p;
	log_info("mobkitd socket %s: stopping", why);
	ev_break(mk->loop, EVBREAK_ALL);
}

static void
serve_stop(void *arg)
{
	struct mkchild *mk = arg;

	ev_break(mk->loop, EVBREAK_ALL);
}

/*
 * The life of a module: HELLO on fd 3, READY (now, or later by the
 * module itself), every message to on_msg until STOP, a signal or the
 * socket closing; then what is queued is written.  The exit status.
 */
int
mkchild_serve(struct mkchild *mk, struct ev_loop *loop, const char *role,
    peer_msg_cb cb, void *arg, int ready_now)
{
	if (mkchild_init(mk, loop, role, serve_stop, mk) == -1)
		return 1;
	if (mk->peer == NULL) {
		fprintf(stderr, "%s: run by mobkitd (no MOBKIT_FD)\n", role);
		return 1;
	}
	serve_cb = cb;
	mk->user = arg;
	mk->peer->on_msg = serve_msg;
	mk->peer->on_gone = serve_gone;
	mk->peer->arg = mk;
	if (ready_now && mkchild_ready(mk) == -1)
		return 1;
	ev_run(loop, 0);
	(void)peer_flush(mk->peer, 1000);
	peer_free(mk->peer);
	mk->peer = NULL;
	return 0;
}
