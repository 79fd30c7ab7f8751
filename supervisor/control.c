/*
 * control.c: the control socket (0600, peer uid checked with SO_PEERCRED),
 * the dispatch of requests to the verbs the domains register (verbs.h),
 * and the supervision verbs.  Each request is checked once against its
 * verb's fields (ctlverbs.c) before a handler sees it.  A malformed or
 * oversized request drops that client only.  Dropped clients are freed just before the loop
 * blocks, never under a caller's feet.
 */
#include <sys/file.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"
#include "tojson.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "client.h"
#include "control.h"
#include "control_int.h"
#include "verbs.h"

#define CTL_HWM		(32 * 1024 * 1024)	/* unused: replies are forced,
						   followers capped in events.c */
#define CLIENT_LINGER_MS 10000	/* a closing client's time to read its last */
#define SHUTDOWN_FLUSH_MS 100	/* at exit, for all clients together */
#define HANDLERS_MAX	64	/* verbs served */


struct clientq	 clients = TAILQ_HEAD_INITIALIZER(clients);
static int		 listen_fd = -1;
static ev_io		 accept_io;
static ev_prepare	 reaper;
uint64_t		 next_client_id = 1;
static char		*sock_path;
static char		 errbuf[8192];

static void	control_flush_all(int timeout_ms);

/* Results for deferred replies to stop/restart. */
uint64_t
client_id(struct client *cl)
{
	return cl->id;
}

struct client *
client_by_id(uint64_t id)
{
	struct client *cl;

	TAILQ_FOREACH(cl, &clients, entry)
		if (cl->id == id && !cl->dead)
			return cl;
	return NULL;
}

size_t
client_queued(struct client *cl)
{
	struct peer *p;

	if (cl->relay)
		return !cl->dead && (p = relay_peer(cl)) != NULL ?
		    peer_queued(p) : 0;
	return cl->dead ? 0 : peer_queued(cl->peer);
}

/*
 * Queue a message to a client whatever its backlog: a reply was asked
 * for, and the cap on what a follower may owe is events.c's to enforce.
 * Bounded only by the largest message (EMSGSIZE).
 */
int
client_send(struct client *cl, msgpack_sbuffer *sb)
{
	if (cl->dead || cl->closing) {
		errno = EPIPE;
		return -1;
	}
	if (cl->relay)
		return relay_send(cl, sb);
	return peer_send_flags(cl->peer, sb->data, sb->size, PEER_FORCE);
}

/* Mark a client dead; it is freed before the loop next blocks. */
void
client_drop(struct client *cl, const char *why)
{
	if (cl->dead)
		return;
	log_debug("control client %llu dropped: %s",
	    (unsigned long long)cl->id, why);
	if (cl->relay) {
		relay_end(cl, why);
		return;
	}
	cl->dead = 1;
	if (cl->closing)
		ev_timer_stop(D->loop, &cl->linger);
	events_unsubscribe(cl);
	peer_pause(cl->peer, 1);
	ev_io_stop(D->loop, &cl->peer->wio);
}

/* A closing client that did not read its last output in time. */
static void
linger_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *cl = w->data;

	(void)loop;
	(void)revents;
	client_drop(cl, "did not read its last output in time");
}

/* The client's queue went down: its last output is out, or replay more. */
static void
client_drained(struct peer *p, void *arg)
{
	struct client *cl = arg;

	(void)p;
	if (cl->dead)
		return;
	if (cl->closing) {
		if (peer_queued(cl->peer) == 0)
			client_drop(cl, cl->why);
		return;
	}
	events_pump(cl);
}

/* Be called back (events_pump) when the queue is down to lowat bytes. */
void
client_watch_drain(struct client *cl, size_t lowat)
{
	if (cl->relay) {
		cl->want_drain = 1;
		return;
	}
	peer_set_drain(cl->peer, client_drained, lowat);
}

/* How the event ring reaches a client (engine/events.h). */
const struct event_client_ops control_event_ops = {
	.send = client_send,
	.queued = client_queued,
	.drop = client_drop,
	.close = client_close,
	.watch_drain = client_watch_drain,
	.id = client_id,
	.reply_ok = reply_ok_packed,
};

/*
 * What is queued is the client's last output: read nothing more from it,
 * and drop it once the queue is written, or CLIENT_LINGER_MS from now.
 */
