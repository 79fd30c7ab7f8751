/*
 * store.c: the store interface (store.h) over the backend chosen at open.
 *
 * Domains call the store_* functions; this file passes them to the one
 * backend (store_backend.h): the in-memory one until store_open() picks
 * another.  It also holds what backends need of the domains and must not
 * reach themselves: the set of inputs changed since the last flush (each
 * once, however often it changed), the peer graph, and where loaded rows
 * and commit results go (mailbox, members, deliveries, schedules).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "store_backend.h"
#include "timeutil.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "mob/mailbox.h"
#include "mob/members.h"
#include "mob/schedules.h"
#include "mob/deliveries.h"
#include "store.h"

static const struct store_ops *be = &store_mem_ops;
static struct {
	struct input	*in;
	char		*member;
} *dirty;
static size_t		 ndirty, capdirty;
static int		 peers_dirty;

/* strdup, NULL staying NULL. */
char *
store_strdup(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		fatal("strdup");
	return d;
}

/*
 * The backend for a place to keep state: today a state_dir, SQLite.  A
 * PostgreSQL backend (issue 13) is chosen here by "postgresql://".
 */
static const struct store_ops *
backend_for(const char *where)
{
	(void)where;
	return &store_sqlite_ops;
}

/* -t: the store at where is sound (or absent); say what is wrong. */
int
store_verify(const char *where)
{
	return backend_for(where)->verify(where);
}

/* Open (or create) the store at where, checked; -1 when it must not run. */
int
store_open(const char *where)
{
	const struct store_ops *ops = backend_for(where);

	if (ops->open(where) == -1)
		return -1;
	be = ops;
	return 0;
}

/* Hand everything kept to the domains and start writing; -1 on error. */
int
store_load(void)
{
	int n;

	n = be->load();
	peers_dirty = 0;
	return n;
}

/* Block until everything queued is written or failed (shutdown). */
int
store_commit(void)
{
	return be->commit();
}

/* Write what is left and close; the in-memory backend from now on. */
void
store_close(void)
{
	be->close();
	be = &store_mem_ops;
	free(dirty);
	dirty = NULL;
	ndirty = capdirty = 0;
}

/* Is anything kept beyond this process (state_dir)? */
int
store_enabled(void)
{
	return be->persistent;
}

/* "store: <what failed>" while the store cannot write, else NULL. */
const char *
store_failure(void)
{
	return be->failure();
}

/* Mark an input to be written with the next commit. */
void
store_input(struct mbox *mb, struct input *in)
{
	void *nd;

	if (!be->persistent || in->dirty)
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
store_input_drop(struct input *in)
{
	size_t i;

	if (!in->dirty)
		return;
	for (i = 0; i < ndirty; i++)
		if (dirty[i].in == in)
			dirty[i].in = NULL;
	in->dirty = 0;
}

/* A turn's messages are appended to the member's conversation. */
void
store_snapshot_append(struct mbox *mb, const char *messages)
{
	be->append(mb->id, messages);
}

/* A reset: the member's conversation is deleted. */
void
store_snapshot_clear(struct mbox *mb)
{
	be->clear(mb->id);
}

/* A schedule's due time was claimed: it must never fire again. */
void
store_claim(const char *schedule, int64_t due_ms, int64_t forget_before)
{
	be->claim(schedule, due_ms, forget_before);
}

/* A delivery record changed: its whole (msgpack) record is kept. */
void
store_delivery(const char *id, const char *blob, size_t len)
{
	be->delivery(id, blob, len);
}

/* A delivery record is forgotten (retention). */
void
store_delivery_forget(const char *id)
{
	be->delivery_forget(id);
}

/* The peer graph changed: it is written whole with the next commit. */
void
store_peers(void)
{
	peers_dirty = 1;
}

/*
 * Run fn(arg, err) once what is queued now is committed (err NULL) or
 * could not be (err "store: ..."); at once in memory.
 */
void
store_after_commit(store_done_cb fn, void *arg)
{
	be->after_commit(fn, arg);
}

/*
 * Deduplication: the finished input of member with this key, remembered
 * since since_ms.  1 found (*out filled, its strings the caller's), 0
 * none, -1 the store could not be read.
 */
int
store_recall(const char *member, const char *key, int64_t since_ms,
    struct input *out)
{
	struct store_fin f;
	int r;

	memset(&f, 0, sizeof(f));
	if ((r = be->recall(member, key, since_ms, &f)) != 1)
		return r;
	snprintf(out->id, sizeof(out->id), "%s", f.id);
	out->state = f.state;
	out->attempts = f.attempts;
	out->result = f.result;
	out->error = f.error;
	return 1;
}

/* The newest max finished inputs of member kept, newest first. */
int
store_finished(const char *member, int64_t since_ms, int max,
    store_row_cb fn, void *arg)
{
	return be->finished(member, since_ms, max, fn, arg);
}

/* A member's conversation for a hand-over (store_sqlite_read.c). */
char *
store_history(const char *member, size_t max)
{
	return be->history(member, max);
}

/* --- for backends ------------------------------------------------------ */

/* The loop backends watch and wake. */
struct ev_loop *
store_loop(void)
{
	return D->loop;
}

/* The input retention limits now (they change on reload). */
void
store_retention(int *max, int64_t *ms)
{
	*max = D->cfg->input_retention_max;
	*ms = D->cfg->input_retention_ms;
}

/* Each input changed since the last call, once, as a row; then clean. */
size_t
store_take_inputs(store_input_fn fn, void *arg)
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
		r.fin = input_terminal(in) ? (int64_t)wall_ms() : 0;
		fn(arg, &r);
		n++;
	}
	ndirty = 0;
	return n;
}

