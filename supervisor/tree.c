/*
 * tree.c: the supervision tree.  A child's state changes only through
 * child_event(), a lookup in a state x event table; restart policy,
 * budgets, backoff and group strategies are decided in handle_failure().
 */
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mobkitd.h"
#include "mpack.h"
#include "msgtab.h"
#include "proto.h"
#include "timeutil.h"

const char *const cstate_names[] = { "stopped", "starting", "healthy",
    "failed", "restarting", "exhausted", "stopping" };

struct daemon *D;

static void	handle_failure(struct child *, int clean, int was_healthy);
static void	group_restart(struct sgroup *, struct child *, struct sgroup *,
		    uint64_t delay, int fresh);
static void	group_escalate(struct sgroup *, struct child *, struct sgroup *);
static void	reorder(struct config *);
static void	drain_done(void);
static void	drain_timeout_cb(struct ev_loop *, ev_timer *, int);
static void	boot_progress(void);

/* Move a child to a new state and record the transition. */
static void
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
}

static void
timer_cancel(struct child *c)
{
	ev_timer_stop(D->loop, &c->timer);
	c->timer_kind = CT_NONE;
	c->next_restart_at = 0;
}

static void
timer_arm(struct child *c, int kind, uint64_t ms)
{
	ev_timer_stop(D->loop, &c->timer);
	c->timer_kind = kind;
	ev_timer_set(&c->timer, (double)ms / 1000.0, 0.);
	ev_timer_start(D->loop, &c->timer);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
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

int
child_running(const struct child *c)
{
	return c->pid != 0;
}

int
child_budget_left(struct child *c)
{
	return budget_left(&c->budget, c->conf->max_restarts,
	    c->conf->restart_window_ms, mono_ms());
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
	mbox_worker_gone(c);
	module_gone(c);
	if (D->draining)
		shutdown_drain_check();
}

/* During shutdown, note the order in which children went away. */
static void
note_gone(struct child *c)
{
	if (D->shutting_down && !strlist_has(&D->stopped_order, c->name))
		(void)strlist_add(&D->stopped_order, c->name);
}

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
	left = ev_timer_remaining(D->loop, &c->timer);
	timer_arm(c, CT_DEADLINE, (uint64_t)(left * 1000.0) + ms);
}

static void
a_ready(struct child *c)
{
	timer_cancel(c);
	set_state(c, CS_HEALTHY);
	log_info("%s: healthy (pid %d)", c->name, (int)c->pid);
	boot_progress();
	tree_kick();
	mbox_kick(c);
	module_ready(c);
}

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

/* --- policy ------------------------------------------------------- */

/* A child's process failed (or missed its deadline): what next? */
static void
handle_failure(struct child *c, int clean, int was_healthy)
{
	struct child_conf *cf = c->conf;
	uint64_t now = mono_ms(), delay;
	struct evb b;

	if (cf->restart == RESTART_NEVER ||
	    (cf->restart == RESTART_ON_FAILURE && clean) || !c->want_run ||
	    D->shutting_down) {
		c->want_run = 0;
		set_state(c, clean ? CS_STOPPED : CS_FAILED);
		return;
	}
	if (c->held) {
		/* a group operation owns this child and will start it */
		set_state(c, CS_FAILED);
		return;
	}
	if (was_healthy && now - c->healthy_since >=
	    (uint64_t)cf->restart_window_ms)
		c->consecutive = 0;
	if (budget_count(&c->budget, cf->restart_window_ms, now) >=
	    cf->max_restarts) {
		log_warnx("%s: %d restarts within %lld ms: budget spent (%s)",
		    c->name, cf->max_restarts,
		    (long long)cf->restart_window_ms,
		    exhausted_names[cf->on_exhausted]);
		set_state(c, CS_EXHAUSTED);
		evb_begin(&b, 2);
		mp_kint(&b.pk, "max_restarts", cf->max_restarts);
		mp_kstr(&b.pk, "on_exhausted", exhausted_names[cf->on_exhausted]);
		evb_emit(&b, "supervisor", c->name, "child.exhausted");
		if (cf->on_exhausted == EXH_ESCALATE)
			group_escalate(c->group, c, NULL);
		return;
	}
	(void)budget_spend(&c->budget, now);
	c->consecutive++;
	c->restarts++;
	c->as_restart = 1;
	delay = backoff_delay(cf->restart_backoff_ms, cf->restart_backoff_max_ms,
	    c->consecutive);
	set_state(c, CS_FAILED);
	evb_begin(&b, 3);
	mp_kint(&b.pk, "delay_ms", (int64_t)delay);
	mp_kint(&b.pk, "restarts", c->restarts);
	mp_kint(&b.pk, "budget_left", child_budget_left(c));
	evb_emit(&b, "supervisor", c->name, "child.restart_scheduled");
	if (c->group->strategy == STRAT_ONE_FOR_ONE) {
		if (delay > 0) {	/* with none, the caller's kick spawns */
			timer_arm(c, CT_BACKOFF, delay);
			c->next_restart_at = now + delay;
		}
	} else
		group_restart(c->group, c, NULL, delay, 0);
}