void
client_close(struct client *cl, const char *why)
{
	if (cl->dead || cl->closing)
		return;
	if (cl->relay) {
		relay_end(cl, why);
		return;
	}
	cl->closing = 1;
	snprintf(cl->why, sizeof(cl->why), "%s", why);
	events_unsubscribe(cl);
	peer_pause(cl->peer, 1);
	ev_timer_init(&cl->linger, linger_cb, CLIENT_LINGER_MS / 1000.0, 0.);
	cl->linger.data = cl;
	ev_timer_start(D->loop, &cl->linger);
	peer_set_drain(cl->peer, client_drained, 0);
}

static void
reaper_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct client *cl, *t;

	(void)loop;
	(void)w;
	(void)revents;
	TAILQ_FOREACH_SAFE(cl, &clients, entry, t) {
		if (cl->relay && !cl->dead && relay_peer(cl) == NULL)
			relay_end(cl, "the gateway is gone");
		if (!cl->dead)
			continue;
		TAILQ_REMOVE(&clients, cl, entry);
		if (cl->peer != NULL)
			peer_free(cl->peer);
		free(cl);
	}
}

/*
 * Begin {t: REPLY, ok, <one more key>} to client cid; NULL (nothing begun)
 * when it is gone.
 */
static struct client *
reply_begin(uint64_t cid, msgpack_sbuffer *sb, msgpack_packer *pk, int ok)
{
	struct client *cl = client_by_id(cid);

	if (cl == NULL)
		return NULL;
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(pk, 3);
	mp_kint(pk, "t", MSG_CTL_REPLY);
	mp_kbool(pk, "ok", ok);
	return cl;
}

/* Send {t: REPLY, ok: true, result: <packed>}. */
void
reply_ok_packed(uint64_t cid, const char *data, size_t len)
{
	struct client *cl;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if ((cl = reply_begin(cid, &sb, &pk, 1)) == NULL)
		return;
	mp_str(&pk, "result");
	if (len > 0)
		msgpack_sbuffer_write(&sb, data, len);
	else
		msgpack_pack_nil(&pk);
	if (client_send(cl, &sb) == -1 && errno == EMSGSIZE) {
		snprintf(errbuf, sizeof(errbuf), "the reply is %zu bytes, more "
		    "than the largest message (%zu bytes)", sb.size,
		    (size_t)FRAME_MSG_MAX);
		msgpack_sbuffer_destroy(&sb);
		reply_error(cid, errbuf);
		return;
	}
	cl->busy = 0;
	msgpack_sbuffer_destroy(&sb);
	if (cl->relay)
		cl->dead = 1;		/* answered: the request is over */
}

/* Send {t: REPLY, ok: false, error: msg}. */
void
reply_error(uint64_t cid, const char *msg)
{
	struct client *cl;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if ((cl = reply_begin(cid, &sb, &pk, 0)) == NULL)
		return;
	mp_kstr(&pk, "error", msg);
	(void)client_send(cl, &sb);
	cl->busy = 0;
	msgpack_sbuffer_destroy(&sb);
	if (cl->relay)
		cl->dead = 1;
}

/* The client follows the event stream (events --follow). */
void
client_set_following(struct client *cl, int on)
{
	cl->following = on;
}

/* The client waits for the shutdown report. */
void
client_want_report(struct client *cl)
{
	cl->wants_report = 1;
}

/* Set the error message of the verb being run; returns -1. */
int
ctl_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return -1;
}


static const struct ctl_handler *handlers[HANDLERS_MAX];
static size_t nhandlers;

/*
 * A domain's verbs, registered before main() (CTL_VERBS): a verb that is
 * not in the table of ctlverbs.c, or served twice, is a bug.
 */
void
ctl_verbs_register(const struct ctl_handler *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ctl_verb_find(t[i].verb) == NULL ||
		    ctl_handler_find(t[i].verb) != NULL ||
		    nhandlers == HANDLERS_MAX) {
			fprintf(stderr, "mobkitd: verb \"%s\" is not declared "
			    "in ctlverbs.c, or is served twice\n", t[i].verb);
			abort();
		}
		handlers[nhandlers++] = &t[i];
	}
}

ctl_verb_fn
ctl_handler_find(const char *verb)
{
	size_t i;

	for (i = 0; i < nhandlers; i++)
		if (strcmp(handlers[i]->verb, verb) == 0)
			return handlers[i]->fn;
	return NULL;
}