/* The peer graph's edges (a < b) when it changed since the last call. */
int
store_take_peers(store_edge_fn fn, void *arg)
{
	struct child *c, *o;

	if (!peers_dirty)
		return 0;
	TAILQ_FOREACH(c, &D->children, entry)
		TAILQ_FOREACH(o, &D->children, entry)
			if (c->mbox != NULL && o->mbox != NULL &&
			    strcmp(c->name, o->name) < 0 &&
			    peers_wired(c->name, o->name))
				fn(arg, c->name, o->name);
	peers_dirty = 0;
	return 1;
}

/* The peer graph could not be written: it goes with the next commit. */
void
store_peers_again(void)
{
	peers_dirty = 1;
}

/* Inputs changed and not yet taken. */
size_t
store_dirty(void)
{
	return ndirty;
}

/* An input's row was committed (err NULL) or not. */
void
store_saved(const char *member, const char *id, const char *err)
{
	mbox_input_saved(member, id, err);
}

/* An input's commit has run its callbacks: a finished one may go. */
void
store_released(const char *member, const char *id)
{
	mbox_input_release(member, id);
}

/* store.write_failed {error} or store.recovered {failed_ms}. */
void
store_report(const char *type, const char *err, int64_t ms)
{
	struct evb b;

	evb_begin(&b, 1);
	if (err != NULL)
		mp_kstr(&b.pk, "error", err);
	else
		mp_kint(&b.pk, "failed_ms", ms);
	evb_emit(&b, "supervisor", "store", type);
}

/* A member's last sequence number at load. */
void
store_loaded_seq(const char *member, int64_t seq)
{
	struct child *c;

	if ((c = child_find(member)) != NULL && c->mbox != NULL)
		c->mbox->next_seq = (uint64_t)seq;
}

/* A pending input back into its mailbox; -1 when it has none. */
int
store_loaded_input(const struct store_input *r)
{
	struct input *in;
	struct child *c;

	if ((c = child_find(r->member)) == NULL || c->mbox == NULL)
		return -1;
	in = mbox_add(c->mbox, r->id, r->text, r->key, (uint64_t)r->seq);
	in->attempts = r->attempts;
	in->accepted_ms = (uint64_t)r->accepted_ms;
	in->error = store_strdup(r->error);
	in->durable = 1;
	return 0;
}

/* An edge of the peer graph at load. */
void
store_loaded_peer(const char *a, const char *b)
{
	(void)peers_add(a, b);
}

/* A delivery record at load. */
void
store_loaded_delivery(const void *rec, size_t len)
{
	delivery_restore(rec, len);
}

/* A claimed due time at load. */
void
store_loaded_claim(const char *schedule, int64_t due_ms)
{
	(void)claim_note(schedule, due_ms);
}