/* Is g inside (or equal to) the subtree rooted at top? */
static int
group_within(const struct sgroup *g, const struct sgroup *top)
{
	for (; g != NULL; g = g->parent)
		if (g == top)
			return 1;
	return 0;
}

/* The lowest start order among a node's children. */
static int
node_order(struct child *c, struct sgroup *g)
{
	struct child *k;

	if (c != NULL)
		return c->order;
	TAILQ_FOREACH(k, &D->children, entry)
		if (group_within(k->group, g))
			return k->order;
	return 0;
}

/* Is child k in the set a strategy restarts when node (c or sub) fails? */
static int
in_set(struct child *k, struct sgroup *g, int strategy, struct child *c,
    struct sgroup *sub, int from)
{
	if (!group_within(k->group, g) || k->removing)
		return 0;
	switch (strategy) {
	case STRAT_ONE_FOR_ONE:
		return c != NULL ? k == c : group_within(k->group, sub);
	case STRAT_ONE_FOR_ALL:
		return 1;
	default:
		return k->order >= from;
	}
}

static void group_restart_stopped(struct stopper *, void *);

/*
 * Restart a set of g's children by its strategy: stop them in reverse
 * start order, wait out the delay, then start them in order.
 */
static void
group_restart(struct sgroup *g, struct child *c, struct sgroup *sub,
    uint64_t delay, int fresh)
{
	struct child *k, **v;
	struct stopper *s;
	int n = 0, strategy = g->strategy;
	int from = node_order(c, sub);
	struct evb b;

	TAILQ_FOREACH(k, &D->children, entry)
		n++;
	if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
		fatal("calloc");
	n = 0;
	TAILQ_FOREACH_REVERSE(k, &D->children, childq, entry) {
		if (!in_set(k, g, strategy, c, sub, from))
			continue;
		if (k->held && k != c)
			continue;	/* already in another operation */
		k->held = 1;
		if (k->timer_kind == CT_BACKOFF)
			timer_cancel(k);
		v[n++] = k;
	}
	evb_begin(&b, 3);
	mp_kstr(&b.pk, "strategy", strategy_names[strategy]);
	mp_kint(&b.pk, "children", n);
	mp_kint(&b.pk, "delay_ms", (int64_t)delay);
	evb_emit(&b, "supervisor", g->name, "group.restart");
	log_info("group %s: %s restart of %d child(ren)", g->name,
	    strategy_names[strategy], n);
	s = stopper_new(v, n, 0, group_restart_stopped, NULL);
	free(v);
	s->keep_failed = 1;
	s->fresh = fresh;
	s->start_at = mono_ms() + delay;
	s->arg = s;
	stoppers_poke();
}

