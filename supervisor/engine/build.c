/*
 * build.c: the child table: groups from the config, children created in
 * start order (dependencies first), added at run time, marked removed and
 * freed.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/events.h"
#include "engine/internal.h"
#include "engine/logring.h"


/* A new group, at the end of the list. */
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
void
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

/* The group a child's conf names (the root by default). */
struct sgroup *
group_of(const struct child_conf *cc)
{
	struct sgroup *g;

	if (cc->group == NULL)
		return D->root;
	g = group_find(cc->group);
	return g != NULL ? g : D->root;
}

/* A child from its conf, in the table by name, stopped. */
struct child *
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
	ev_init(&c->timer, child_timer_cb);
	c->timer.data = c;
	watchdog_init(c);
	KIND_CALL(c, created, c);
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
	KIND_CALL(c, removing, c);
}

/* Take a child out of the table and free it. */
void
child_free(struct child *c)
{
	TAILQ_REMOVE(&D->children, c, entry);
	if (c->hashed)
		HASH_DELETE(hh, D->byname, c);
	ev_timer_stop(D->loop, &c->timer);
	watchdog_gone(c);
	child_close_io(c);
	KIND_CALL(c, freed, c);
	logring_forget(c->name);
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
void
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
	domains_configure(cfg, 0);
	event_simple("supervisor", "mobkitd", "lifecycle.mob_started");
	boot_progress();
	tree_kick();
}

