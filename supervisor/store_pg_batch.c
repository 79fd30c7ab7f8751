/*
 * store_pg_batch.c: the loop's side of the PostgreSQL store.
 *
 * Changes are queued into a batch; just before the loop would block (an
 * ev_prepare watcher) the batch -- the dirty inputs, the appends, claims
 * and records queued since -- is sent as one transaction, all of it in
 * one pipeline (store_pg_conn.c).  One transaction is in flight at a
 * time: what changes meanwhile waits for the next (group commit).  On
 * its COMMIT's answer its inputs are durable and what waited on it runs.
 *
 * A batch that fails (the database said no, or the connection was lost
 * before COMMIT answered) makes the store "failed", as the SQLite store
 * does: what waited on it hears "store: <why>", new inputs in it are
 * rejected, everything else is kept to be written again, and only a
 * retry timer sends anything (reconnecting first when the connection is
 * gone) until a write succeeds.  When the connection was lost the
 * outcome of that COMMIT is unknown: each write is one that may be
 * applied twice (upserts, appends by their own id), and the rows of the
 * inputs then rejected are deleted by the retry, so that what was
 * answered rejected is never found at the next start.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "cluster.h"
#include "store_pg.h"
#include "timeutil.h"

#define RETRY_FIRST_S	0.25		/* after a loss, then doubled to */
#define RETRY_MAX_S	1.0		/* a failed store is retried */

struct pg_batch		*pg_cur;
struct pg_batch		*pg_redo;
struct pg_batch		*pg_flight;
static ev_prepare	 committer;
static ev_timer		 retry_timer;
static double		 retry_s = RETRY_FIRST_S;
static int		 started;
static int		 need_lock;	/* a new connection: take the lock */
static int		 need_rollback;	/* a failed transaction to end */
static char		*failure;	/* "store: ..." while failed */
static uint64_t		 failed_since;	/* mono ms */
static uint64_t		 tids;		/* appends made by this process */
static uint64_t		 boot_ms;	/* wall ms it started writing */

static int	lease_lost(struct pg_batch *);

/* "store: <what failed>" while the store cannot write, else NULL. */
const char *
pg_failure(void)
{
	return failure;
}

/* An empty batch. */
struct pg_batch *
pg_batch_new(void)
{
	struct pg_batch *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal("calloc");
	TAILQ_INIT(&b->afters);
	return b;
}