static void
release_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct stopper *s = w->data;
	int i;

	(void)loop;
	(void)revents;
	for (i = s->n - 1; i >= 0; i--) {
		struct child *k = s->v[i];

		k->held = 0;
		if (s->fresh) {
			budget_reset(&k->budget);
			k->consecutive = 0;
		}
		if (!D->shutting_down && !k->removing) {
			k->want_run = 1;
			k->as_restart = 1;
			if (k->spawned > 0 && k->state != CS_FAILED)
				k->restarts++;
			if (k->state == CS_EXHAUSTED)
				child_event(k, CE_START);
		}
	}
	TAILQ_REMOVE(&D->stoppers, s, entry);
	free(s->v);
	free(s);
	tree_kick();
	tree_sweep();
}

/* Every child of a group restart is down: start them after the delay. */
static void
group_restart_stopped(struct stopper *s, void *arg)
{
	uint64_t now = mono_ms();

	(void)arg;
	ev_timer_init(&s->delay, release_cb,
	    s->start_at > now ? (double)(s->start_at - now) / 1000.0 : 0., 0.);
	s->delay.data = s;
	ev_timer_start(D->loop, &s->delay);
}

/*
 * A child (or subgroup) of g has spent its budget and escalates: g restarts
 * it by its strategy and charges its own budget; a group whose budget is
 * spent fails its parent; the root that is spent shuts everything down.
 */
static void
group_escalate(struct sgroup *g, struct child *c, struct sgroup *sub)
{
	uint64_t now = mono_ms();
	struct evb b;

	for (;;) {
		if (budget_count(&g->budget, g->window_ms, now) <
		    g->max_restarts) {
			(void)budget_spend(&g->budget, now);
			g->restarts++;
			group_restart(g, c, sub, 0, 1);
			return;
		}
		log_warnx("group %s: %d restarts within %lld ms: budget spent",
		    g->name, g->max_restarts, (long long)g->window_ms);
		evb_begin(&b, 1);
		mp_kint(&b.pk, "max_restarts", g->max_restarts);
		evb_emit(&b, "supervisor", g->name, "group.exhausted");
		if (g->parent == NULL) {
			log_warnx("the root group's budget is spent: shutting "
			    "down");
			daemon_shutdown(3);
			return;
		}
		budget_reset(&g->budget);
		c = NULL;
		sub = g;
		g = g->parent;
	}
}

/* --- stoppers ----------------------------------------------------- */

struct stopper *
stopper_new(struct child **v, int n, int parallel, stopper_done_cb done,
    void *arg)
{
	struct stopper *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->v = calloc((size_t)n + 1, sizeof(*s->v))) == NULL)
		fatal("calloc");
	memcpy(s->v, v, sizeof(*v) * (size_t)n);
	s->n = n;
	s->parallel = parallel;
	s->done = done;
	s->arg = arg;
	TAILQ_INSERT_TAIL(&D->stoppers, s, entry);
	return s;
}

/* Ask one child of a stopper to stop. */
static void
stopper_stop_one(struct stopper *s, struct child *k)
{
	if (k->pid != 0) {
		if (k->state != CS_STOPPING)
			child_event(k, CE_STOP);
	} else if (!s->keep_failed)
		child_event(k, CE_STOP);
}

/* Advance one stopper; 1 when it has finished. */
static int
stopper_advance(struct stopper *s)
{
	int i, busy = 0;

	if (s->done_called)
		return 0;
	if (s->parallel) {
		for (i = 0; i < s->n; i++) {
			if (!s->started)
				stopper_stop_one(s, s->v[i]);
			if (s->v[i]->pid != 0)
				busy = 1;
		}
		s->started = 1;
		if (busy)
			return 0;
	} else {
		while (s->i < s->n) {
			struct child *k = s->v[s->i];

			if (!s->started) {
				stopper_stop_one(s, k);
				s->started = 1;
			}
			if (k->pid != 0)
				return 0;
			s->i++;
			s->started = 0;
		}
	}
	s->done_called = 1;
	return 1;
}

/* Something stopped: move every stopper along. */
void
stoppers_poke(void)
{
	static int busy, again;
	struct stopper *s, *t;

	if (busy) {
		again = 1;
		return;
	}
	busy = 1;
	do {
		again = 0;
		TAILQ_FOREACH_SAFE(s, &D->stoppers, entry, t) {
			if (stopper_advance(s)) {
				if (s->done != NULL)
					s->done(s, s->arg);
				again = 1;
				break;	/* the callback may change the list */
			}
		}
	} while (again);
	busy = 0;
}