/* Pack the shutdown report for every client waiting for it. */
void
control_finish_shutdown(void)
{
	struct client *cl;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	mp_str(&pk, "drain");
	msgpack_pack_map(&pk, 3);
	mp_kint(&pk, "drained", D->drained);
	mp_kbool(&pk, "timed_out", D->drain_timed_out);
	mp_kint(&pk, "duration_ms", (int64_t)D->drain_ms);
	mp_kstrs(&pk, "stopped", D->stopped_order.v, D->stopped_order.n);
	mp_kint(&pk, "orphans_killed", D->orphans_killed);
	mp_kint(&pk, "orphan_processes", D->orphans_found);
	mp_kstrs(&pk, "stages", D->stages.v, D->stages.n);
	TAILQ_FOREACH(cl, &clients, entry)
		if (!cl->dead && cl->wants_report)
			reply_ok_packed(cl->id, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	control_flush_all(SHUTDOWN_FLUSH_MS);
}

static ev_timer	 flush_deadline;
static ev_check	 flush_watch;

/* Has every client been given all it is owed? */
static int
clients_flushed(void)
{
	struct client *cl;

	TAILQ_FOREACH(cl, &clients, entry)
		if (!cl->dead && !cl->relay && peer_queued(cl->peer) > 0)
			return 0;
	return 1;
}

/* The last output is written, or its time is up: the loop may end. */
static void
flush_end(void)
{
	ev_timer_stop(D->loop, &flush_deadline);
	ev_check_stop(D->loop, &flush_watch);
	engine_release_exit();
}

static void
flush_watch_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (clients_flushed())
		flush_end();
}

static void
flush_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	flush_end();
}

/*
 * At exit: give clients what they are owed, within timeout_ms in all,
 * however many of them do not read.  The loop writes to them all at once
 * (it never waits on one) and ends once all is out or the time is up;
 * nothing more is read or accepted meanwhile.
 */
static void
control_flush_all(int timeout_ms)
{
	struct client *cl;

	if (listen_fd != -1)
		ev_io_stop(D->loop, &accept_io);
	TAILQ_FOREACH(cl, &clients, entry)
		if (!cl->dead && !cl->relay)
			peer_pause(cl->peer, 1);
	if (clients_flushed())
		return;
	engine_hold_exit();
	ev_timer_init(&flush_deadline, flush_deadline_cb,
	    (double)timeout_ms / 1000.0, 0.);
	ev_timer_start(D->loop, &flush_deadline);
	ev_check_init(&flush_watch, flush_watch_cb);
	ev_check_start(D->loop, &flush_watch);
}

/* Write a refusal now, without blocking: a dropped client gets no more. */
static void
refusal_write(int fd, const char *msg)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char hdr[FRAME_HDR];
	struct iovec iov[2];
	struct msghdr mh;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kint(&pk, "t", MSG_CTL_REPLY);
	mp_kbool(&pk, "ok", 0);
	mp_kstr(&pk, "error", msg);
	frame_header(hdr, (uint32_t)sb.size);
	iov[0].iov_base = hdr;
	iov[0].iov_len = FRAME_HDR;
	iov[1].iov_base = sb.data;
	iov[1].iov_len = sb.size;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		log_debug("control: the refusal was not written: %s",
		    strerror(errno));
	msgpack_sbuffer_destroy(&sb);
}

/*
 * Answer a bad request with its error, then drop the client.  A client
 * that still has output queued is not reading: it is just dropped.
 */
static void __attribute__((format(printf, 2, 3)))
client_refuse(struct client *cl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (cl->dead)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("control client %llu: %s", (unsigned long long)cl->id, msg);
	if (peer_queued(cl->peer) == 0)
		refusal_write(cl->peer->fd, msg);
	client_drop(cl, msg);
}

/* The first request of a connection says which protocol it speaks. */
static int
client_version(struct client *cl, const struct ctl_req *req)
{
	if (req->version == -1 && !cl->versioned) {
		client_refuse(cl, "bad request: the first request carries no "
		    "protocol version (mobkitd speaks %d)", PROTO_VERSION);
		return -1;
	}
	if (req->version != -1 && req->version != PROTO_VERSION) {
		client_refuse(cl, "protocol version %lld, expected %d",
		    (long long)req->version, PROTO_VERSION);
		return -1;
	}
	cl->versioned = 1;
	return 0;
}

/* The verb of a request and its handler, or NULL after refusing. */
static const struct ctl_verb *
client_verb(struct client *cl, const struct ctl_req *req, ctl_verb_fn *fn)
{
	const struct ctl_verb *v;

	if ((v = ctl_verb_find(req->verb)) == NULL ||
	    (*fn = ctl_handler_find(req->verb)) == NULL) {
		client_refuse(cl, "bad request: unknown verb \"%s\"",
		    req->verb);
		return NULL;
	}
	return v;
}

