/*
 * reload.c: applying a new, validated config: only the children added,
 * removed or changed move; changed ones are stopped, get their new conf,
 * and start again.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/events.h"
#include "engine/internal.h"

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
		if (c->state != CS_STOPPED)	/* failed or exhausted */
			child_event(c, CE_STOP);
	}
	stopper_free(s);
	tree_sweep();
	tree_kick();
}

/* What a reload changes: names for the reply, children to stop. */
struct diff {
	struct strlist	 added, removed, changed, unchanged;
	struct child	**v;		/* to stop, in reverse start order */
	int		 n;
};

/* One child the old config had: removed, changed or kept. */
static void
diff_old(struct diff *d, struct child *c, struct config *ocfg,
    struct config *ncfg)
{
	struct child_conf *nc = config_child(ncfg, c->name);
	char *a, *b;

	if (nc == NULL && kind_of(c)->unlisted != NULL) {
		if (kind_of(c)->unlisted(c))	/* the domain takes it */
			(void)strlist_add(&d->removed, c->name);
		return;
	}
	if (nc == NULL) {
		(void)strlist_add(&d->removed, c->name);
		child_mark_removing(c);
		c->want_run = 0;
		c->held = 1;
		d->v[d->n++] = c;
		return;
	}
	a = child_conf_fingerprint(ocfg, c->conf);
	b = child_conf_fingerprint(ncfg, nc);
	if (strcmp(a, b) != 0) {
		c->next_conf = child_conf_dup(nc);
		c->held = 1;
		d->v[d->n++] = c;
	} else {
		c->group = group_of(c->conf);
		if (c->state == CS_EXHAUSTED)
			child_start_op(c);
	}
	free(a);
	free(b);
}

/* Every child of the new config: added (created now), changed or not. */
static void
diff_new(struct diff *d, struct config *ncfg)
{
	struct child *c;
	int i;

	for (i = 0; i < ncfg->nchildren; i++) {
		struct child_conf *nc = ncfg->children[i];

		if ((c = child_find(nc->name)) == NULL) {
			(void)strlist_add(&d->added, nc->name);
			c = child_new(nc);
			TAILQ_INSERT_TAIL(&D->children, c, entry);
		} else if (c->next_conf != NULL)
			(void)strlist_add(&d->changed, nc->name);
		else
			(void)strlist_add(&d->unchanged, nc->name);
	}
}

/* The reply, the event config.reloaded and the log line. */
static void
diff_report(struct diff *d, msgpack_packer *pk)
{
	struct evb b;

	msgpack_pack_map(pk, 4);
	mp_kstrs(pk, "added", d->added.v, d->added.n);
	mp_kstrs(pk, "removed", d->removed.v, d->removed.n);
	mp_kstrs(pk, "changed", d->changed.v, d->changed.n);
	mp_kstrs(pk, "unchanged", d->unchanged.v, d->unchanged.n);
	evb_begin(&b, 3);
	mp_kint(&b.pk, "added", d->added.n);
	mp_kint(&b.pk, "removed", d->removed.n);
	mp_kint(&b.pk, "changed", d->changed.n);
	evb_emit(&b, "supervisor", "mobkitd", "config.reloaded");
	log_info("reloaded: %d added, %d removed, %d changed, %d unchanged",
	    d->added.n, d->removed.n, d->changed.n, d->unchanged.n);
	strlist_free(&d->added);
	strlist_free(&d->removed);
	strlist_free(&d->changed);
	strlist_free(&d->unchanged);
}

/*
 * Apply a new, validated config: only added, removed and changed children
 * move.  Packs {"added","removed","changed","unchanged"} into pk.
 */
int
tree_reload(struct config *ncfg, msgpack_packer *pk)
{
	struct diff d = { 0 };
	struct child *c;
	struct config *ocfg = D->cfg;
	int total = 0;

	TAILQ_FOREACH(c, &D->children, entry)
		total++;
	if ((d.v = calloc((size_t)total + 1, sizeof(*d.v))) == NULL)
		fatal("calloc");
	groups_sync(ncfg);
	/* removed and changed, in reverse start order, for the stopper */
	TAILQ_FOREACH_REVERSE(c, &D->children, childq, entry)
		if (!c->removing)
			diff_old(&d, c, ocfg, ncfg);
	diff_new(&d, ncfg);
	sd_notify_reload();	/* RELOADING=1; READY=1 once they settle */
	D->cfg = ncfg;
	log_setlevel(D->verbose ? LOG_L_DEBUG : ncfg->log_level);
	reorder(ncfg);
	TAILQ_FOREACH(c, &D->children, entry)
		KIND_CALL(c, reconfigured, c, ncfg);
	domains_configure(ncfg, 1);
	diff_report(&d, pk);
	(void)stopper_new(d.v, d.n, STOP_SEQUENTIAL, reload_stopped, NULL);
	free(d.v);
	config_free(ocfg);
	stoppers_poke();
	tree_kick();
	return 0;
}