/* Free removed children that nothing refers to any more. */
void
tree_sweep(void)
{
	struct child *c, *t;
	struct stopper *s;
	int i, used;

	TAILQ_FOREACH_SAFE(c, &D->children, entry, t) {
		if (!c->removing || c->pid != 0)
			continue;
		used = 0;
		TAILQ_FOREACH(s, &D->stoppers, entry)
			for (i = 0; i < s->n; i++)
				if (s->v[i] == c)
					used = 1;
		if (!used)
			child_free(c);
	}
}

/* --- starting ------------------------------------------------------ */

static int
deps_healthy(struct child *c)
{
	struct child *d;
	int i;

	if (c->conf->kind == KIND_MEMBER && !D->booted)
		return 0;
	for (i = 0; i < c->conf->depends.n; i++) {
		d = child_find(c->conf->depends.v[i]);
		if (d != NULL && !d->removing && d->state != CS_HEALTHY)
			return 0;
	}
	return 1;
}

/* Start every child that should run and may: deps healthy, no backoff. */
void
tree_kick(void)
{
	static int busy, again;
	struct child *c;

	if (busy) {
		again = 1;
		return;
	}
	busy = 1;
	do {
		again = 0;
		TAILQ_FOREACH(c, &D->children, entry) {
			if (D->shutting_down)
				break;
			if (!c->want_run || c->held || c->pid != 0 ||
			    c->removing)
				continue;
			if (c->state != CS_STOPPED && c->state != CS_FAILED)
				continue;
			if (c->timer_kind == CT_BACKOFF || !deps_healthy(c))
				continue;
			child_event(c, CE_START);
		}
	} while (again);
	busy = 0;
}

/* Operator start: a fresh budget and a first start. */
void
child_start_op(struct child *c)
{
	c->want_run = 1;
	c->as_restart = 0;
	budget_reset(&c->budget);
	c->consecutive = 0;
	if (c->pid != 0)
		return;
	if (c->state == CS_EXHAUSTED || c->state == CS_FAILED) {
		timer_cancel(c);
		if (deps_healthy(c))
			child_event(c, CE_START);
		else
			set_state(c, CS_STOPPED);
	}
	tree_kick();
}

/* Lifecycle stages and systemd readiness as the boot set comes up. */
static void
boot_progress(void)
{
	struct child *c;

	if (!D->booted) {
		TAILQ_FOREACH(c, &D->children, entry)
			if (c->conf->kind == KIND_MODULE && c->want_run &&
			    c->state != CS_HEALTHY && c->state != CS_EXHAUSTED)
				return;
		D->booted = 1;
		event_simple("supervisor", "mobkitd",
		    "lifecycle.modules_started");
		event_simple("supervisor", "mobkitd",
		    "lifecycle.merged_stream_started");
		tree_kick();
	}
	if (!D->ready_sent) {
		TAILQ_FOREACH(c, &D->children, entry)
			if (c->want_run && c->state != CS_HEALTHY)
				return;
		D->ready_sent = 1;
		log_info("every child is healthy");
		sd_notify_parent("READY=1");
	}
}

/* --- building and reloading ---------------------------------------- */

struct child *
child_find(const char *name)
{
	struct child *c;

	HASH_FIND_STR(D->byname, name, c);
	return c != NULL && !c->removing ? c : NULL;
}

struct sgroup *
group_find(const char *name)
{
	struct sgroup *g;

	TAILQ_FOREACH(g, &D->groups, entry)
		if (strcmp(g->name, name) == 0)
			return g;
	return NULL;
}

static struct sgroup *
group_new(const char *name)
{
	struct sgroup *g;

	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->name = strdup(name)) == NULL)
		fatal("calloc");
	TAILQ_INSERT_TAIL(&D->groups, g, entry);
	return g;
}