/* Every string of a request is text: refuse one that is not UTF-8. */
static int
args_utf8(const struct ctl_verb *v, const union ctl_args *a)
{
	const char *field;
	size_t at;

	if (ctl_args_utf8(v, a, &field, &at) == -1)
		return 0;
	return ctl_fail("%s: the %s is not valid UTF-8 at byte %zu", v->name,
	    field, at);
}

/* Run a verb with its checked arguments; answer unless it will later. */
void
client_run(struct client *cl, const struct ctl_verb *v, ctl_verb_fn fn,
    const union ctl_args *a)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int r;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	errbuf[0] = '\0';
	if (args_utf8(v, a) == -1)
		r = -1;
	else {
		cl->busy = 1;
		r = fn(cl, a, &pk);
	}
	if (r == 0)
		reply_ok_packed(cl->id, sb.data, sb.size);
	else if (r == -1)
		reply_error(cl->id, errbuf);
	msgpack_sbuffer_destroy(&sb);
}

/*
 * One request: {t: CTL_REQUEST, version, verb: str, args: {...}}, its
 * args checked against the verb's fields; anything wrong refuses the
 * client with what and which field.
 */
static int
client_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	struct client *cl = arg;
	const struct ctl_verb *v;
	struct ctl_req req;
	union ctl_args a;
	ctl_verb_fn fn;
	char why[256];

	(void)p;
	if (cl->dead)
		return 0;
	if (ctl_req_parse(m, &req, why, sizeof(why)) == -1) {
		client_refuse(cl, "bad request: %s", why);
		return 0;
	}
	if (client_version(cl, &req) == -1)
		return 0;
	if (cl->busy || cl->following) {
		client_refuse(cl, "bad request: %s while another request is "
		    "in progress on this connection", req.verb);
		return 0;
	}
	if ((v = client_verb(cl, &req, &fn)) == NULL)
		return 0;
	if (ctl_args_decode(v, req.args, &a, why, sizeof(why)) == -1) {
		client_refuse(cl, "bad request: %s", why);
		return 0;
	}
	client_run(cl, v, fn, &a);
	ctl_args_free(v, &a);
	return 0;
}

/* Did the peer die of what the client sent (not of the connection)? */
static int
bad_bytes(const char *why)
{
	if (strncmp(why, "closed", 6) == 0)
		return 0;
	return strstr(why, "msgpack") != NULL || strstr(why, "frame") !=
	    NULL || strstr(why, "left over") != NULL || strstr(why,
	    "not a map") != NULL;
}

static void
client_gone(struct peer *p, const char *why, void *arg)
{
	struct client *cl = arg;

	(void)p;
	if (bad_bytes(why))
		client_refuse(cl, "bad request: %s", why);
	else {
		if (strcmp(why, "closed") != 0)
			log_warnx("control client %llu: %s",
			    (unsigned long long)cl->id, why);
		client_drop(cl, why);
	}
}

/* Out of fds (or memory), accept waits 100 ms instead of spinning. */
#define ACCEPT_PAUSE_MS	100

static ev_timer		 accept_pause;
static uint64_t		 accept_warned;		/* mono ms */
static unsigned		 accept_pauses;		/* since the last warning */

/* The pause is over: accept again (and pause again if still out). */
static void
accept_resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	if (listen_fd != -1)
		ev_io_start(loop, &accept_io);
}

/* accept failed with err: stop accepting for a while, say so once a second. */
static void
accept_pause_start(int err)
{
	uint64_t now = mono_ms();

	accept_pauses++;
	if (accept_warned == 0 || now - accept_warned >= 1000) {
		log_warnx("control: cannot accept a client (%s): accepting "
		    "paused for %d ms (%u pause(s) since the last message)",
		    strerror(err), ACCEPT_PAUSE_MS, accept_pauses);
		accept_warned = now;
		accept_pauses = 0;
	}
	ev_io_stop(D->loop, &accept_io);
	ev_timer_set(&accept_pause, ACCEPT_PAUSE_MS / 1000.0, 0.);
	ev_timer_start(D->loop, &accept_pause);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *cl;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	(void)w;
	(void)revents;
	if ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			accept_pause_start(errno);
		return;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		close(fd);
		accept_pause_start(ENOMEM);
		return;
	}
	cl->id = next_client_id++;
	if ((cl->peer = peer_new(loop, fd, FRAME_MAX, CTL_HWM, client_msg,
	    client_gone, cl)) == NULL) {
		close(fd);
		free(cl);
		accept_pause_start(ENOMEM);
		return;
	}
	TAILQ_INSERT_TAIL(&clients, cl, entry);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		log_warnx("control: refused a client with uid %d",
		    (int)cred.uid);
		snprintf(errbuf, sizeof(errbuf), "permission denied: uid %d "
		    "is neither root nor mobkitd's uid %d", (int)cred.uid,
		    (int)geteuid());
		reply_error(cl->id, errbuf);
		client_close(cl, "uid refused");	/* once that is out */
		return;
	}
	cl->uid = cred.uid;
}

