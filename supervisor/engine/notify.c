/*
 * notify.c: telling our own supervisor (systemd Type=notify) how we are.
 *
 * READY=1 once the boot set has settled: every child healthy, or failed
 * past its first readiness deadline (then STATUS=degraded: NAMES).  A
 * child is awaited (sd_pending) from the boot, or from the reload that
 * added or changed it, until its first outcome: healthy, or failed
 * (exited, missed its deadline, could not be spawned, exhausted).  One
 * that cannot start because what it depends on has failed is not awaited
 * either.  STATUS= as states change, at most once a second; RELOADING=1
 * (with MONOTONIC_USEC=) ... READY=1 around a reload; WATCHDOG=1 every
 * half WATCHDOG_USEC; STOPPING=1 at shutdown.
 *
 * A state change only marks the tree dirty; the check runs once per loop
 * iteration (ev_prepare), when the tree is whole again.  Settling is
 * followed (and logged) with or without NOTIFY_SOCKET.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"
#include "engine/internal.h"

#define STATUS_MIN_MS	1000	/* STATUS= at most this often */
#define STATUS_NAMES	5	/* names in "degraded: ..." before "N more" */
#define STATUS_MORE	sizeof(" and 2147483647 more")
#define DEPTH_MAX	32	/* depends chains followed this deep */

static struct {
	char			*path;		/* NOTIFY_SOCKET, or NULL */
	struct sockaddr_un	 sun;
	socklen_t		 sunlen;
	int			 fd;
	int			 failing;	/* the last send failed (said) */
	uint64_t		 watchdog_us;	/* WATCHDOG_USEC for us, or 0 */
	int			 started;	/* watchers on the loop */
	int			 dirty;		/* a state changed: check */
	int			 reloading;	/* RELOADING=1, READY=1 not yet */
	int			 modules_failed;	/* one is down, not awaited */
	char			 status[256];	/* the last STATUS= sent */
	uint64_t		 status_at;	/* mono ms it was sent */
	ev_prepare		 prep;
	ev_timer		 status_timer;
	ev_timer		 watchdog;
} N = { .fd = -1 };

static int	awaited(struct child *, int depth);
static void	status_timer_cb(struct ev_loop *, ev_timer *, int);

/* NOTIFY_SOCKET: a path, or '@' for the abstract namespace. */
static void
notify_open(const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/' && path[0] != '@') {
		log_warnx("NOTIFY_SOCKET=%s: not a Unix socket path: systemd "
		    "will not be told", path);
		return;
	}
	if (len < 2 || len >= sizeof(N.sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET=%s: %zu bytes, not 2 to %zu: systemd "
		    "will not be told", path, len, sizeof(N.sun.sun_path) - 1);
		return;
	}
	N.sun.sun_family = AF_UNIX;
	memcpy(N.sun.sun_path, path, len);
	N.sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (path[0] == '@')
		N.sun.sun_path[0] = '\0';	/* abstract: no trailing NUL */
	else
		N.sunlen++;
	if ((N.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("NOTIFY_SOCKET=%s: socket", path);
		return;
	}
	if ((N.path = strdup(path)) == NULL)
		fatal("strdup");
}

/* WATCHDOG_USEC, for us unless WATCHDOG_PID names another process. */
static void
watchdog_parse(const char *usec, const char *pid)
{
	unsigned long long us;
	long long p;
	char *end;

	if (pid != NULL) {
		errno = 0;
		p = strtoll(pid, &end, 10);
		if (errno != 0 || end == pid || *end != '\0' || p != getpid()) {
			log_debug("WATCHDOG_PID=%s is not us: no WATCHDOG=1",
			    pid);
			return;
		}
	}
	errno = 0;
	us = strtoull(usec, &end, 10);
	if (errno != 0 || end == usec || *end != '\0' || us == 0 ||
	    usec[0] == '-') {
		log_warnx("WATCHDOG_USEC=%s: not a positive number of "
		    "microseconds: no WATCHDOG=1", usec);
		return;
	}
	N.watchdog_us = us;
}

/*
 * Take NOTIFY_SOCKET and WATCHDOG_* for ourselves: they speak of us, so
 * no child may see them (a child with ready = notify gets a socket of
 * its own from spawn.c).
 */