/* Make the group list match a config, keeping budgets of kept groups. */
static void
groups_sync(struct config *cfg)
{
	struct sgroup *g;
	int i;

	if ((g = group_find("root")) == NULL)
		g = group_new("root");
	D->root = g;
	g->strategy = cfg->strategy;
	g->max_restarts = cfg->max_restarts;
	g->window_ms = cfg->restart_window_ms;
	for (i = 0; i < cfg->ngroups; i++) {
		struct group_conf *gc = cfg->groups[i];

		if ((g = group_find(gc->name)) == NULL)
			g = group_new(gc->name);
		g->strategy = gc->strategy;
		g->max_restarts = gc->max_restarts;
		g->window_ms = gc->restart_window_ms;
	}
	if (config_group(cfg, "mob") == NULL) {
		if ((g = group_find("mob")) == NULL)
			g = group_new("mob");
		g->strategy = STRAT_ONE_FOR_ONE;
		g->max_restarts = cfg->max_restarts;
		g->window_ms = cfg->restart_window_ms;
	}
	TAILQ_FOREACH(g, &D->groups, entry) {
		struct group_conf *gc = config_group(cfg, g->name);

		if (g == D->root)
			g->parent = NULL;
		else if (gc != NULL && gc->parent != NULL)
			g->parent = group_find(gc->parent);
		else
			g->parent = D->root;
		if (g->parent == NULL && g != D->root)
			g->parent = D->root;
	}
}

static struct sgroup *
group_of(const struct child_conf *cc)
{
	struct sgroup *g;

	if (cc->group == NULL)
		return D->root;
	g = group_find(cc->group);
	return g != NULL ? g : D->root;
}

static struct child *
child_new(const struct child_conf *cc)
{
	struct child *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->conf = child_conf_dup(cc);
	c->name = c->conf->name;
	c->group = group_of(cc);
	c->state = CS_STOPPED;
	c->notify_fd = -1;
	c->want_run = 1;
	c->since_wall = wall_ms();
	ev_init(&c->timer, timer_cb);
	c->timer.data = c;
	watchdog_init(c);
	if (cc->kind == KIND_MEMBER) {
		c->mbox = mbox_new(cc->name, config_profile(D->cfg,
		    cc->profile));
		c->mbox->child = c;
	}
	HASH_ADD_KEYPTR(hh, D->byname, c->name, strlen(c->name), c);
	c->hashed = 1;
	return c;
}

/* Add one child (spawn) to a running tree, in start order. */
struct child *
tree_add(const struct child_conf *cc)
{
	struct child *c = child_new(cc), *last;

	/* spawned children start last: no need to sort the tree again */
	last = TAILQ_LAST(&D->children, childq);
	c->order = last != NULL ? last->order + 1 : 0;
	TAILQ_INSERT_TAIL(&D->children, c, entry);
	routes_push();		/* a member brings its roster route */
	return c;
}

/* A child going away can no longer be found by its name. */
void
child_mark_removing(struct child *c)
{
	c->removing = 1;
	if (c->hashed) {
		HASH_DELETE(hh, D->byname, c);
		c->hashed = 0;
	}
	if (c->mbox != NULL)
		routes_push();
}

void
child_free(struct child *c)
{
	TAILQ_REMOVE(&D->children, c, entry);
	if (c->hashed)
		HASH_DELETE(hh, D->byname, c);
	ev_timer_stop(D->loop, &c->timer);
	watchdog_gone(c);
	child_close_io(c);
	mbox_free(c->mbox);
	free(c->budget.t);
	child_conf_free(c->conf);
	child_conf_free(c->next_conf);
	free(c);
}