/*
 * Hold an exclusive lock on path, our pid in it, for as long as we run.
 * Another mobkitd holding it: "already running (pid N)", and -1.
 */
int
instance_lock(const char *path, const char *what)
{
	char buf[32];
	ssize_t n = 0;
	int fd, i;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1) {
		log_warn("%s: cannot open the lock file %s", what, path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			log_warn("%s: cannot lock %s", what, path);
			close(fd);
			return -1;
		}
		/* the holder writes its pid right after locking */
		for (i = 0; i < 50 && (n = pread(fd, buf, sizeof(buf) - 1,
		    0)) <= 0; i++)
			usleep(10000);
		buf[n > 0 ? n : 0] = '\0';
		log_warnx("%s: another mobkitd holds %s: already running "
		    "(pid %d)", what, path, atoi(buf));
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		log_warn("%s: cannot write our pid to %s", what, path);
	return fd;
}

/* Lock CONTROL_SOCKET.lock before the socket is touched. */
static int
control_lock(const char *sock)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s.lock", sock) >=
	    sizeof(path)) {
		log_warnx("control_socket: \"%s\" is too long", sock);
		return -1;
	}
	return instance_lock(path, "control_socket");
}

/* A daemon that exits on a start-up error leaves no socket behind. */
static void
control_unlink_atexit(void)
{
	if (sock_path != NULL && D != NULL && getpid() == D->pid)
		(void)unlink(sock_path);
}

/*
 * May we bind path?  Nothing there: yes.  A socket nobody listens on (a
 * dead daemon's): removed, yes.  A live daemon's socket, or anything that
 * is not a socket: no, and it is left alone.  The caller holds the lock.
 */
static int
socket_path_free(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, live;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("control_socket %s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control_socket %s exists and is not a socket: "
		    "remove it or choose another path", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("socket");
		return -1;
	}
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    errno == EAGAIN;
	if (live) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
			cred.pid = 0;
		log_warnx("control_socket %s: another mobkitd is listening: "
		    "already running (pid %d)", path, (int)cred.pid);
		close(fd);
		return -1;
	}
	close(fd);
	log_info("control_socket %s: removing the socket of a daemon that "
	    "is gone", path);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("unlink %s", path);
		return -1;
	}
	return 0;
}

/* Lock, create the socket (never stealing a live one) and listen. */
int
control_listen(const char *path)
{
	struct sockaddr_un sun;
	char *dir, *tmp;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control_socket: \"%s\" is longer than %zu bytes",
		    path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	if ((tmp = strdup(path)) == NULL)
		return -1;
	dir = dirname(tmp);
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		log_warn("mkdir %s", dir);
	free(tmp);
	if (control_lock(path) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	if (socket_path_free(path, &sun) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_warn("bind %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	if ((sock_path = strdup(path)) == NULL)
		fatal("strdup");
	atexit(control_unlink_atexit);
	(void)chmod(path, 0600);
	if (listen(fd, 128) == -1) {
		log_warn("listen %s", path);
		close(fd);
		return -1;
	}
	listen_fd = fd;
	ev_io_init(&accept_io, accept_cb, fd, EV_READ);
	ev_io_start(D->loop, &accept_io);
	ev_timer_init(&accept_pause, accept_resume_cb, 0., 0.);
	ev_prepare_init(&reaper, reaper_cb);
	ev_prepare_start(D->loop, &reaper);
	return 0;
}

void
control_close(void)
{
	struct client *cl, *t;

	if (listen_fd == -1)
		return;
	ev_io_stop(D->loop, &accept_io);
	ev_timer_stop(D->loop, &accept_pause);
	ev_prepare_stop(D->loop, &reaper);
	close(listen_fd);
	listen_fd = -1;
	(void)unlink(sock_path);
	free(sock_path);
	sock_path = NULL;
	TAILQ_FOREACH_SAFE(cl, &clients, entry, t) {
		TAILQ_REMOVE(&clients, cl, entry);
		if (cl->closing && !cl->dead)
			ev_timer_stop(D->loop, &cl->linger);
		events_unsubscribe(cl);
		if (cl->peer != NULL)
			peer_free(cl->peer);
		free(cl);
	}
}
