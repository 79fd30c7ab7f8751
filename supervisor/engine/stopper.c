/*
 * stopper.c: stopping a list of children and calling back once all are
 * down: one at a time, all at once, or by dependency levels (a child is
 * asked to stop once no child that depends on it still runs).  A group
 * restart, a reload, an operator stop and the shutdown each hold one.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/events.h"
#include "engine/internal.h"

/* STOP_LEVELS: the dependency graph among a stopper's children. */
struct stop_levels {
	int	*waiting;	/* dependants in the list not yet down */
	int	*asked;		/* its stop was asked */
	int	*down;		/* gone, counted */
	int	*doff;		/* deps of i: dep[doff[i]] .. dep[doff[i+1]-1] */
	int	*dep;
};

/* The index in v of a child, by its start order (-1: not in the list). */
static int *
index_by_order(struct child **v, int n)
{
	struct child *c;
	int *idx, max = 0, i;

	TAILQ_FOREACH(c, &D->children, entry)
		if (c->order > max)
			max = c->order;
	for (i = 0; i < n; i++)
		if (v[i]->order > max)
			max = v[i]->order;
	if ((idx = calloc((size_t)max + 1, sizeof(*idx))) == NULL)
		fatal("calloc");
	for (i = 0; i <= max; i++)
		idx[i] = -1;
	for (i = 0; i < n; i++)
		idx[v[i]->order] = i;
	return idx;
}

/*
 * What v[i] depends on, among v: its depends =, and in a rest_for_one
 * group the child of that group started just before it.  v is in reverse
 * start order, so that one is the next of its group further down v.
 */
static int
deps_of(struct child **v, int n, int i, const int *idx, int *out)
{
	struct child *c = v[i], *d;
	int m = 0, j;

	for (j = 0; j < c->conf->depends.n; j++) {
		d = child_find(c->conf->depends.v[j]);
		if (d != NULL && idx[d->order] >= 0 && idx[d->order] != i)
			out[m++] = idx[d->order];
	}
	if (c->group != NULL && c->group->strategy == STRAT_REST_FOR_ONE)
		for (j = i + 1; j < n; j++)
			if (v[j]->group == c->group) {
				out[m++] = j;
				break;
			}
	return m;
}

/* Build the graph of a STOP_LEVELS stopper. */
static struct stop_levels *
levels_new(struct child **v, int n)
{
	struct stop_levels *lv;
	int *idx = index_by_order(v, n), *a, i, j, m, cap = 0;

	for (i = 0; i < n; i++)
		cap += v[i]->conf->depends.n + 1;
	/* waiting, asked, down: n each; doff: n + 1; dep: cap */
	if ((lv = calloc(1, sizeof(*lv))) == NULL ||
	    (a = calloc((size_t)(4 * n + 1 + cap), sizeof(int))) == NULL)
		fatal("calloc");
	lv->waiting = a;
	lv->asked = a + n;
	lv->down = a + 2 * n;
	lv->doff = a + 3 * n;
	lv->dep = a + 4 * n + 1;
	for (i = 0, m = 0; i < n; i++) {
		lv->doff[i] = m;
		m += deps_of(v, n, i, idx, lv->dep + m);
		for (j = lv->doff[i]; j < m; j++)
			lv->waiting[lv->dep[j]]++;
	}
	lv->doff[n] = m;
	free(idx);
	return lv;
}

static void
levels_free(struct stop_levels *lv)
{
	if (lv != NULL)
		free(lv->waiting);	/* every array of it, in one block */
	free(lv);
}

/* A stopper over a copy of v; the caller pokes it (stoppers_poke). */
struct stopper *
stopper_new(struct child **v, int n, int mode, stopper_done_cb done,
    void *arg)
{
	struct stopper *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->v = calloc((size_t)n + 1, sizeof(*s->v))) == NULL)
		fatal("calloc");
	memcpy(s->v, v, sizeof(*v) * (size_t)n);
	s->n = n;
	s->mode = mode;
	s->done = done;
	s->arg = arg;
	if (mode == STOP_LEVELS)
		s->lv = levels_new(s->v, n);
	TAILQ_INSERT_TAIL(&D->stoppers, s, entry);
	return s;
}

/* Take a stopper off the list and free it (its children stay). */
void
stopper_free(struct stopper *s)
{
	TAILQ_REMOVE(&D->stoppers, s, entry);
	levels_free(s->lv);
	free(s->v);
	free(s);
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

/* All at once; 1 when every one is down. */
static int
advance_parallel(struct stopper *s)
{
	int i, busy = 0;

	for (i = 0; i < s->n; i++) {
		if (!s->started)
			stopper_stop_one(s, s->v[i]);
		if (s->v[i]->pid != 0)
			busy = 1;
	}
	s->started = 1;
	return !busy;
}

/* One at a time in list order; 1 when the last is down. */
static int
advance_sequential(struct stopper *s)
{
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
	return 1;
}

/* One pass over a levels stopper: ask who may stop, count who is down. */
static int
levels_pass(struct stopper *s, int *inflight, int *left)
{
	struct stop_levels *lv = s->lv;
	int i, j, moved = 0;

	*inflight = *left = 0;
	for (i = 0; i < s->n; i++) {
		if (lv->down[i])
			continue;
		if (!lv->asked[i] && lv->waiting[i] == 0) {
			lv->asked[i] = 1;
			stopper_stop_one(s, s->v[i]);
		}
		if (lv->asked[i] && s->v[i]->pid == 0) {
			lv->down[i] = 1;
			for (j = lv->doff[i]; j < lv->doff[i + 1]; j++)
				lv->waiting[lv->dep[j]]--;
			moved = 1;
			continue;
		}
		(*left)++;
		if (lv->asked[i])
			(*inflight)++;
	}
	return moved;
}

/*
 * By dependency levels, each level in reverse start order; 1 when all
 * are down.  Should nothing be in flight while some wait (a cycle, which
 * the config forbids), the next of those is asked anyway.
 */
static int
advance_levels(struct stopper *s)
{
	int inflight, left, i;

	for (;;) {
		while (levels_pass(s, &inflight, &left))
			;
		if (left == 0)
			return 1;
		if (inflight > 0)
			return 0;
		for (i = 0; i < s->n && (s->lv->down[i] || s->lv->asked[i]);
		    i++)
			;
		s->lv->waiting[i] = 0;
	}
}

/* Advance one stopper; 1 when it has finished. */
static int
stopper_advance(struct stopper *s)
{
	int fin;

	if (s->done_called)
		return 0;
	if (s->mode == STOP_PARALLEL)
		fin = advance_parallel(s);
	else if (s->mode == STOP_LEVELS)
		fin = advance_levels(s);
	else
		fin = advance_sequential(s);
	if (fin)
		s->done_called = 1;
	return fin;
}

/* One pass over the stoppers; 1 when one finished (the list changed). */
static int
poke_pass(void)
{
	struct stopper *s, *t;

	TAILQ_FOREACH_SAFE(s, &D->stoppers, entry, t)
		if (stopper_advance(s)) {
			if (s->done != NULL)
				s->done(s, s->arg);
			return 1;	/* the callback may change the list */
		}
	return 0;
}

/* Something stopped: move every stopper along. */
void
stoppers_poke(void)
{
	rerun(&D->poke, poke_pass);
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

