/*
 * watchdog.c: liveness of running children (watchdog_ms).
 *
 * A healthy `ready = message` child is pinged on its socket every half
 * watchdog_ms and must answer PONG; a `ready = notify` child sends
 * WATCHDOG=1 on its own.  A child with no sign of life for watchdog_ms is
 * aborted: SIGABRT (and SIGCONT, so that a stopped one takes it), then
 * SIGKILL after a short grace, and handled as a failure (CE_WATCHDOG).  A
 * `message` child whose socket closes while it keeps running is a failure
 * too.  One timer per child (c->wd), armed only when there is something
 * to watch: with watchdog_ms = 0 an idle tree never wakes up; pings fall
 * on a grid of the period, so a thousand members cost one wake-up.
 */
#include <signal.h>
#include <string.h>

#include "log.h"
#include "engine/events.h"
#include "engine/internal.h"
#include "mpack.h"
#include "msgtab.h"
#include "proto.h"
#include "timeutil.h"

#define CLOSED_GRACE_MS	1000	/* fd 3 closed: time to exit on its own */
#define ABORT_GRACE_MS	2000	/* ABRT -> KILL (or stop_timeout_ms) */

enum { WD_OFF, WD_PING, WD_NOTIFY, WD_CLOSED, WD_GRACE };

static void	wd_cb(struct ev_loop *, ev_timer *, int);

/* The verdict, for a live child not already being killed. */
static void
wd_expire(struct child *c, const char *reason)
{
	if (c->pid <= 0 || c->condemned || (c->state != CS_STARTING &&
	    c->state != CS_RESTARTING && c->state != CS_HEALTHY))
		return;
	c->kill_reason = reason;
	child_event(c, CE_WATCHDOG);
}

/* Ping every half watchdog_ms: an answer always has half a period. */
static uint64_t
period(const struct child *c)
{
	return c->conf->watchdog_ms >= 2 ? (uint64_t)c->conf->watchdog_ms / 2 :
	    1;
}

/*
 * The next ping on a grid of the period, so that children with the same
 * watchdog_ms are pinged in one wake-up of the loop, not each in its own.
 */
static uint64_t
next_ping(const struct child *c)
{
	uint64_t p = period(c);

	return p - mono_ms() % p;
}

static void
wd_arm(struct child *c, int mode, uint64_t ms)
{
	ev_timer_stop(D->loop, &c->wd);
	c->wd_mode = mode;
	c->wd_due = mono_ms() + ms;
	ev_timer_set(&c->wd, (double)ms / 1000.0, 0.);
	ev_timer_start(D->loop, &c->wd);
}

static void
wd_cancel(struct child *c)
{
	ev_timer_stop(D->loop, &c->wd);
	c->wd_mode = WD_OFF;
}

void
watchdog_init(struct child *c)
{
	ev_init(&c->wd, wd_cb);
	c->wd.data = c;
	c->wd_mode = WD_OFF;
}

/* A child became healthy: watch it if it has a watchdog and a channel. */
void
watchdog_healthy(struct child *c)
{
	c->wd_seen = mono_ms();
	if (c->conf->watchdog_ms <= 0 || c->condemned ||
	    c->wd_mode == WD_CLOSED || c->wd_mode == WD_GRACE)
		return;
	if (c->conf->ready == READY_MESSAGE && c->peer != NULL)
		wd_arm(c, WD_PING, next_ping(c));
	else if (c->conf->ready == READY_NOTIFY)
		wd_arm(c, WD_NOTIFY, (uint64_t)c->conf->watchdog_ms);
}

/* A child left healthy (stopping, failed): nothing more to watch. */
void
watchdog_left(struct child *c)
{
	if (c->wd_mode == WD_PING || c->wd_mode == WD_NOTIFY)
		wd_cancel(c);
}

/* The process is reaped: no grace to wait out any more. */
void
watchdog_gone(struct child *c)
{
	wd_cancel(c);
}

/* A PONG (any seq: each one is a sign of life); -1 when malformed. */
int
watchdog_pong(struct child *c, const struct msg_view *m)
{
	if (!msgv_has(m, K_SEQ))
		return -1;
	c->wd_seen = mono_ms();
	return 0;
}

/* A WATCHDOG= line on a child's notify socket (sd_notify). */
void
watchdog_notify(struct child *c, const char *line)
{
	if (strcmp(line, "WATCHDOG=1") == 0)
		c->wd_seen = mono_ms();
	else if (strcmp(line, "WATCHDOG=trigger") == 0) {
		log_warnx("%s: asked for its own watchdog (WATCHDOG=trigger)",
		    c->name);
		wd_expire(c, "watchdog");
	}
}