/* A new, zeroed row at the end of a batch. */
static struct pg_row *
row_add_to(struct pg_batch *b, int kind)
{
	struct pg_row *r;

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
static struct pg_row *
row_add(int kind)
{
	return row_add_to(pg_cur, kind);
}

/* A turn's messages are appended under an id of their own. */
void
pg_append(const char *member, const char *turn)
{
	struct pg_row *r;
	char tid[160];

	snprintf(tid, sizeof(tid), "%s/%d/%llu/%llu", store_node_id(),
	    (int)getpid(), (unsigned long long)boot_ms,
	    (unsigned long long)++tids);
	r = row_add(P_APPEND);
	r->id = store_strdup(tid);
	r->member = store_strdup(member);
	r->text = store_strdup(turn);
	pgm_append(member, turn);
}

/* A reset: the member's conversation is deleted. */
void
pg_clear(const char *member)
{
	row_add(P_CLEAR)->member = store_strdup(member);
	pgm_clear(member);
}

/* A member's token usage so far (its one row is replaced). */
void
pg_usage(const char *member, int64_t in, int64_t out, int64_t turns)
{
	int64_t v[3] = { in, out, turns };
	struct pg_row *r;

	r = row_add(P_USAGE);
	r->member = store_strdup(member);
	r->seq = in;
	r->accepted = out;
	r->fin = turns;
	pgm_usage(member, v);
}

/* A delivery record changed: its whole (msgpack) record is written. */
void
pg_delivery(const char *id, const void *rec, size_t len)
{
	struct pg_row *r;

	r = row_add(P_DELIVERY);
	r->id = store_strdup(id);
	if ((r->text = malloc(len ? len : 1)) == NULL)
		fatal("malloc");
	memcpy(r->text, rec, len);
	r->len = len;
}

/* A delivery record is forgotten (retention). */
void
pg_delivery_forget(const char *id)
{
	row_add(P_DELIVERY_FORGET)->id = store_strdup(id);
}

/* A schedule's due time was claimed: it must never fire again. */
void
pg_claim(const char *schedule, int64_t due_ms, int64_t forget_before)
{
	struct pg_row *r;

	r = row_add(P_CLAIM);
	r->member = store_strdup(schedule);
	r->seq = due_ms;
	r->fin = forget_before;
}

/* A finished input past the retention limits: its row goes. */
void
pg_forget_input(const char *id)
{
	if (pg_cur != NULL)
		row_add(P_FORGET)->id = store_strdup(id);
}

/* Run fn(arg, err) once what is queued now is committed or failed. */
void
pg_after_commit(store_done_cb fn, void *arg)
{
	struct pg_after *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	a->fn = fn;
	a->arg = arg;
	TAILQ_INSERT_TAIL(&pg_cur->afters, a, entry);
}

/* A dirty input becomes a row of the current batch. */
static void
fill_input(void *arg, const struct store_input *in)
{
	struct pg_row *r;

	(void)arg;
	r = row_add(P_INPUT);
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
	r->fresh = in->fresh;
}

/* An edge of the peer graph, "a\tb", for the current batch. */
static void
fill_edge(void *arg, const char *a, const char *b)
{
	char k[300];

	(void)arg;
	snprintf(k, sizeof(k), "%s\t%s", a, b);
	(void)strlist_add(&pg_cur->edges, k);
}

/* Rows that failed go first: they are older than what came since. */
static void
take_redo(void)
{
	struct pg_row *rows;
	size_t n;

	if (pg_redo->n == 0)
		return;
	n = pg_redo->n + pg_cur->n;
	if ((rows = reallocarray(NULL, n, sizeof(*rows))) == NULL)
		fatal("reallocarray");
	memcpy(rows, pg_redo->rows, pg_redo->n * sizeof(*rows));
	if (pg_cur->n > 0)
		memcpy(rows + pg_redo->n, pg_cur->rows, pg_cur->n *
		    sizeof(*rows));
	free(pg_cur->rows);
	pg_cur->rows = rows;
	pg_cur->n = pg_cur->cap = n;
	pg_redo->n = 0;
}

/* Send the current batch as one transaction (from the loop). */
static void
submit(int retry)
{
	struct pg_batch *b;

	take_redo();	/* (a retry, or after leases were lost) */
	(void)store_take_inputs(fill_input, NULL);
	if (store_take_peers(fill_edge, NULL))
		pg_cur->peers = 1;
	if (!retry && pg_cur->n == 0 && !pg_cur->peers &&
	    TAILQ_EMPTY(&pg_cur->afters))
		return;
	b = pg_cur;
	pg_cur = pg_batch_new();
	b->retry = retry;
	pg_flight = b;
	if (pg_send(b, need_lock, need_rollback) == 0) {
		need_lock = need_rollback = 0;
		return;
	}
	/* the connection is gone: pg_lost() has failed the batch */
}

/* Before the loop blocks: what changed goes to the database. */
static void
commit_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (failure == NULL && pg_flight == NULL && pg_conn_ready())
		submit(0);
}

/* The retry timer, armed again (doubling up to RETRY_MAX_S). */
static void
retry_arm(void)
{
	struct ev_loop *loop = store_loop();

	ev_timer_stop(loop, &retry_timer);
	ev_timer_set(&retry_timer, retry_s, 0.);
	ev_timer_start(loop, &retry_timer);
	if ((retry_s *= 2) > RETRY_MAX_S)
		retry_s = RETRY_MAX_S;
}

/* Failed: when nothing is on its way, reconnect or write again. */
static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (failure == NULL)
		return;
	retry_arm();
	if (pg_flight != NULL)
		return;
	if (pg_conn_ready())
		submit(1);
	else
		pg_reconnect();
}

/* A new connection is up: the retry goes at once, taking the lock. */
void
pg_connected(void)
{
	need_lock = 1;
	need_rollback = 0;
	if (failure != NULL && pg_flight == NULL)
		submit(1);
}

