/*
 * inputs.c: a member under control: abandoning, interrupting and
 * resetting its mailbox, and listing it (members, inputs).
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "msgtab.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "mob/mailbox.h"
#include "mob/mailbox_int.h"
#include "mob/members.h"
#include "store.h"
#include "cluster.h"

/* --- member control -------------------------------------------------- */

/* Abandon every queued input (and the running one, if any). */
int
mbox_abandon_all(struct mbox *mb, const char *reason, int running_too)
{
	struct input *in, *t;
	int n = 0;

	TAILQ_FOREACH_SAFE(in, &mb->queue, qentry, t) {
		input_finish(mb, in, IN_ABANDONED, NULL, reason);
		n++;
	}
	if (running_too && mb->running != NULL) {
		input_finish(mb, mb->running, IN_ABANDONED, NULL, reason);
		n++;
	}
	return n;
}

/* interrupt: cancel the running turn now; its id is copied to id. */
int
mbox_interrupt(struct child *c, char *id, size_t idsz)
{
	struct mbox *mb = c->mbox;
	struct input *in = mb->running;
	struct msgw w;

	if (in == NULL)
		return -1;
	snprintf(id, idsz, "%s", in->id);
	msgw_begin(&w, MSG_INTERRUPT);
	msgw_str(&w, K_INPUT_ID, in->id);
	(void)mbox_worker_send(c, &w);
	/* abandoned now; the worker stays busy until it says it stopped */
	input_finish(mb, in, IN_ABANDONED, NULL, "interrupted");
	return 0;
}

/* reset: forget the queue and the conversation (not while a turn runs). */
int
mbox_reset(struct child *c, int *abandoned)
{
	struct mbox *mb = c->mbox;
	struct msgw w;

	if (mb->running != NULL || mb->busy)
		return -1;
	*abandoned = mbox_abandon_all(mb, "reset", 0);
	history_free(mb);
	mb->turns_dropped = 0;
	store_snapshot_clear(mb->id);
	if (mb->hello_pending)
		mb->hello_reset = 1;
	msgw_begin(&w, MSG_RESET);
	(void)mbox_worker_send(c, &w);
	return 0;
}

/* Waiters and --wait ------------------------------------------------- */

/* Inputs queued or running. */
int
mbox_pending(const struct mbox *mb)
{
	return mb->nqueued + (mb->running != NULL);
}

/* Pack the members verb's entry for one member. */
void
mbox_pack_member(msgpack_packer *pk, struct child *c)
{
	struct mbox *mb = c->mbox;

	int node = cluster_enabled();

	msgpack_pack_map(pk, 8 + node);
	mp_kstr(pk, "id", mb->id);
	mp_kstr(pk, "profile", mb->profile);
	mp_kstr(pk, "state", mb->retiring && c->state == CS_HEALTHY ?
	    "retiring" : child_state_name(c));
	if (node)	/* the node that runs it (a cluster) */
		mp_kstr_or_nil(pk, "node_id", cluster_owner(c->name));
	if (c->pid > 0)
		mp_kint(pk, "pid", c->pid);
	else
		mp_knil(pk, "pid");
	mp_kint(pk, "queued", mb->nqueued);
	mp_kstr_or_nil(pk, "running", mb->running ? mb->running->id : NULL);
	mp_kint(pk, "restarts", c->restarts);
	mp_str(pk, "peers");
	peers_pack(pk, mb->id);
}

/* One row of the inputs listing, copied. */
struct listed {
	char	*id, *key;
	int	 state, attempts;
};

struct listing {
	struct listed	*v;
	size_t		 n, cap;
};

/* A finished input into the listing (unless also in memory). */
static void
listing_add(void *arg, const char *id, int state, int attempts,
    const char *key)
{
	struct listing *l = arg;
	struct listed *e;

	if (input_find(id) != NULL)
		return;		/* in memory too: that one is newer */
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((l->v = reallocarray(l->v, l->cap, sizeof(*l->v))) == NULL)
			fatal("reallocarray");
	}
	e = &l->v[l->n++];
	if ((e->id = strdup(id)) == NULL ||
	    (key != NULL && (e->key = strdup(key)) == NULL))
		fatal("strdup");
	if (key == NULL)
		e->key = NULL;
	e->state = state;
	e->attempts = attempts;
}

/* One entry of the inputs listing. */
static void
pack_listed(msgpack_packer *pk, const char *id, int state, int attempts,
    const char *key)
{
	msgpack_pack_map(pk, 4);
	mp_kstr(pk, "input_id", id);
	mp_kstr(pk, "state", input_state_names[state]);
	mp_kint(pk, "attempts", attempts);
	mp_kstr_or_nil(pk, "key", key);
}

/*
 * inputs ID: the finished inputs remembered (oldest first, at most
 * input_retention_max), then the running one and the queue.  Texts and
 * results are not listed: they are not kept.
 */
void
mbox_pack_inputs(msgpack_packer *pk, struct mbox *mb)
{
	struct listing l = { NULL, 0, 0 };
	struct listed t;
	struct input *in;
	struct done *d;
	size_t i, first, live = 0;

	if (store_enabled()) {
		(void)store_finished(mb->id, retain_since(), retain_max(),
		    listing_add, &l);
		for (i = 0; i < l.n / 2; i++) {
			t = l.v[i];
			l.v[i] = l.v[l.n - 1 - i];
			l.v[l.n - 1 - i] = t;
		}
	} else {
		done_trim(mb);
		for (d = mb->done_head; d != NULL; d = d->next)
			listing_add(&l, d->s, d->state, d->attempts,
			    d->keyat ? d->s + d->keyat : NULL);
	}
	TAILQ_FOREACH(in, &mb->all, all) {
		if (!input_terminal(in)) {
			live++;
			continue;
		}
		if (l.n == l.cap) {
			l.cap = l.cap ? l.cap * 2 : 64;
			if ((l.v = reallocarray(l.v, l.cap, sizeof(*l.v))) ==
			    NULL)
				fatal("reallocarray");
		}
		l.v[l.n].id = strdup(in->id);
		l.v[l.n].key = in->key ? strdup(in->key) : NULL;
		l.v[l.n].state = in->state;
		l.v[l.n++].attempts = in->attempts;
	}
	first = l.n > (size_t)retain_max() ? l.n - (size_t)retain_max() : 0;
	msgpack_pack_array(pk, l.n - first + live);
	for (i = first; i < l.n; i++)
		pack_listed(pk, l.v[i].id, l.v[i].state, l.v[i].attempts,
		    l.v[i].key);
	TAILQ_FOREACH(in, &mb->all, all)
		if (!input_terminal(in))
			pack_listed(pk, in->id, in->state, in->attempts,
			    in->key);
	for (i = 0; i < l.n; i++) {
		free(l.v[i].id);
		free(l.v[i].key);
	}
	free(l.v);
}

/* Shutdown's drain: how many turns are still running. */
int
mbox_running_total(void)
{
	struct child *c;
	int n = 0;

	TAILQ_FOREACH(c, &D->children, entry)
		if (c->mbox != NULL && (c->mbox->running != NULL ||
		    c->mbox->busy) && c->pid != 0)
			n++;
	return n;
}