/*
 * fd 3 closed.  A child that is exiting closes it too, so it gets a grace
 * to exit on its own before its closed socket counts as a failure.
 */
void
watchdog_closed(struct child *c)
{
	if (c->pid <= 0 || c->condemned || (c->state != CS_STARTING &&
	    c->state != CS_RESTARTING && c->state != CS_HEALTHY))
		return;
	log_debug("%s: its socket closed; waiting %d ms for it to exit",
	    c->name, CLOSED_GRACE_MS);
	wd_arm(c, WD_CLOSED, CLOSED_GRACE_MS);
}

/* Mark a child's process as being killed, ignore it from now, signal it. */
void
child_condemn(struct child *c, const char *reason, int sig)
{
	if (c->condemned)
		return;
	c->condemned = 1;
	c->kill_reason = reason;
	if (c->peer != NULL)
		peer_pause(c->peer, 1);
	if (c->pid > 0 && kill(c->pid, sig) == -1)
		log_warn("%s: kill %d %s", c->name, (int)c->pid,
		    signal_name(sig));
}

/* The watchdog's verdict (CE_WATCHDOG): ABRT now, KILL after a grace. */
void
watchdog_abort(struct child *c)
{
	const char *reason = c->kill_reason ? c->kill_reason : "watchdog";
	uint64_t grace = ABORT_GRACE_MS;
	struct evb b;

	if (c->conf->stop_timeout_ms > 0 &&
	    (uint64_t)c->conf->stop_timeout_ms < grace)
		grace = (uint64_t)c->conf->stop_timeout_ms;
	if (strcmp(reason, "socket_closed") == 0)
		log_warnx("%s: closed its socket (fd 3) and runs on: sending "
		    "ABRT", c->name);
	else
		log_warnx("%s: no sign of life for %lld ms (watchdog): sending "
		    "ABRT", c->name, (long long)c->conf->watchdog_ms);
	evb_begin(&b, 3);
	mp_kint(&b.pk, "pid", c->pid);
	mp_kstr(&b.pk, "reason", reason);
	mp_kint(&b.pk, "watchdog_ms", c->conf->watchdog_ms);
	evb_emit(&b, "supervisor", c->name, "child.watchdog");
	child_condemn(c, reason, SIGABRT);
	if (c->pid > 0)
		(void)kill(c->pid, SIGCONT);	/* a stopped child takes it */
	wd_arm(c, WD_GRACE, grace);
}

/* Ping, or judge a ping child: no PONG for watchdog_ms is the end. */
static void
ping_tick(struct child *c, uint64_t now, int late)
{
	struct msgw w;

	if (!late && now - c->wd_seen >= (uint64_t)c->conf->watchdog_ms) {
		wd_expire(c, "watchdog");
		return;
	}
	if (c->peer != NULL) {
		msgw_begin(&w, MSG_PING);
		msgw_int(&w, K_SEQ, ++c->wd_seq);
		if (msgw_send(&w, c->peer, 0) == -1)
			log_warnx("%s: PING not sent: its queue is full",
			    c->name);
	}
	wd_arm(c, WD_PING, next_ping(c));
}

/* Judge a notify child: WATCHDOG=1 within watchdog_ms, else the end. */
static void
notify_tick(struct child *c, uint64_t now, int late)
{
	uint64_t w = (uint64_t)c->conf->watchdog_ms, age = now - c->wd_seen;

	if (!late && age >= w) {
		wd_expire(c, "watchdog");
		return;
	}
	wd_arm(c, WD_NOTIFY, late || age >= w ? period(c) : w - age);
}

/*
 * The child's timer.  When mobkitd's own loop was late (it did not run for
 * more than a period), an answer may sit unread: no verdict this time.
 */
static void
wd_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child *c = w->data;
	uint64_t now = mono_ms();
	int mode = c->wd_mode, late = now > c->wd_due + period(c);

	(void)loop;
	(void)revents;
	c->wd_mode = WD_OFF;
	if (c->condemned && mode != WD_GRACE)
		return;		/* being killed already */
	switch (mode) {
	case WD_PING:
		ping_tick(c, now, late);
		break;
	case WD_NOTIFY:
		notify_tick(c, now, late);
		break;
	case WD_CLOSED:
		wd_expire(c, "socket_closed");
		break;
	case WD_GRACE:
		if (c->pid > 0) {
			log_warnx("%s: still running after ABRT: sending KILL",
			    c->name);
			(void)kill(c->pid, SIGKILL);
			(void)kill(-c->pid, SIGKILL);
		}
		break;
	}
}
