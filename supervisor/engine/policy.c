/*
 * policy.c: what a failure leads to: restart or not by the child's
 * restart =, its budget and backoff, its group's strategy, and the
 * escalation of a spent budget up the groups to the root.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/events.h"
#include "engine/internal.h"

static void	group_restart(struct sgroup *, struct child *, struct sgroup *,
		    uint64_t delay, int fresh);
static void	group_escalate(struct sgroup *, struct child *, struct sgroup *);
static void	group_restart_stopped(struct stopper *, void *);

/* Restarts left in the child's window. */
int
child_budget_left(struct child *c)
{
	return budget_left(&c->budget, c->conf->max_restarts,
	    c->conf->restart_window_ms, mono_ms());
}

/* The child's budget is spent: exhausted, and escalated if so set. */
static void
exhausted(struct child *c)
{
	struct child_conf *cf = c->conf;
	struct evb b;

	log_warnx("%s: %d restarts within %lld ms: budget spent (%s)",
	    c->name, cf->max_restarts, (long long)cf->restart_window_ms,
	    exhausted_names[cf->on_exhausted]);
	set_state(c, CS_EXHAUSTED);
	evb_begin(&b, 2);
	mp_kint(&b.pk, "max_restarts", cf->max_restarts);
	mp_kstr(&b.pk, "on_exhausted", exhausted_names[cf->on_exhausted]);
	evb_emit(&b, "supervisor", c->name, "child.exhausted");
	if (cf->on_exhausted == EXH_ESCALATE)
		group_escalate(c->group, c, NULL);
	boot_progress();	/* a module given up on no longer holds the boot */
}

/* A child's process failed (or missed its deadline): what next? */
void
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
		if (!D->shutting_down)
			boot_progress();
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
		exhausted(c);
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
	s = stopper_new(v, n, STOP_SEQUENTIAL, group_restart_stopped, NULL);
	free(v);
	s->keep_failed = 1;
	s->fresh = fresh;
	s->start_at = mono_ms() + delay;
	s->arg = s;
	stoppers_poke();
}

/* The delay of a group restart is over: let its children start. */
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
	stopper_free(s);
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

