/*
 * store_sqlite_batch.c: the loop's side of the SQLite store.
 *
 * Changes are not written one by one: an input that changes is marked
 * dirty (store.c), and just before the loop would block (an ev_prepare
 * watcher) all of them, with the appends, claims and delivery records
 * queued since, go to the writer thread as one batch -- group commit.
 * Only after that commit are "accepted" answers sent and new inputs
 * handed to workers, so nothing is acknowledged or run before it is on
 * disk.
 *
 * Each batch comes back with the commit's result.  When it failed (disk
 * full, I/O error, read-only file system) the store is "failed": what
 * waited on the batch hears "store: <what failed>", new inputs are the
 * requests that failed (rejected, never kept), updates of what was
 * already on disk are written again with the next attempt, and nothing
 * is submitted any more except by a retry timer, once a second, until a
 * write succeeds.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_sqlite.h"
#include "timeutil.h"

#define RETRY_S		1.0		/* a failed store is retried */

struct batch		*sq_cur;
struct batch		*sq_redo;
static ev_prepare	 committer;
static ev_async		 committed;
static ev_timer		 retry_timer;
static int		 inflight;	/* batches sent, not yet back */
static int		 started;
static char		*failure;	/* "store: ..." while failed */
static uint64_t		 failed_since;	/* mono ms */

/* "store: <what failed>" while the store cannot write, else NULL. */
const char *
sq_failure(void)
{
	return failure;
}

/* An empty batch. */
struct batch *
sq_batch_new(void)
{
	struct batch *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal("calloc");
	TAILQ_INIT(&b->afters);
	return b;
}

/* A new, zeroed row at the end of a batch. */
static struct row *
row_add_to(struct batch *b, int kind)
{
	struct row *r;

	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		if ((b->rows = reallocarray(b->rows, b->cap,
		    sizeof(*b->rows))) == NULL)
			fatal("reallocarray");
	}
	r = &b->rows[b->n++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	return r;
}

/* A new row in the batch being filled. */
static struct row *
row_add(int kind)
{
	return row_add_to(sq_cur, kind);
}

/* A turn's messages are appended, a reset clears them: never rewritten. */
void
sq_append(const char *member, const char *turn)
{
	struct row *r;

	r = row_add(R_APPEND);
	r->member = store_strdup(member);
	r->text = store_strdup(turn);
}

/* A reset: the member's conversation is deleted. */
void
sq_clear(const char *member)
{
	row_add(R_CLEAR)->member = store_strdup(member);
}

/* A member's token usage so far (its one row is replaced). */
void
sq_usage(const char *member, int64_t in, int64_t out, int64_t turns)
{
	struct row *r;

	r = row_add(R_USAGE);
	r->member = store_strdup(member);
	r->seq = in;
	r->accepted = out;
	r->fin = turns;
}

/* A delivery record changed: its whole (msgpack) record is written. */
void
sq_delivery(const char *id, const void *rec, size_t len)
{
	struct row *r;

	r = row_add(R_DELIVERY);
	r->id = store_strdup(id);
	if ((r->text = malloc(len ? len : 1)) == NULL)
		fatal("malloc");
	memcpy(r->text, rec, len);
	r->len = len;
}

/* A delivery record is forgotten (retention). */
void
sq_delivery_forget(const char *id)
{
	row_add(R_DELIVERY_FORGET)->id = store_strdup(id);
}

/* A schedule's due time was claimed: it must never fire again. */
void
sq_claim(const char *schedule, int64_t due_ms, int64_t forget_before)
{
	struct row *r;

	r = row_add(R_CLAIM);
	r->member = store_strdup(schedule);
	r->seq = due_ms;
	r->fin = forget_before;
}

/* Run fn(arg, err) once what is queued now is committed or failed. */
void
sq_after_commit(store_done_cb fn, void *arg)
{
	struct after *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	a->fn = fn;
	a->arg = arg;
	TAILQ_INSERT_TAIL(&sq_cur->afters, a, entry);
}