/* The store turns failed (once), retried from now on. */
static void
fail(const char *err)
{
	if (failure != NULL)
		return;
	failure = store_strdup(err);
	failed_since = mono_ms();
	log_warnx("%s: a write failed (%s); mobkitd is degraded: new inputs "
	    "are refused, the database is retried every second", pg_desc,
	    failure);
	store_report("store.write_failed", failure, 0);
	retry_s = RETRY_FIRST_S;
	retry_arm();
}

/* The strings of a row. */
static void
row_free(struct pg_row *r)
{
	free(r->id);
	free(r->member);
	free(r->key);
	free(r->text);
	free(r->result);
	free(r->error);
	free(r->held);
}

/* A batch and its rows; afters still there hear "store: closed". */
void
pg_batch_free(struct pg_batch *b)
{
	struct pg_after *a;
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
run_afters(struct pg_batch *b)
{
	struct pg_after *a;

	while ((a = TAILQ_FIRST(&b->afters)) != NULL) {
		TAILQ_REMOVE(&b->afters, a, entry);
		a->fn(a->arg, b->err);
		free(a);
	}
}

/* A batch is committed: its inputs are durable, its answers go out. */
static void
batch_committed(struct pg_batch *b)
{
	struct pg_row *r;
	size_t i;

	if (failure != NULL) {
		log_warnx("%s: the store writes again, after %llu ms; mobkitd "
		    "is no longer degraded", pg_desc,
		    (unsigned long long)(mono_ms() - failed_since));
		store_report("store.recovered", NULL,
		    (int64_t)(mono_ms() - failed_since));
		free(failure);
		failure = NULL;
		ev_timer_stop(store_loop(), &retry_timer);
		retry_s = RETRY_FIRST_S;
	}
	for (i = 0; i < b->n; i++) {
		r = &b->rows[i];
		if (r->kind == P_INPUT && r->fin != 0 && r->skip != W_SKIP &&
		    r->skip != W_FORWARD)
			pgm_finished(r->member, r->id, r->key, r->state,
			    r->attempts, r->result, r->error, r->fin);
	}
	for (i = 0; i < b->n; i++) {
		r = &b->rows[i];
		if (r->kind != P_INPUT || r->skip == W_SKIP)
			continue;
		if (r->held != NULL && strcmp(r->held, r->id) != 0)
			store_deduped(r->member, r->id, r->held);
		else
			store_saved(r->member, r->id, NULL);
	}
	run_afters(b);
	for (i = 0; i < b->n; i++)
		if (b->rows[i].kind == P_INPUT && b->rows[i].skip != W_SKIP)
			store_released(b->rows[i].member, b->rows[i].id);
}

/*
 * A batch was not written.  Its inputs hear the error: new ones are
 * rejected (their rows are deleted by the retry, in case the COMMIT went
 * through unanswered), updates of inputs already durable are pulled
 * again; appends, clears, claims, usage and the peer graph are kept to
 * be written with the retry; delivery records are saved again by
 * deliveries.c's own after-commit callbacks.
 */
static void
batch_failed(struct pg_batch *b)
{
	struct pg_row *r, *k;
	size_t i;

	if (lease_lost(b))
		return;
	if (strstr(b->err, "mobkit: node taken: ") != NULL)
		cluster_taken(b->err);
	if (failure == NULL)
		fail(b->err);
	else if (b->retry)
		log_debug("%s: the retry failed too (%s)", pg_desc, b->err);
	need_rollback = 1;
	for (i = 0; i < b->n; i++) {
		r = &b->rows[i];
		switch (r->kind) {
		case P_INPUT:
			row_add_to(pg_redo, P_FORGET)->id =
			    store_strdup(r->id);
			store_saved(r->member, r->id, b->err);
			continue;
		case P_DELIVERY:
			continue;
		}
		k = row_add_to(pg_redo, r->kind);
		*k = *r;
		memset(r, 0, sizeof(*r));
	}
	if (b->peers)
		store_peers_again();
	run_afters(b);
}

/*
 * The fencing check failed: another node took members this batch wrote
 * for.  Not a failure of the store: those members are dropped here
 * (cluster.c), and everything goes again at once, where their rows are
 * no longer written (and their new inputs are written for their node);
 * what waited on the batch waits for that one.
 */
static int
lease_lost(struct pg_batch *b)
{
	static const char tag[] = "mobkit: lease lost: ";
	struct pg_row *r, *k;
	struct pg_after *a;
	char *list, *m, *save;
	size_t i;

	if ((list = strstr(b->err, tag)) == NULL)
		return 0;
	if ((list = strdup(list + sizeof(tag) - 1)) == NULL)
		fatal("strdup");
	for (m = strtok_r(list, " ", &save); m != NULL;
	    m = strtok_r(NULL, " ", &save))
		cluster_lost(m, "another node took it");
	free(list);
	need_rollback = 1;
	for (i = 0; i < b->n; i++) {
		r = &b->rows[i];
		free(r->held);
		r->held = NULL;
		k = row_add_to(pg_redo, r->kind);
		*k = *r;
		memset(r, 0, sizeof(*r));
	}
	if (b->peers)
		store_peers_again();
	while ((a = TAILQ_LAST(&b->afters, pg_after_q)) != NULL) {
		TAILQ_REMOVE(&b->afters, a, entry);
		TAILQ_INSERT_HEAD(&pg_cur->afters, a, entry);
	}
	return 1;
}

/* A row's answer (a result of the pipeline, by index): what
 * mobkit.accept() says holds the input's key. */
void
pg_batch_result(struct pg_batch *b, int at, const PGresult *res)
{
	struct pg_row *r;

	while (b->wcur < b->n && b->rows[b->wcur].res_at < at)
		b->wcur++;
	if (b->wcur == b->n || (r = &b->rows[b->wcur])->res_at != at)
		return;
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0))
		r->held = store_strdup(PQgetvalue(res, 0, 0));
}

