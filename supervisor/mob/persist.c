/*
 * persist.c: the mob's side of the store.  It owns the set of inputs
 * changed since the last flush (each once, however often it changed;
 * an input freed leaves it), and is the sink the store hands loaded rows
 * and commit results to and pulls changes, the loop, the retention limits
 * and the operator's events from (struct store_sink, store.h): the store
 * includes no mob or engine header, the mob registers this.
 *
 * Invariant: an input is in the dirty set iff in->dirty; only while the
 * store keeps anything beyond the process (store_enabled()).
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "timeutil.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "mob/deliveries.h"
#include "mob/conversation.h"
#include "mob/mailbox.h"
#include "mob/members.h"
#include "mob/persist.h"
#include "mob/schedules.h"
#include "store.h"

static struct {
	struct input	*in;
	char		*member;
} *dirty;
static size_t		 ndirty, capdirty;

/* Mark an input to be written with the next commit. */
void
persist_input(struct mbox *mb, struct input *in)
{
	void *nd;

	if (!store_enabled() || in->dirty)
		return;
	if (ndirty == capdirty) {
		capdirty = capdirty ? capdirty * 2 : 1024;
		if ((nd = reallocarray(dirty, capdirty, sizeof(*dirty))) == NULL)
			fatal("reallocarray");
		dirty = nd;
	}
	dirty[ndirty].in = in;
	dirty[ndirty].member = mb->id;
	ndirty++;
	in->dirty = 1;
}

/* An input is freed: it must not stay in the dirty set. */
void
persist_input_drop(struct input *in)
{
	size_t i;

	if (!in->dirty)
		return;
	for (i = 0; i < ndirty; i++)
		if (dirty[i].in == in)
			dirty[i].in = NULL;
	in->dirty = 0;
}

/*
 * Deduplication: the finished input of member with this key, remembered
 * since since_ms.  1 found (*out filled, its strings the caller's), 0
 * none, -1 the store could not be read.
 */
int
persist_recall(const char *member, const char *key, int64_t since_ms,
    struct input *out)
{
	struct store_fin f;
	int r;

	if ((r = store_recall(member, key, since_ms, &f)) != 1)
		return r;
	snprintf(out->id, sizeof(out->id), "%s", f.id);
	out->state = f.state;
	out->attempts = f.attempts;
	out->result = f.result;
	out->error = f.error;
	return 1;
}

/* --- the sink --------------------------------------------------------- */

/* Each input changed since the last call, once, as a row; then clean. */
static size_t
take_inputs(store_input_fn fn, void *arg)
{
	struct store_input r;
	size_t i, n = 0;

	for (i = 0; i < ndirty; i++) {
		struct input *in = dirty[i].in;

		if (in == NULL)
			continue;
		in->dirty = 0;
		r.id = in->id;
		r.member = dirty[i].member;
		r.key = in->key;
		r.text = in->text;
		r.result = in->result;
		r.error = in->error;
		r.seq = (int64_t)in->seq;
		r.accepted_ms = (int64_t)in->accepted_ms;
		r.state = in->state == IN_RUNNING ? IN_QUEUED : in->state;
		r.attempts = in->attempts;
		r.fresh = !in->durable;
		r.fin = input_terminal(in) ? (int64_t)wall_ms() : 0;
		fn(arg, &r);
		n++;
	}
	ndirty = 0;
	return n;
}

/* Inputs changed and not yet taken. */
static size_t
dirty_count(void)
{
	return ndirty;
}

/* The store closed: the dirty set goes. */
static void
forget(void)
{
	free(dirty);
	dirty = NULL;
	ndirty = capdirty = 0;
}

/* The peer graph's edges, a < b. */
static void
edges(store_edge_fn fn, void *arg)
{
	struct child *c, *o;

	TAILQ_FOREACH(c, &D->children, entry)
		TAILQ_FOREACH(o, &D->children, entry)
			if (c->mbox != NULL && o->mbox != NULL &&
			    strcmp(c->name, o->name) < 0 &&
			    peers_wired(c->name, o->name))
				fn(arg, c->name, o->name);
}

/* A member's last sequence number at load. */
static void
loaded_seq(const char *member, int64_t seq)
{
	struct child *c;

	if ((c = child_find(member)) != NULL && c->mbox != NULL)
		c->mbox->next_seq = (uint64_t)seq;
}

/* A pending input back into its mailbox; -1 when it has none. */
static int
loaded_input(const struct store_input *r)
{
	struct input *in;
	struct child *c;

	if ((c = child_find(r->member)) == NULL || c->mbox == NULL)
		return -1;
	in = mbox_add(c->mbox, r->id, r->text, r->key, (uint64_t)r->seq);
	in->attempts = r->attempts;
	in->accepted_ms = (uint64_t)r->accepted_ms;
	if (r->error != NULL && (in->error = strdup(r->error)) == NULL)
		fatal("strdup");
	in->durable = 1;
	return 0;
}

/* An edge of the peer graph at load. */
static void
loaded_peer(const char *a, const char *b)
{
	(void)peers_add(a, b);
}

/* A claimed due time at load. */
static void
loaded_claim(const char *schedule, int64_t due_ms)
{
	(void)claim_note(schedule, due_ms);
}

/* The loop the store's backends watch. */
static struct ev_loop *
loop(void)
{
	return D->loop;
}

/* The input retention limits now (they change on reload). */
static void
retention(int *max, int64_t *ms)
{
	*max = D->cfg->input_retention_max;
	*ms = D->cfg->input_retention_ms;
}

/* store.write_failed {error} or store.recovered {failed_ms}. */
static void
report(const char *type, const char *err, int64_t ms)
{
	struct evb b;

	evb_begin(&b, 1);
	if (err != NULL)
		mp_kstr(&b.pk, "error", err);
	else
		mp_kint(&b.pk, "failed_ms", ms);
	evb_emit(&b, "supervisor", "store", type);
}

static const struct store_sink sink = {
	.loop = loop,
	.retention = retention,
	.report = report,
	.take_inputs = take_inputs,
	.dirty = dirty_count,
	.forget = forget,
	.edges = edges,
	.saved = mbox_input_saved,
	.released = mbox_input_release,
	.deduped = mbox_input_deduped,
	.loaded_seq = loaded_seq,
	.loaded_input = loaded_input,
	.loaded_peer = loaded_peer,
	.loaded_delivery = delivery_restore,
	.loaded_claim = loaded_claim,
	.annotate = conv_annotate_member,
};

/* The mob is the store's sink: before the store loads. */
void
persist_register(void)
{
	store_sink_set(&sink);
}