/* Dependencies first (stable in config order), then members. */
static struct child_conf **
start_order(struct config *cfg)
{
	struct child_conf **v;
	int *placed, n = 0, i, j, progress;

	if ((v = calloc((size_t)cfg->nchildren + 1, sizeof(*v))) == NULL ||
	    (placed = calloc((size_t)cfg->nchildren + 1, sizeof(int))) == NULL)
		fatal("calloc");
	do {
		progress = 0;
		for (i = 0; i < cfg->nchildren; i++) {
			struct child_conf *cc = cfg->children[i];
			int ok = 1;

			if (placed[i])
				continue;
			for (j = 0; j < cc->depends.n && ok; j++) {
				int k;

				for (k = 0; k < cfg->nchildren; k++)
					if (strcmp(cfg->children[k]->name,
					    cc->depends.v[j]) == 0 && !placed[k])
						ok = 0;
			}
			if (!ok)
				continue;
			placed[i] = 1;
			v[n++] = cc;
			progress = 1;
			break;	/* restart: keep config order stable */
		}
	} while (progress && n < cfg->nchildren);
	free(placed);
	return v;
}

/* Put the children list in the config's start order. */
static void
reorder(struct config *cfg)
{
	struct child_conf **v = start_order(cfg);
	struct child *c, *t;
	int i, n = 0;

	TAILQ_FOREACH(c, &D->children, entry)
		if (c->dynamic || c->removing || config_child(cfg, c->name) ==
		    NULL)
			n++;

	for (i = 0; i < cfg->nchildren && v[i] != NULL; i++) {
		if ((c = child_find(v[i]->name)) == NULL)
			continue;
		TAILQ_REMOVE(&D->children, c, entry);
		TAILQ_INSERT_TAIL(&D->children, c, entry);
	}
	/* members spawned at run time, and children going away, last */
	TAILQ_FOREACH_SAFE(c, &D->children, entry, t)
		if (c->dynamic || c->removing || config_child(cfg, c->name) ==
		    NULL) {
			TAILQ_REMOVE(&D->children, c, entry);
			TAILQ_INSERT_TAIL(&D->children, c, entry);
			if (--n <= 0)
				break;
		}
	i = 0;
	TAILQ_FOREACH(c, &D->children, entry)
		c->order = i++;
	free(v);
}

/* Create the tree from a validated config and start it. */
void
tree_build(struct config *cfg)
{
	int i;

	D->cfg = cfg;
	groups_sync(cfg);
	for (i = 0; i < cfg->nchildren; i++) {
		struct child *c = child_new(cfg->children[i]);

		TAILQ_INSERT_TAIL(&D->children, c, entry);
	}
	reorder(cfg);
	peers_from_config(cfg);
	routes_from_config(cfg);
	if (store_load() == -1)
		fatalx("cannot load the store in %s", cfg->state_dir);
	event_simple("supervisor", "mobkitd", "lifecycle.mob_started");
	boot_progress();
	tree_kick();
}

static void
pack_names(msgpack_packer *pk, const char *key, struct strlist *l)
{
	int i;

	mp_str(pk, key);
	msgpack_pack_array(pk, (size_t)l->n);
	for (i = 0; i < l->n; i++)
		mp_str(pk, l->v[i]);
}

/* Reload's stop phase is over: swap confs, free removed, start again. */
static void
reload_stopped(struct stopper *s, void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < s->n; i++) {
		struct child *c = s->v[i];

		c->held = 0;
		if (c->next_conf == NULL)
			continue;
		if (c->hashed)
			HASH_DELETE(hh, D->byname, c);
		child_conf_free(c->conf);
		c->conf = c->next_conf;
		c->next_conf = NULL;
		c->name = c->conf->name;	/* the key lives in the conf */
		if (c->hashed)
			HASH_ADD_KEYPTR(hh, D->byname, c->name, strlen(c->name),
			    c);
		c->group = group_of(c->conf);
		budget_reset(&c->budget);
		c->consecutive = 0;
		c->as_restart = 0;
		if (c->state != CS_STOPPED)
			set_state(c, CS_STOPPED);
	}
	TAILQ_REMOVE(&D->stoppers, s, entry);
	free(s->v);
	free(s);
	tree_sweep();
	tree_kick();
}

/*
 * Apply a new, validated config: only added, removed and changed children
 * move.  Packs {"added","removed","changed","unchanged"} into pk.
 */
