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
#include "msgtab.h"
#include "proto.h"

/*
 * PING from the root's watchdog: answer PONG with its seq at once.  This
 * runs in the loop every mobkit-* child serves, so a child answers as long
 * as its loop turns (a long LLM turn included, being event-driven), and
 * stops answering when it is stopped, stuck or looping.
 */
static void
pong(struct mkchild *mk, const struct msg_view *v)
{
	struct msgw w;
	int64_t seq = msgv_int(v, K_SEQ, 0);

	msgw_begin(&w, MSG_PONG);
	msgw_int(&w, K_SEQ, seq);
	if (mk->peer != NULL && msgw_send(&w, mk->peer, 0) == -1)
		log_warnx("PONG %lld not sent: mobkitd's queue is full",
		    (long long)seq);
	msgw_free(&w);
}

/*
 * A message from the root, read against its table: 0, or -1 (logged,
 * the message dropped) when it breaks it.
 */
static int
read_msg(const msgpack_object *m, struct msg_view *v)
{
	char err[256];

	if (msg_read(m, v, err, sizeof(err)) == 0)
		return 0;
	log_warnx("from mobkitd: %s: dropped", err);
	return -1;
}

static int
on_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	struct mkchild *mk = arg;
	struct msg_view v;
	int64_t t;

	(void)p;
	if (mk->raw != NULL && mp_get_int(m, "t", &t) == 0 &&
	    t >= MSG_CTL_REQUEST)
		return mk->raw(m, mk->raw_arg);
	if (read_msg(m, &v) == -1)
		return 0;
	if (v.type == MSG_PING)
		pong(mk, &v);
	else if (v.type == MSG_STOP) {
		log_debug("STOP from mobkitd");
		mk->on_stop(mk->arg);
	} else
		log_debug("ignored message %s from mobkitd",
		    msg_type_name((int)v.type));
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

/* HELLO (with the protocol version, name, pid) or READY. */
static int
send_simple(struct mkchild *mk, int type)
{
	struct msgw w;

	if (mk->peer == NULL)
		return 0;
	msgw_begin(&w, type);
	if (type == MSG_HELLO) {
		msgw_int(&w, K_VERSION, PROTO_VERSION);
		msgw_str(&w, K_NAME, mk->name);
		msgw_int(&w, K_PID, getpid());
	}
	return msgw_send(&w, mk->peer, 0);
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
	return send_simple(mk, MSG_HELLO);
}

int
mkchild_ready(struct mkchild *mk)
{
	return send_simple(mk, MSG_READY);
}

/* Send an event of the given type with a packed map as payload. */
int
mkchild_event(struct mkchild *mk, const char *type,
    const msgpack_sbuffer *payload)
{
	struct msgw w;

	if (mk->peer == NULL)
		return 0;
	msgw_begin(&w, MSG_EVENT);
	msgw_str(&w, K_EVENT_TYPE, type);
	if (payload != NULL && payload->size > 0)
		msgw_raw(&w, K_PAYLOAD, payload->data, payload->size);
	else
		msgpack_pack_map(msgw_key(&w, K_PAYLOAD), 0);
	return msgw_send(&w, mk->peer, 0);
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

static mkchild_msg_cb	 serve_cb;

/* STOP ends the loop, PING is answered; the rest goes to the module. */
static int
serve_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	struct mkchild *mk = arg;
	struct msg_view v;

	(void)p;
	if (read_msg(m, &v) == -1)
		return 0;
	if (v.type == MSG_STOP) {
		log_debug("STOP from mobkitd");
		ev_break(mk->loop, EVBREAK_ALL);
		return 0;
	}
	if (v.type == MSG_PING) {
		pong(mk, &v);
		return 0;
	}
	return serve_cb(&v, mk->user);
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
    mkchild_msg_cb cb, void *arg, int ready_now)
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