/* A dirty input becomes a row of the current batch. */
static void
fill_input(void *arg, const struct store_input *in)
{
	struct row *r;

	(void)arg;
	r = row_add(R_INPUT);
	r->id = store_strdup(in->id);
	r->member = store_strdup(in->member);
	r->key = store_strdup(in->key);
	r->text = store_strdup(in->text);
	r->result = store_strdup(in->result);
	r->error = store_strdup(in->error);
	r->seq = in->seq;
	r->accepted = in->accepted_ms;
	r->state = in->state;
	r->attempts = in->attempts;
	r->fin = in->fin;
}

/* An edge of the peer graph, "a\tb", for the current batch. */
static void
fill_edge(void *arg, const char *a, const char *b)
{
	char k[300];

	(void)arg;
	snprintf(k, sizeof(k), "%s\t%s", a, b);
	(void)strlist_add(&sq_cur->edges, k);
}

/* Copy the dirty inputs and the peer graph into the current batch. */
static void
batch_fill(void)
{
	(void)store_take_inputs(fill_input, NULL);
	if (store_take_peers(fill_edge, NULL))
		sq_cur->peers = 1;
}

/* Rows that failed go first: they are older than what came since. */
static void
batch_take_redo(void)
{
	struct row *rows;
	size_t n;

	if (sq_redo->n == 0)
		return;
	n = sq_redo->n + sq_cur->n;
	if ((rows = reallocarray(NULL, n, sizeof(*rows))) == NULL)
		fatal("reallocarray");
	memcpy(rows, sq_redo->rows, sq_redo->n * sizeof(*rows));
	if (sq_cur->n > 0)
		memcpy(rows + sq_redo->n, sq_cur->rows, sq_cur->n *
		    sizeof(*rows));
	free(sq_cur->rows);
	sq_cur->rows = rows;
	sq_cur->n = sq_cur->cap = n;
	sq_redo->n = 0;
}

/* Hand the current batch to the writer (from the loop, before blocking). */
static void
batch_submit(int retry)
{
	batch_fill();
	if (retry)
		batch_take_redo();
	else if (sq_cur->n == 0 && !sq_cur->peers &&
	    TAILQ_EMPTY(&sq_cur->afters))
		return;
	sq_cur->retry = retry;
	store_retention(&sq_cur->keep_max, &sq_cur->keep_ms);
	sq_writer_put(sq_cur);
	inflight++;
	sq_cur = sq_batch_new();
}

/* Before the loop blocks: what changed goes to the writer. */
static void
commit_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (failure == NULL)
		batch_submit(0);
}

/* Failed: once a second, when nothing is on its way, try again. */
static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (failure != NULL && inflight == 0)
		batch_submit(1);
}

/* The strings of a row. */
static void
row_free(struct row *r)
{
	free(r->id);
	free(r->member);
	free(r->key);
	free(r->text);
	free(r->result);
	free(r->error);
}

/* A batch and its rows; afters still there hear "store: closed". */
void
sq_batch_free(struct batch *b)
{
	struct after *a;
	size_t i;

	if (b == NULL)
		return;
	while ((a = TAILQ_FIRST(&b->afters)) != NULL) {
		TAILQ_REMOVE(&b->afters, a, entry);
		a->fn(a->arg, "store: closed");
		free(a);
	}
	for (i = 0; i < b->n; i++)
		row_free(&b->rows[i]);
	free(b->rows);
	strlist_free(&b->edges);
	free(b->err);
	free(b);
}

/* Run what waited on a batch, with its result. */
static void
run_afters(struct batch *b)
{
	struct after *a;

	while ((a = TAILQ_FIRST(&b->afters)) != NULL) {
		TAILQ_REMOVE(&b->afters, a, entry);
		a->fn(a->arg, b->err);
		free(a);
	}
}