int
tree_reload(struct config *ncfg, msgpack_packer *pk)
{
	struct strlist added = { 0 }, removed = { 0 }, changed = { 0 };
	struct strlist unchanged = { 0 };
	struct child *c, **v;
	struct config *ocfg = D->cfg;
	int i, n = 0, total = 0;
	struct evb b;

	TAILQ_FOREACH(c, &D->children, entry)
		total++;
	if ((v = calloc((size_t)total + 1, sizeof(*v))) == NULL)
		fatal("calloc");
	groups_sync(ncfg);
	/* removed and changed, in reverse start order, for the stopper */
	TAILQ_FOREACH_REVERSE(c, &D->children, childq, entry) {
		struct child_conf *nc;
		char *a, *b2;

		if (c->removing)
			continue;
		if ((nc = config_child(ncfg, c->name)) == NULL && c->mbox) {
			if (!c->dynamic && !c->mbox->retiring) {
				(void)strlist_add(&removed, c->name);
				(void)member_retire(c);
			}
			continue;
		}
		if (nc == NULL) {
			(void)strlist_add(&removed, c->name);
			child_mark_removing(c);
			c->want_run = 0;
			c->held = 1;
			v[n++] = c;
			continue;
		}
		a = child_conf_fingerprint(ocfg, c->conf);
		b2 = child_conf_fingerprint(ncfg, nc);
		if (strcmp(a, b2) != 0) {
			c->next_conf = child_conf_dup(nc);
			c->held = 1;
			v[n++] = c;
		} else {
			c->group = group_of(c->conf);
			if (c->state == CS_EXHAUSTED)
				child_start_op(c);
		}
		free(a);
		free(b2);
	}
	for (i = 0; i < ncfg->nchildren; i++) {
		struct child_conf *nc = ncfg->children[i];

		if ((c = child_find(nc->name)) == NULL) {
			(void)strlist_add(&added, nc->name);
			c = child_new(nc);
			TAILQ_INSERT_TAIL(&D->children, c, entry);
		} else if (c->next_conf != NULL)
			(void)strlist_add(&changed, nc->name);
		else
			(void)strlist_add(&unchanged, nc->name);
	}
	D->cfg = ncfg;
	log_setlevel(D->verbose ? LOG_L_DEBUG : ncfg->log_level);
	reorder(ncfg);
	TAILQ_FOREACH(c, &D->children, entry)
		if (c->mbox != NULL && c->conf->profile != NULL)
			mbox_set_profile(c->mbox, config_profile(ncfg,
			    c->next_conf ? c->next_conf->profile :
			    c->conf->profile));
	peers_from_config(ncfg);
	routes_from_config(ncfg);
	schedules_push();
	msgpack_pack_map(pk, 4);
	pack_names(pk, "added", &added);
	pack_names(pk, "removed", &removed);
	pack_names(pk, "changed", &changed);
	pack_names(pk, "unchanged", &unchanged);
	evb_begin(&b, 3);
	mp_kint(&b.pk, "added", added.n);
	mp_kint(&b.pk, "removed", removed.n);
	mp_kint(&b.pk, "changed", changed.n);
	evb_emit(&b, "supervisor", "mobkitd", "config.reloaded");
	log_info("reloaded: %d added, %d removed, %d changed, %d unchanged",
	    added.n, removed.n, changed.n, unchanged.n);
	strlist_free(&added);
	strlist_free(&removed);
	strlist_free(&changed);
	strlist_free(&unchanged);
	(void)stopper_new(v, n, 0, reload_stopped, NULL);
	free(v);
	config_free(ocfg);
	stoppers_poke();
	tree_kick();
	return 0;
}

/* --- shutdown ------------------------------------------------------ */

const char *
daemon_state(void)
{
	struct child *c;

	if (D->shutting_down)
		return "stopping";
	if (store_failure() != NULL)
		return "degraded";	/* the store cannot write */
	TAILQ_FOREACH(c, &D->children, entry)
		if (c->state == CS_EXHAUSTED)
			return "degraded";
	return "running";
}

static void
stage(const char *name)
{
	char type[64];

	(void)strlist_add(&D->stages, name);
	snprintf(type, sizeof(type), "lifecycle.%s", name);
	if (strcmp(name, "shutdown_requested") == 0 ||
	    strcmp(name, "shutdown_complete") == 0)
		event_simple("supervisor", "mobkitd", type);
}