void
sd_notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");

	ev_init(&N.status_timer, status_timer_cb);
	if (path != NULL && path[0] != '\0') {
		notify_open(path);
		if (N.fd != -1 && getenv("WATCHDOG_USEC") != NULL)
			watchdog_parse(getenv("WATCHDOG_USEC"),
			    getenv("WATCHDOG_PID"));
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/* One datagram to systemd: NAME=value lines; a failure is said once. */
static void
notify_send(const char *msg)
{
	if (N.fd == -1)
		return;
	if (sendto(N.fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&N.sun, N.sunlen) == -1) {
		if (!N.failing)
			log_warn("NOTIFY_SOCKET=%s: cannot send %.*s", N.path,
			    (int)strcspn(msg, "\n"), msg);
		N.failing = 1;
		return;
	}
	if (N.failing)
		log_info("NOTIFY_SOCKET=%s: sending again", N.path);
	N.failing = 0;
}

/* Can c not start because a child it waits for failed or is stopped? */
static int
held_by_failure(struct child *c, int depth)
{
	struct child *d;
	int i;

	if (c->state != CS_STOPPED || c->held || depth > DEPTH_MAX)
		return 0;
	if (c->conf->kind == KIND_MEMBER && !D->booted && N.modules_failed)
		return 1;	/* members start once every module is up */
	for (i = 0; i < c->conf->depends.n; i++) {
		d = child_find(c->conf->depends.v[i]);
		if (d != NULL && d->state != CS_HEALTHY &&
		    !awaited(d, depth + 1))
			return 1;
	}
	return 0;
}

/* Is c still awaited before READY=1? */
static int
awaited(struct child *c, int depth)
{
	return c->sd_pending && c->want_run && !c->removing &&
	    !held_by_failure(c, depth);
}

/*
 * STATUS= text: "starting: 2 of 5 children healthy", "running: 5
 * children healthy", "degraded: w1, w2", "reloading", "stopping".
 */
static void
status_text(char *buf, size_t sz)
{
	struct child *c;
	size_t off;
	int n = 0, healthy = 0, named = 0, more = 0;

	if (D->shutting_down) {
		snprintf(buf, sz, "stopping%s", D->exit_code == 3 ?
		    ": the root's restart budget is spent" : "");
		return;
	}
	if (N.reloading) {
		snprintf(buf, sz, "reloading");
		return;
	}
	TAILQ_FOREACH(c, &D->children, entry)
		if (c->want_run && !c->removing) {
			n++;
			healthy += c->state == CS_HEALTHY;
		}
	if (!D->ready_sent) {
		snprintf(buf, sz, "starting: %d of %d %s healthy", healthy, n,
		    n == 1 ? "child" : "children");
		return;
	}
	if (healthy == n && !domains_degraded()) {
		snprintf(buf, sz, "running: %d %s healthy", n,
		    n == 1 ? "child" : "children");
		return;
	}
	/* whole names only, and room left for " and N more" */
	off = (size_t)snprintf(buf, sz, "degraded");
	TAILQ_FOREACH(c, &D->children, entry) {
		if (!c->want_run || c->removing || c->state == CS_HEALTHY)
			continue;
		if (named < STATUS_NAMES &&
		    off + 2 + strlen(c->name) + STATUS_MORE < sz) {
			off += (size_t)snprintf(buf + off, sz - off, "%s%s",
			    named++ > 0 ? ", " : ": ", c->name);
		} else
			more++;
	}
	if (more > 0)
		snprintf(buf + off, sz - off, " and %d more", more);
}

/* Send msg with STATUS=text after it; remember what was said when. */
static void
status_send(const char *msg, const char *text)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s%sSTATUS=%s", msg, *msg ? "\n" : "",
	    text);
	notify_send(buf);
	if (text != N.status)
		snprintf(N.status, sizeof(N.status), "%s", text);
	N.status_at = mono_ms();
	ev_timer_stop(D->loop, &N.status_timer);
}

/* A new STATUS= if it changed, no sooner than STATUS_MIN_MS after the
 * last one (a crash loop does not flood the journal). */
static void
status_update(void)
{
	char text[sizeof(N.status)];
	uint64_t now, since;

	if (N.fd == -1 || D->shutting_down || N.reloading ||
	    ev_is_active(&N.status_timer))
		return;
	status_text(text, sizeof(text));
	if (strcmp(text, N.status) == 0)
		return;
	now = mono_ms();
	since = now - N.status_at;
	if (N.status_at != 0 && since < STATUS_MIN_MS) {
		ev_timer_set(&N.status_timer,
		    (double)(STATUS_MIN_MS - since) / 1000.0, 0.);
		ev_timer_start(D->loop, &N.status_timer);
		return;
	}
	status_send("", text);
}

