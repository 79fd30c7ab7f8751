/*
 * state.c: a child's state machine.  Its state changes only through
 * child_event(), a lookup in the state x event table below; set_state()
 * is called by the table's actions alone.  What a failure leads to is
 * policy.c's; what a kind of child does at each turn, kind.h's.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mpack.h"
#include "msgtab.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/events.h"
#include "engine/internal.h"

/* A child's state as shown: a member another node runs is "remote". */
const char *
child_state_name(const struct child *c)
{
	return c->remote && c->pid == 0 ? "remote" : cstate_names[c->state];
}

const char *const cstate_names[] = { "stopped", "starting", "healthy",
    "failed", "restarting", "exhausted", "stopping" };

struct daemon *D;

/* Move a child to a new state and record it: for the actions only. */
void
set_state(struct child *c, int to)
{
	int from = c->state;

	if (from == to && c->ntrans > 0)
		return;
	c->state = to;
	c->since_wall = wall_ms();
	if (to == CS_HEALTHY) {
		c->healthy_since = mono_ms();
		watchdog_healthy(c);
	} else if (from == CS_HEALTHY)
		watchdog_left(c);
	transition_record(c, c->ntrans++ ? from : -1, to);
	log_debug("%s: %s -> %s", c->name, cstate_names[from],
	    cstate_names[to]);
	sd_notify_state(c);
}

/* Cancel the child's timer (and its pending restart). */
void
timer_cancel(struct child *c)
{
	ev_timer_stop(D->loop, &c->timer);
	c->timer_kind = CT_NONE;
	c->next_restart_at = 0;
}

/* Arm the child's one timer for kind, in ms. */
void
timer_arm(struct child *c, int kind, uint64_t ms)
{
	ev_timer_stop(D->loop, &c->timer);
	c->timer_kind = kind;
	ev_timer_set(&c->timer, (double)ms / 1000.0, 0.);
	ev_timer_start(D->loop, &c->timer);
}

/* A child's one timer: start deadline, backoff or stop timeout. */
void
child_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child *c = w->data;
	int kind = c->timer_kind;

	(void)loop;
	(void)revents;
	c->timer_kind = CT_NONE;
	if (kind == CT_DEADLINE)
		child_event(c, CE_DEADLINE);
	else if (kind == CT_BACKOFF) {
		c->next_restart_at = 0;
		child_event(c, CE_BACKOFF);
	} else if (kind == CT_KILL)
		child_event(c, CE_KILL);
}

/* Has the child a process? */
int
child_running(const struct child *c)
{
	return c->pid != 0;
}

/* Kill what is left of a child's process group once its leader is gone. */
static void
reap_group(struct child *c)
{
	if (c->pid > 0 && kill(-c->pid, SIGKILL) == 0)
		log_debug("%s: killed the rest of process group %d", c->name,
		    (int)c->pid);
	child_close_io(c);
	watchdog_gone(c);
	c->pid = 0;
	KIND_CALL(c, gone, c);
	if (D->draining)
		shutdown_drain_check();
}

/*
 * During shutdown, note the order in which children were stopped: when
 * asked to stop (so children stopped together, by dependency levels, are
 * listed in the order they were asked: reverse start order), or when they
 * went away unasked.
 */
static void
note_gone(struct child *c)
{
	if (D->shutting_down && !c->gone_noted) {
		c->gone_noted = 1;
		(void)strlist_add(&D->stopped_order, c->name);
	}
}

/* The event child.exited, with its status. */
static void
exit_event(struct child *c)
{
	struct evb b;

	evb_begin(&b, 3);
	mp_kint(&b.pk, "pid", c->pid);
	if (c->exit_signal) {
		mp_kstr(&b.pk, "signal", signal_name(c->exit_signal));
		mp_knil(&b.pk, "code");
	} else {
		mp_knil(&b.pk, "signal");
		mp_kint(&b.pk, "code", c->exit_code);
	}
	evb_emit(&b, "supervisor", c->name, "child.exited");
}

/*
 * A spawn that failed for lack of resources (fds, processes, memory) is not
 * the child's failure: it is retried after the child's backoff (100 ms at
 * least) and its restart budget is not spent.
 */