static void
modules_stopped(struct stopper *s, void *arg)
{
	(void)arg;
	TAILQ_REMOVE(&D->stoppers, s, entry);
	free(s->v);
	free(s);
	stage("modules_stopped");
	kill_orphans();
	stage("orphans_killed");
	D->shutdown_ms = mono_ms() - D->shutdown_began;
	stage("shutdown_complete");
	log_info("shutdown complete in %llu ms (%d orphan(s) killed)",
	    (unsigned long long)D->shutdown_ms, D->orphans_killed);
	control_finish_shutdown();
	ev_break(D->loop, EVBREAK_ALL);
}

/* A stopper for every child of one kind, in reverse start order. */
static void
stop_kind(int kind, int parallel, stopper_done_cb done)
{
	struct child *c, **v;
	int n = 0;

	TAILQ_FOREACH(c, &D->children, entry)
		n++;
	if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
		fatal("calloc");
	n = 0;
	TAILQ_FOREACH_REVERSE(c, &D->children, childq, entry)
		if (c->conf->kind == kind)
			v[n++] = c;
	(void)stopper_new(v, n, parallel, done, NULL);
	free(v);
	stoppers_poke();
}

static void
members_stopped(struct stopper *s, void *arg)
{
	(void)arg;
	TAILQ_REMOVE(&D->stoppers, s, entry);
	free(s->v);
	free(s);
	stage("members_stopped");
	waiters_terminate_all();
	stop_kind(KIND_MODULE, 0, modules_stopped);
}

/* In-flight turns are done (or the drain timed out): stop the members. */
static void
drain_done(void)
{
	D->draining = 0;
	ev_timer_stop(D->loop, &D->drain_timer);
	D->drained = D->drain_inflight - mbox_running_total();
	if (D->drained < 0)
		D->drained = 0;
	D->drain_ms = mono_ms() - D->drain_ms;
	stage("drained");
	stop_kind(KIND_MEMBER, 1, members_stopped);
}

static void
drain_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	log_warnx("drain: %d turn(s) still running after %lld ms",
	    mbox_running_total(), (long long)D->cfg->drain_timeout_ms);
	D->drain_timed_out = 1;
	drain_done();
}

/* A turn ended or a worker died while draining. */
void
shutdown_drain_check(void)
{
	if (D->draining && mbox_running_total() == 0)
		drain_done();
}

/* Ordered shutdown (SPEC section 6); the loop ends when it is done. */
void
daemon_shutdown(int code)
{
	struct child *c;
	struct stopper *s, *t;

	if (D->shutting_down) {
		if (code > D->exit_code)
			D->exit_code = code;
		return;
	}
	log_info("shutting down%s", code ? " (restart budget spent)" : "");
	D->shutting_down = 1;
	D->exit_code = code;
	D->shutdown_began = mono_ms();
	sd_notify_parent("STOPPING=1");
	stage("shutdown_requested");
	/* group operations in flight are abandoned */
	TAILQ_FOREACH_SAFE(s, &D->stoppers, entry, t) {
		ev_timer_stop(D->loop, &s->delay);
		TAILQ_REMOVE(&D->stoppers, s, entry);
		free(s->v);
		free(s);
	}
	TAILQ_FOREACH(c, &D->children, entry) {
		c->want_run = 0;
		c->held = 0;
		if (c->timer_kind == CT_BACKOFF)
			timer_cancel(c);
	}
	stage("inputs_refused");
	D->drain_inflight = mbox_running_total();
	D->drain_ms = mono_ms();
	if (D->drain_inflight > 0) {
		log_info("draining %d turn(s) in flight (up to %lld ms)",
		    D->drain_inflight, (long long)D->cfg->drain_timeout_ms);
		D->draining = 1;
		ev_timer_init(&D->drain_timer, drain_timeout_cb,
		    (double)D->cfg->drain_timeout_ms / 1000.0, 0.);
		ev_timer_start(D->loop, &D->drain_timer);
		return;
	}
	drain_done();
}