/* The rate limit is over: the STATUS= held back, if still new. */
static void
status_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	status_update();
}

/* Nothing awaited any more: READY=1 (at boot, or after a reload). */
static void
settle_check(void)
{
	struct child *c;
	char text[sizeof(N.status)];

	if (D->shutting_down || (D->ready_sent && !N.reloading))
		return;
	N.modules_failed = 0;
	TAILQ_FOREACH(c, &D->children, entry)
		if (c->conf->kind == KIND_MODULE && c->want_run &&
		    !c->removing && c->state != CS_HEALTHY && !awaited(c, 0))
			N.modules_failed = 1;
	TAILQ_FOREACH(c, &D->children, entry)
		if (awaited(c, 0))
			return;
	N.reloading = 0;
	if (!D->ready_sent) {
		D->ready_sent = 1;
		status_text(text, sizeof(text));
		if (strncmp(text, "running", 7) == 0)
			log_info("every child is healthy");
		else
			log_warnx("boot settled, %s", text);
	} else {
		status_text(text, sizeof(text));
		log_debug("reload settled: %s", text);
	}
	status_send("READY=1", text);
}

/* Once per loop iteration after a change: READY=1, STATUS=. */
static void
prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (!N.dirty)
		return;
	/*
	 * During the boot, any change may be the one that lets the members
	 * start: not only a module healthy or given up on, but one a reload
	 * removed or an operator stopped, which nothing else reports (the
	 * members waited for ever).  The tree is whole here.
	 */
	if (!D->booted && !D->shutting_down)
		boot_progress();
	N.dirty = 0;
	settle_check();
	status_update();
}

/* Every half WATCHDOG_USEC, from the loop itself. */
static void
watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	notify_send("WATCHDOG=1");
}

/* The first call, from the boot: every child is awaited; watchers on. */
static void
notify_start(void)
{
	struct child *c;
	double half;

	N.started = 1;
	TAILQ_FOREACH(c, &D->children, entry)
		c->sd_pending = 1;
	ev_prepare_init(&N.prep, prepare_cb);
	ev_prepare_start(D->loop, &N.prep);
	if (N.watchdog_us > 0) {
		half = (double)N.watchdog_us / 2e6;
		ev_timer_init(&N.watchdog, watchdog_cb, 0., half);
		ev_timer_start(D->loop, &N.watchdog);
		log_info("WATCHDOG=1 to systemd every %.3f s", half);
	}
}

/* Something changed: check once this loop iteration is done. */
void
sd_notify_check(void)
{
	if (!N.started)
		notify_start();
	N.dirty = 1;
}

/* c changed state: its first outcome ends the wait for it. */
void
sd_notify_state(struct child *c)
{
	sd_notify_check();
	if (c->state == CS_HEALTHY || c->state == CS_FAILED ||
	    c->state == CS_RESTARTING || c->state == CS_EXHAUSTED)
		c->sd_pending = 0;
}

/*
 * A reload was accepted: RELOADING=1 now, READY=1 once the children it
 * adds or changes have settled.  Before the first READY=1 the boot is
 * still waited for, and that READY=1 covers the reload.
 */
void
sd_notify_reload(void)
{
	struct child *c;
	char buf[128];

	TAILQ_FOREACH(c, &D->children, entry)
		if (c->ntrans == 0 || c->next_conf != NULL)
			c->sd_pending = 1;
	sd_notify_check();
	if (!D->ready_sent)
		return;
	N.reloading = 1;
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)mono_us());
	status_send(buf, "reloading");
}

/*
 * A reload was refused (a bad config): nothing changes, but a manager that
 * waits for the reload's end (Type=notify-reload) hears it began and ended.
 */
void
sd_notify_reload_refused(void)
{
	char buf[128], text[sizeof(N.status)];

	if (!D->ready_sent || N.reloading)
		return;
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)mono_us());
	notify_send(buf);
	status_text(text, sizeof(text));
	status_send("READY=1", text);
}

/* The ordered shutdown begins. */
void
sd_notify_stopping(void)
{
	char text[sizeof(N.status)];

	N.reloading = 0;
	status_text(text, sizeof(text));
	status_send("STOPPING=1", text);
}