static void
spawn_retry_later(struct child *c)
{
	struct child_conf *cf = c->conf;
	const char *err = strerror(errno);
	uint64_t delay;
	struct evb b;

	delay = backoff_delay(cf->restart_backoff_ms, cf->restart_backoff_max_ms,
	    c->consecutive + 1);
	if (delay < 100)
		delay = 100;
	set_state(c, CS_FAILED);
	timer_arm(c, CT_BACKOFF, delay);
	c->next_restart_at = mono_ms() + delay;
	log_warnx("%s: cannot spawn for lack of resources (%s): retrying in "
	    "%llu ms, restart budget not spent", c->name, err,
	    (unsigned long long)delay);
	evb_begin(&b, 2);
	mp_kstr(&b.pk, "error", err);
	mp_kint(&b.pk, "delay_ms", (int64_t)delay);
	evb_emit(&b, "supervisor", c->name, "spawn.resource_error");
}

/* --- actions of the state table ------------------------------------- */

/* START: fork and exec it; a spawn that fails is a failure (exit 127). */
static void
a_spawn(struct child *c)
{
	int restart = c->as_restart && c->spawned > 0, r;

	timer_cancel(c);
	c->deadline_missed = 0;
	c->hello = 0;
	c->condemned = 0;
	c->kill_reason = NULL;
	if ((r = spawn_child(c)) == SPAWN_RESOURCE) {
		spawn_retry_later(c);
		return;
	}
	if (r == -1) {
		c->exit_known = 1;
		c->exit_reason = NULL;
		c->exit_code = 127;
		c->exit_signal = 0;
		c->spawned++;
		set_state(c, restart ? CS_RESTARTING : CS_STARTING);
		handle_failure(c, 0, 0);
		return;
	}
	c->spawned++;
	c->as_restart = 0;
	set_state(c, restart ? CS_RESTARTING : CS_STARTING);
	if (c->conf->ready == READY_NONE) {
		child_event(c, CE_READY);
		return;
	}
	if (c->conf->start_timeout_ms > 0)
		timer_arm(c, CT_DEADLINE, (uint64_t)c->conf->start_timeout_ms);
}

/*
 * A starting child is being handed a large state (a member's long
 * conversation): its readiness deadline moves ms later.
 */
void
child_deadline_extend(struct child *c, uint64_t ms)
{
	double left;

	if (c->timer_kind != CT_DEADLINE || !ev_is_active(&c->timer))
		return;
	/* reading the state took a while: the loop's time is behind, and a
	 * timer armed from it would fire that much early */
	ev_now_update(D->loop);
	left = ev_timer_remaining(D->loop, &c->timer);
	timer_arm(c, CT_DEADLINE, (uint64_t)(left * 1000.0) + ms);
}

/* READY: healthy; dependants may start, its kind is told. */
static void
a_ready(struct child *c)
{
	timer_cancel(c);
	set_state(c, CS_HEALTHY);
	log_info("%s: healthy (pid %d)", c->name, (int)c->pid);
	boot_progress();
	tree_kick();
	KIND_CALL(c, ready, c);
}

/* EXIT while it should run: reap, then the policy decides. */
static void
a_failed(struct child *c)
{
	int was_healthy = c->state == CS_HEALTHY;
	int clean = c->exit_code == 0 && c->exit_signal == 0;

	timer_cancel(c);
	exit_event(c);
	reap_group(c);
	note_gone(c);
	handle_failure(c, clean, was_healthy);
	stoppers_poke();
	tree_kick();
}

/* DEADLINE: not ready in start_timeout_ms: kill it, a failure. */
static void
a_deadline(struct child *c)
{
	log_warnx("%s: not ready within %lld ms: killing it", c->name,
	    (long long)c->conf->start_timeout_ms);
	c->deadline_missed = 1;
	if (c->pid > 0) {
		c->kill_reason = "start_timeout";
		kill(c->pid, SIGKILL);
		kill(-c->pid, SIGKILL);
	}
	handle_failure(c, 0, 0);
}

/* No sign of life (watchdog.c), or fd 3 closed: abort it, a failure. */
static void
a_watchdog(struct child *c)
{
	int was_healthy = c->state == CS_HEALTHY;

	timer_cancel(c);
	watchdog_abort(c);
	handle_failure(c, 0, was_healthy);
}

/* An exit while no process was expected to run: just clean up. */
static void
a_reaped(struct child *c)
{
	exit_event(c);
	reap_group(c);
	note_gone(c);
	stoppers_poke();
	tree_kick();
}

/* STOP: the stop message, stop_signal, and the KILL timer. */
static void
a_stop(struct child *c)
{
	struct msgw w;

	timer_cancel(c);
	if (c->peer != NULL) {
		msgw_begin(&w, MSG_STOP);
		(void)msgw_send(&w, c->peer, 0);
	}
	if (c->pid > 0 && kill(c->pid, c->conf->stop_signal) == -1)
		log_warn("%s: kill %d %s", c->name, (int)c->pid,
		    signal_name(c->conf->stop_signal));
	note_gone(c);
	set_state(c, CS_STOPPING);
	timer_arm(c, CT_KILL, (uint64_t)c->conf->stop_timeout_ms);
}