/* The answer to the batch in flight (store_pg_conn.c): settle it. */
void
pg_batch_done(struct pg_batch *b)
{
	if (b != pg_flight)
		fatalx("store: an answer for a batch not in flight");
	pg_flight = NULL;
	if (b->err == NULL && !b->committed)
		b->err = store_strdup("store: the COMMIT was not answered");
	if (b->err == NULL)
		batch_committed(b);
	else
		batch_failed(b);
	pg_batch_free(b);
}

/* The connection is gone (why: "store: ..."): the batch in flight fails. */
void
pg_lost(const char *why)
{
	struct pg_batch *b = pg_flight;

	if (b != NULL) {
		free(b->err);
		b->err = store_strdup(why);
		b->committed = 0;
		pg_batch_done(b);
	} else
		fail(why);
}

/* After the load: the loop flushes from now on. */
void
pg_start(void)
{
	struct ev_loop *loop = store_loop();

	boot_ms = wall_ms();
	ev_prepare_init(&committer, commit_cb);
	ev_set_priority(&committer, EV_MAXPRI);	/* before the write flush */
	ev_prepare_start(loop, &committer);
	ev_timer_init(&retry_timer, retry_cb, RETRY_FIRST_S, 0.);
	pg_conn_start();
	started = 1;
}

/*
 * Block until everything queued is written or failed (shutdown): a lost
 * connection is tried once more, the rest waits at most a few seconds.
 */
int
pg_commit(void)
{
	if (!started)
		return 0;
	if (pg_flight != NULL)
		(void)pg_wait(5000);
	if (pg_flight == NULL && !pg_conn_ready() &&
	    pg_reconnect_blocking() == 0)
		pg_connected();
	if (pg_flight == NULL && pg_conn_ready())
		submit(failure != NULL);
	if (pg_flight != NULL)
		(void)pg_wait(10000);
	return 0;
}

/* Write what is left and stop the loop's watchers. */
void
pg_stop(void)
{
	struct ev_loop *loop;

	if (started) {
		loop = store_loop();
		(void)pg_commit();
		if (pg_flight != NULL)
			pg_lost("store: no answer from the database at exit");
		if (failure != NULL && pg_redo->n + pg_cur->n +
		    store_dirty() > 0)
			log_warnx("%s: %zu change(s) could not be written "
			    "before exit: %s", pg_desc, pg_redo->n +
			    pg_cur->n + store_dirty(), failure);
		ev_prepare_stop(loop, &committer);
		ev_timer_stop(loop, &retry_timer);
		pg_conn_stop();
		started = 0;
	}
	free(failure);
	failure = NULL;
	need_lock = need_rollback = 0;
}
