/*
 * start.c: starting children: every child that should run starts once
 * its dependencies are healthy and its backoff is over; the lifecycle
 * stages and systemd readiness as the boot set comes up; lookups.
 */
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/events.h"
#include "engine/internal.h"

/* Are c's dependencies healthy (and, for a member, the modules up)? */
int
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

/* One pass of tree_kick over the children. */
static int
kick_pass(void)
{
	struct child *c;

	TAILQ_FOREACH(c, &D->children, entry) {
		if (D->shutting_down)
			break;
		if (!c->want_run || c->held || c->pid != 0 || c->removing ||
		    c->remote)
			continue;
		if (c->state != CS_STOPPED && c->state != CS_FAILED)
			continue;
		if (c->timer_kind == CT_BACKOFF || !deps_healthy(c))
			continue;
		child_event(c, CE_START);
	}
	return 0;
}

/* Start every child that should run and may: deps healthy, no backoff. */
void
tree_kick(void)
{
	rerun(&D->kick, kick_pass);
}

/*
 * Run pass until it has nothing more to do.  A start or a stop calls back
 * into its caller (a child ready at once kicks the tree again): a nested
 * call only asks for one more pass, so passes never nest.
 */
void
rerun(struct rerun *r, int (*pass)(void))
{
	if (r->busy) {
		r->again = 1;
		return;
	}
	r->busy = 1;
	do {
		r->again = 0;
		if (pass())
			r->again = 1;
	} while (r->again);
	r->busy = 0;
}

/* Operator start: a fresh budget and a first start. */
void
child_start_op(struct child *c)
{
	if (c->remote)
		return;		/* another node runs it (a cluster) */
	c->want_run = 1;
	c->as_restart = 0;
	budget_reset(&c->budget);
	c->consecutive = 0;
	if (c->pid != 0)
		return;
	if (c->state == CS_EXHAUSTED || c->state == CS_FAILED) {
		timer_cancel(c);
		/* failed or exhausted: STOP parks it as stopped until then */
		child_event(c, deps_healthy(c) ? CE_START : CE_STOP);
	}
	tree_kick();
}

/* Lifecycle stages and systemd readiness as the boot set comes up. */
void
boot_progress(void)
{
	struct child *c;

	sd_notify_check();	/* READY=1 once the boot set settles */
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
}

/* A live child by name (not one being removed). */
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