/* A batch is on disk: its inputs are durable, its answers go out. */
static void
batch_committed(struct batch *b)
{
	size_t i;

	if (failure != NULL && b->retry) {
		log_warnx("%s: the store writes again, after %llu ms; "
		    "mobkitd is no longer degraded", sq_path,
		    (unsigned long long)(mono_ms() - failed_since));
		store_report("store.recovered", NULL,
		    (int64_t)(mono_ms() - failed_since));
		free(failure);
		failure = NULL;
		ev_timer_stop(store_loop(), &retry_timer);
	}
	for (i = 0; i < b->n; i++)
		if (b->rows[i].kind == R_INPUT)
			store_saved(b->rows[i].member, b->rows[i].id, NULL);
	run_afters(b);
	for (i = 0; i < b->n; i++)
		if (b->rows[i].kind == R_INPUT)
			store_released(b->rows[i].member, b->rows[i].id);
}

/*
 * A batch was not written.  New inputs in it are rejected (the mailbox
 * drops them and answers their senders); updates of inputs already on
 * disk, conversation appends, claims and the peer graph are kept to be
 * written with the retry; delivery records are written again by
 * deliveries.c's own after-commit callbacks.
 */
static void
batch_failed(struct batch *b)
{
	size_t i;

	if (failure == NULL) {
		failure = store_strdup(b->err);
		failed_since = mono_ms();
		log_warnx("%s: a write failed (%s); mobkitd is degraded: new "
		    "inputs are refused, the store is retried every second",
		    sq_path, failure);
		store_report("store.write_failed", failure, 0);
		ev_timer_start(store_loop(), &retry_timer);
	} else if (b->retry)
		log_debug("%s: the retry failed too (%s)", sq_path, b->err);
	for (i = 0; i < b->n; i++) {
		struct row *r = &b->rows[i], *k;

		switch (r->kind) {
		case R_INPUT:
			store_saved(r->member, r->id, b->err);
			continue;
		case R_DELIVERY:
			continue;
		}
		k = row_add_to(sq_redo, r->kind);
		*k = *r;
		memset(r, 0, sizeof(*r));
	}
	if (b->peers)
		store_peers_again();
	run_afters(b);
}

/* Batches back from the writer, in order. */
static void
committed_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct batch *b;

	(void)loop;
	(void)w;
	(void)revents;
	while ((b = sq_writer_take()) != NULL) {
		inflight--;
		if (b->err == NULL)
			batch_committed(b);
		else
			batch_failed(b);
		sq_batch_free(b);
	}
}

/* After the load: from now on only the writer thread touches sq_db. */
int
sq_start(void)
{
	struct ev_loop *loop = store_loop();

	ev_prepare_init(&committer, commit_cb);
	ev_set_priority(&committer, EV_MAXPRI);	/* before the write flush */
	ev_prepare_start(loop, &committer);
	ev_async_init(&committed, committed_cb);
	ev_async_start(loop, &committed);
	ev_timer_init(&retry_timer, retry_cb, RETRY_S, RETRY_S);
	if (sq_writer_start(loop, &committed) == -1) {
		log_warnx("store: cannot start the writer thread");
		return -1;
	}
	started = 1;
	return 0;
}

/* Block until everything submitted is written or failed (shutdown). */
int
sq_commit(void)
{
	if (sq_db == NULL || !started)
		return 0;
	batch_submit(failure != NULL);
	sq_writer_wait_idle();
	committed_cb(store_loop(), &committed, 0);
	return 0;
}

/* Write what is left and stop the writer and the loop's watchers. */
void
sq_stop(void)
{
	struct ev_loop *loop;

	if (started) {
		loop = store_loop();
		(void)sq_commit();
		if (failure != NULL)
			log_warnx("store: %s: %zu change(s) could not be "
			    "written before exit: %s", sq_path, sq_redo->n +
			    store_dirty(), failure);
		sq_writer_stop();
		ev_prepare_stop(loop, &committer);
		ev_async_stop(loop, &committed);
		ev_timer_stop(loop, &retry_timer);
		started = 0;
	}
	free(failure);
	failure = NULL;
	inflight = 0;
}