/* Stop asked while no process runs (failed or exhausted): just stop. */
static void
a_drop(struct child *c)
{
	timer_cancel(c);
	set_state(c, CS_STOPPED);
	stoppers_poke();
}

/* EXIT while stopping: reaped, stopped. */
static void
a_stopped(struct child *c)
{
	timer_cancel(c);
	exit_event(c);
	reap_group(c);
	note_gone(c);
	set_state(c, CS_STOPPED);
	stoppers_poke();
	tree_kick();
}

/* KILL: stop_timeout_ms is over: SIGKILL to it and its group. */
static void
a_kill(struct child *c)
{
	log_warnx("%s: still running %lld ms after %s: sending KILL", c->name,
	    (long long)c->conf->stop_timeout_ms,
	    signal_name(c->conf->stop_signal));
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		kill(-c->pid, SIGKILL);
	}
}

/* BACKOFF: the delay is over: tree_kick starts it. */
static void
a_backoff(struct child *c)
{
	(void)c;
	tree_kick();
}

typedef void (*action_fn)(struct child *);

static const struct {
	action_fn	 fn;
	const char	*name;
} actions[CS__N][CE__N] = {
#define A(f)	{ f, #f }
#define _	{ NULL, NULL }
	/*		START	     READY	EXIT	      DEADLINE	     STOP	BACKOFF	      KILL	WATCHDOG */
	[CS_STOPPED] =	{ A(a_spawn), _,	A(a_reaped),  _,	     _,		_,	      _,	_ },
	[CS_STARTING] =	{ _,	     A(a_ready), A(a_failed), A(a_deadline), A(a_stop), _,	      _,	A(a_watchdog) },
	[CS_HEALTHY] =	{ _,	     _,		A(a_failed),  _,	     A(a_stop), _,	      _,	A(a_watchdog) },
	[CS_FAILED] =	{ A(a_spawn), _,	A(a_reaped),  _,	     A(a_drop), A(a_backoff), _,	_ },
	[CS_RESTARTING] = { _,	     A(a_ready), A(a_failed), A(a_deadline), A(a_stop), _,	      _,	A(a_watchdog) },
	[CS_EXHAUSTED] = { A(a_spawn), _,	A(a_reaped),  _,	     A(a_drop), _,	      _,	_ },
	[CS_STOPPING] =	{ _,	     _,		A(a_stopped), _,	     _,		_,	      A(a_kill), _ },
#undef A
#undef _
};

static const char *const cevent_names[] = { "start", "ready", "exit",
    "deadline", "stop", "backoff", "kill", "watchdog" };

/* The name of the action for (state, event), "ignore" for none. */
const char *
child_action_name(int state, int event)
{
	if (state < 0 || state >= CS__N || event < 0 || event >= CE__N)
		return "invalid";
	return actions[state][event].fn ? actions[state][event].name + 2 :
	    "ignore";
}

/* Feed one event to a child: the only way its state changes. */
void
child_event(struct child *c, int ev)
{
	action_fn fn = actions[c->state][ev].fn;

	if (fn == NULL) {
		log_debug("%s: %s ignored in state %s", c->name,
		    cevent_names[ev], cstate_names[c->state]);
		if (ev == CE_EXIT)
			a_reaped(c);
		return;
	}
	fn(c);
}

/* The process of a child has exited with a waitpid() status. */
void
child_exited(struct child *c, int status)
{
	c->exit_known = 1;
	c->exit_reason = c->kill_reason;	/* set when we killed it */
	c->kill_reason = NULL;
	if (WIFSIGNALED(status)) {
		c->exit_signal = WTERMSIG(status);
		c->exit_code = 0;
		log_info("%s: pid %d killed by signal %s", c->name, (int)c->pid,
		    signal_name(c->exit_signal));
	} else {
		c->exit_signal = 0;
		c->exit_code = WEXITSTATUS(status);
		log_info("%s: pid %d exited with status %d", c->name,
		    (int)c->pid, c->exit_code);
	}
	child_event(c, CE_EXIT);
}

/* Readiness from any of the four modes. */
void
child_ready(struct child *c, const char *how)
{
	if (c->state != CS_STARTING && c->state != CS_RESTARTING)
		return;
	log_debug("%s: ready (%s)", c->name, how);
	child_event(c, CE_READY);
}

