/*
 * store_sqlite_write.c: the SQLite store's writer thread and retention.
 *
 * The writer takes every batch waiting and commits them in one
 * transaction, so the longer a commit takes, the more the next one
 * carries (group commit), and the loop never waits for the disk.  After
 * a failure every batch fails unwritten (order is kept) until the loop
 * sends a retry.  The writer never logs: what failed goes back in the
 * batch and the loop says it.
 *
 * Finished inputs stay on disk, not in memory; the writer forgets the
 * oldest beyond the retention limits in the same transaction that adds
 * new ones, keeping its own count of finished inputs per member and the
 * oldest finish time each still has.  There is no per-member index of
 * finish times (it cost a page per member per commit): both limits go
 * through inputs_done, by finish time over all members.
 */
#include <sys/queue.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "log.h"
#include "store_sqlite.h"
#include "timeutil.h"

#define TX_ROWS		8192	/* rows in one transaction, about */

/* Finished inputs on disk per member: the writer's own count. */
struct mcount {
	char		*member;
	int64_t		 n;		/* committed */
	int64_t		 next;		/* in the open transaction */
	int64_t		 lo;		/* none of its finish times is older */
	int64_t		 lo_next;
	int		 touched;
	UT_hash_handle	 hh;
};

static sqlite3_stmt	*st_upsert, *st_final, *st_insfinal, *st_snap;
static sqlite3_stmt	*st_nosnap, *st_claim, *st_delivery, *st_nodelivery;
static sqlite3_stmt	*st_keeptime, *st_keepmax, *st_probe, *st_peer;
static sqlite3_stmt	*st_nopeers, *st_noclaim, *st_oldtime, *st_forget;
static sqlite3_stmt	*st_usage;
static struct mcount	*counts;
static uint64_t		 swept;		/* mono ms of the last time sweep */

/* The writer's statements, prepared once at open. */
static const struct {
	sqlite3_stmt	**st;
	const char	 *sql;
} stmts[] = {
	{ &st_upsert, "INSERT INTO inputs (id, member, seq, key, text, state, "
	    "attempts, accepted_ms, result, error) VALUES (?,?,?,?,?,?,?,?,?,?) "
	    "ON CONFLICT(id) DO UPDATE SET state=excluded.state, "
	    "attempts=excluded.attempts, result=excluded.result, "
	    "error=excluded.error" },
	{ &st_final, "UPDATE inputs SET state=?2, attempts=?3, result=?4, "
	    "error=?5, fin=?6 WHERE id=?1 AND fin IS NULL" },
	{ &st_insfinal, "INSERT INTO inputs (id, member, seq, key, text, "
	    "state, attempts, accepted_ms, result, error, fin) VALUES "
	    "(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING" },
	{ &st_snap, "INSERT INTO messages (member, data) VALUES (?, ?)" },
	{ &st_nosnap, "DELETE FROM messages WHERE member = ?" },
	{ &st_claim, "INSERT OR IGNORE INTO claims (schedule, due_ms) VALUES "
	    "(?, ?)" },
	{ &st_noclaim, "DELETE FROM claims WHERE schedule = ?1 AND due_ms < "
	    "?2" },
	{ &st_delivery, "INSERT OR REPLACE INTO deliveries (id, record) "
	    "VALUES (?, ?)" },
	{ &st_nodelivery, "DELETE FROM deliveries WHERE id = ?" },
	{ &st_usage, "INSERT OR REPLACE INTO usage (member, input_tokens, "
	    "output_tokens, turns) VALUES (?, ?, ?, ?)" },
	{ &st_oldtime, "SELECT member, COUNT(*) FROM inputs INDEXED BY "
	    "inputs_done WHERE fin IS NOT NULL AND fin < ?1 GROUP BY member" },
	{ &st_keeptime, "DELETE FROM inputs INDEXED BY inputs_done WHERE fin "
	    "IS NOT NULL AND fin < ?1" },
	{ &st_keepmax, "SELECT rowid, fin FROM inputs INDEXED BY inputs_done "
	    "WHERE fin IS NOT NULL AND fin >= ?2 AND member = ?1 ORDER BY fin "
	    "LIMIT ?3" },
	{ &st_forget, "DELETE FROM inputs WHERE rowid = ?" },
	{ &st_probe, "INSERT OR REPLACE INTO meta (k, v) VALUES ('probe', ?)" },
	{ &st_peer, "INSERT OR IGNORE INTO peers (a, b) VALUES (?, ?)" },
	{ &st_nopeers, "DELETE FROM peers" },
};
#define NSTMTS	(sizeof(stmts) / sizeof(stmts[0]))

static void	 stmts_reset(void);
static void	*writer_main(void *);

/* The writer thread and its two queues. */
static pthread_t	 writer;
static pthread_mutex_t	 mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	 idle_cv = PTHREAD_COND_INITIALIZER;
TAILQ_HEAD(batchq, batch);
static struct batchq	 todo = TAILQ_HEAD_INITIALIZER(todo);
static struct batchq	 done = TAILQ_HEAD_INITIALIZER(done);
static int		 writing, quit;
static int		 halted;	/* writer: fail until a retry */
static char		*halt_err;
static struct ev_loop	*loop;
static ev_async		*wake;		/* the loop's, for batches back */

/* What failed, for the answers: "store: <SQLite's message>" (no log
 * here: the loop says it, the writer thread never logs). */
static char *
db_error(void)
{
	char *s;

	if (asprintf(&s, "store: %s", sqlite3_errmsg(sq_db)) == -1)
		fatal("asprintf");
	return s;
}

/* Run a statement to its end; -1 on an error (left for db_error). */
static int
step(sqlite3_stmt *st)
{
	int r = sqlite3_step(st);

	if (r != SQLITE_DONE)
		return -1;
	sqlite3_reset(st);
	return 0;
}

/* The writer's count of a member, opened for this transaction. */
static struct mcount *
mcount_get(const char *member)
{
	struct mcount *m;

	HASH_FIND_STR(counts, member, m);
	if (m == NULL) {
		if ((m = calloc(1, sizeof(*m))) == NULL ||
		    (m->member = strdup(member)) == NULL)
			fatal("calloc");
		HASH_ADD_KEYPTR(hh, counts, m->member, strlen(m->member), m);
	}
	if (!m->touched) {
		m->touched = 1;
		m->next = m->n;
		m->lo_next = m->lo;
	}
	return m;
}

/* The peer table, rewritten whole. */
static int
write_peers(struct batch *b)
{
	char *tab;
	int i, r = 0;

	if (step(st_nopeers) == -1)
		return -1;
	for (i = 0; r == 0 && i < b->edges.n; i++) {
		tab = strchr(b->edges.v[i], '\t');
		*tab = '\0';
		sq_bind_text(st_peer, 1, b->edges.v[i]);
		sq_bind_text(st_peer, 2, tab + 1);
		r = step(st_peer);
		*tab = '\t';
	}
	return r;
}

/* The ten columns of an input row. */
static void
bind_input(sqlite3_stmt *st, const struct row *w)
{
	sq_bind_text(st, 1, w->id);
	sq_bind_text(st, 2, w->member);
	sqlite3_bind_int64(st, 3, w->seq);
	sq_bind_text(st, 4, w->key);
	sq_bind_text(st, 5, w->text);
	sqlite3_bind_int(st, 6, w->state);
	sqlite3_bind_int(st, 7, w->attempts);
	sqlite3_bind_int64(st, 8, w->accepted);
	sq_bind_text(st, 9, w->result);
	sq_bind_text(st, 10, w->error);
}

/* A finished input: counted once, however often it is written. */
static int
write_final(const struct row *w)
{
	struct mcount *m;

	sq_bind_text(st_final, 1, w->id);
	sqlite3_bind_int(st_final, 2, w->state);
	sqlite3_bind_int(st_final, 3, w->attempts);
	sq_bind_text(st_final, 4, w->result);
	sq_bind_text(st_final, 5, w->error);
	sqlite3_bind_int64(st_final, 6, w->fin);
	if (step(st_final) == -1)
		return -1;
	if (sqlite3_changes(sq_db) == 0) {
		bind_input(st_insfinal, w);
		sqlite3_bind_int64(st_insfinal, 11, w->fin);
		if (step(st_insfinal) == -1)
			return -1;
		if (sqlite3_changes(sq_db) == 0)
			return 0;	/* finished before */
	}
	m = mcount_get(w->member);
	m->next++;
	if (w->fin < m->lo_next)
		m->lo_next = w->fin;	/* the clock went back */
	return 0;
}

/* One row of a batch. */
static int
write_row(const struct row *w)
{
	switch (w->kind) {
	case R_INPUT:
		if (w->fin != 0)
			return write_final(w);
		bind_input(st_upsert, w);
		return step(st_upsert);
	case R_APPEND:
		sq_bind_text(st_snap, 1, w->member);
		sq_bind_text(st_snap, 2, w->text);
		return step(st_snap);
	case R_CLEAR:
		sq_bind_text(st_nosnap, 1, w->member);
		return step(st_nosnap);
	case R_CLAIM:
		sq_bind_text(st_claim, 1, w->member);
		sqlite3_bind_int64(st_claim, 2, w->seq);
		if (step(st_claim) == -1 || w->fin == 0)
			return w->fin == 0 ? 0 : -1;
		sq_bind_text(st_noclaim, 1, w->member);
		sqlite3_bind_int64(st_noclaim, 2, w->fin);
		return step(st_noclaim);
	case R_DELIVERY:
		sq_bind_text(st_delivery, 1, w->id);
		sqlite3_bind_blob(st_delivery, 2, w->text, (int)w->len,
		    SQLITE_STATIC);
		return step(st_delivery);
	case R_DELIVERY_FORGET:
		sq_bind_text(st_nodelivery, 1, w->id);
		return step(st_nodelivery);
	case R_USAGE:
		sq_bind_text(st_usage, 1, w->member);
		sqlite3_bind_int64(st_usage, 2, w->seq);
		sqlite3_bind_int64(st_usage, 3, w->accepted);
		sqlite3_bind_int64(st_usage, 4, w->fin);
		return step(st_usage);
	}
	return 0;
}

/*
 * The time limit, for every member at once through inputs_done, at most
 * once a second (reads skip what is past it anyway); the counts follow.
 */
static int
keep_time(int64_t ms)
{
	uint64_t now = mono_ms();
	int64_t cut;
	int r;

	if (ms < 0 || (swept != 0 && now - swept < 1000))
		return 0;
	swept = now;
	cut = (int64_t)wall_ms() - ms;
	sqlite3_bind_int64(st_oldtime, 1, cut);
	while ((r = sqlite3_step(st_oldtime)) == SQLITE_ROW)
		mcount_get((const char *)sqlite3_column_text(st_oldtime, 0))->
		    next -= sqlite3_column_int64(st_oldtime, 1);
	if (r != SQLITE_DONE)
		return -1;
	sqlite3_reset(st_oldtime);
	sqlite3_bind_int64(st_keeptime, 1, cut);
	return step(st_keeptime);
}

/* Up to 64 of a member's oldest finished inputs, found from m->lo_next. */
static int
oldest(struct mcount *m, int64_t k, int64_t *ids, int *n)
{
	int r;

	sq_bind_text(st_keepmax, 1, m->member);
	sqlite3_bind_int64(st_keepmax, 2, m->lo_next);
	sqlite3_bind_int64(st_keepmax, 3, k > 64 ? 64 : k);
	*n = 0;
	while ((r = sqlite3_step(st_keepmax)) == SQLITE_ROW) {
		ids[(*n)++] = sqlite3_column_int64(st_keepmax, 0);
		m->lo_next = sqlite3_column_int64(st_keepmax, 1);
	}
	if (r != SQLITE_DONE)
		return -1;
	sqlite3_reset(st_keepmax);
	return 0;
}

/*
 * The count limit: a member's oldest finished inputs beyond max, found
 * through inputs_done from the oldest finish time it still has (m->lo:
 * no scan over what was forgotten before), forgotten by rowid.
 */
static int
keep_count(struct mcount *m, int max)
{
	int64_t ids[64];
	int i, n;

	while (m->next > max) {
		if (oldest(m, m->next - max, ids, &n) == -1)
			return -1;
		if (n == 0 && m->lo_next != 0) {
			m->lo_next = 0;		/* look from the start */
			continue;
		}
		if (n == 0)
			break;			/* nothing left to forget */
		for (i = 0; i < n; i++) {
			sqlite3_bind_int64(st_forget, 1, ids[i]);
			if (step(st_forget) == -1)
				return -1;
			m->next -= sqlite3_changes(sq_db);
		}
	}
	return 0;
}

/* Forget the finished inputs beyond the retention limits. */
static int
keep_limits(int max, int64_t ms)
{
	struct mcount *m, *t;

	if (keep_time(ms) == -1)
		return -1;
	HASH_ITER(hh, counts, m, t)
		if (m->touched && keep_count(m, max) == -1)
			return -1;
	return 0;
}

/* The counts follow the transaction: kept on commit, dropped if not. */
static void
counts_settle(int ok)
{
	struct mcount *m, *t;

	HASH_ITER(hh, counts, m, t) {
		if (m->touched && ok) {
			m->n = m->next;
			m->lo = m->lo_next;
		}
		m->touched = 0;
	}
}

/* Every row of every batch, the probe of a retry, the limits. */
static int
batches_write(struct batch *first)
{
	struct batch *b, *last = first;
	size_t i;

	for (b = first; b != NULL; b = TAILQ_NEXT(b, entry)) {
		last = b;
		for (i = 0; i < b->n; i++)
			if (write_row(&b->rows[i]) == -1)
				return -1;
		if (b->peers && write_peers(b) == -1)
			return -1;
		if (b->retry) {
			sqlite3_bind_int64(st_probe, 1, (int64_t)wall_ms());
			if (step(st_probe) == -1)
				return -1;
		}
	}
	return keep_limits(last->keep_max, last->keep_ms);
}

/* One transaction for every batch given; NULL or what failed. */
static char *
transaction(struct batch *first)
{
	char *err = NULL;

	if (halted && !first->retry)
		return store_strdup(halt_err);
	halted = 0;
	if (sqlite3_exec(sq_db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    batches_write(first) == -1 ||
	    sqlite3_exec(sq_db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		err = db_error();
	if (err != NULL) {
		(void)sqlite3_exec(sq_db, "ROLLBACK", NULL, NULL, NULL);
		stmts_reset();
		halted = 1;
		free(halt_err);
		halt_err = store_strdup(err);
	}
	counts_settle(err == NULL);
	return err;
}

/*
 * The batches for one transaction, oldest first: every one waiting (by
 * time: all that came while the last commit was syncing), but not much
 * over TX_ROWS rows (by size: a backlog is committed in parts, the first
 * answers do not wait for the whole of it).  Called with mtx held.
 */
static void
take_some(struct batchq *mine)
{
	struct batch *b;
	size_t rows = 0;

	while ((b = TAILQ_FIRST(&todo)) != NULL &&
	    (rows == 0 || rows + b->n <= TX_ROWS)) {
		TAILQ_REMOVE(&todo, b, entry);
		TAILQ_INSERT_TAIL(mine, b, entry);
		rows += b->n + 1;
	}
}

/*
 * The writer: take the batches waiting and commit them in one
 * transaction, so the longer a commit takes, the more the next one
 * carries (group commit), and the loop never waits for the disk.  After
 * a failure every batch fails unwritten (order is kept) until the loop
 * sends a retry.
 */
static void *
writer_main(void *arg)
{
	struct batchq mine = TAILQ_HEAD_INITIALIZER(mine);
	struct batch *b;
	char *err;

	(void)arg;
	pthread_mutex_lock(&mtx);
	for (;;) {
		while (TAILQ_EMPTY(&todo) && !quit)
			pthread_cond_wait(&cv, &mtx);
		if (TAILQ_EMPTY(&todo) && quit)
			break;
		take_some(&mine);
		writing = 1;
		pthread_mutex_unlock(&mtx);
		err = transaction(TAILQ_FIRST(&mine));
		TAILQ_FOREACH(b, &mine, entry)
			b->err = store_strdup(err);
		free(err);
		pthread_mutex_lock(&mtx);
		TAILQ_CONCAT(&done, &mine, entry);
		writing = 0;
		pthread_cond_broadcast(&idle_cv);
		ev_async_send(loop, wake);
	}
	pthread_mutex_unlock(&mtx);
	return NULL;
}

/* Prepare the writer's statements on sq_db. */
int
sq_writer_prepare(void)
{
	size_t i;

	for (i = 0; i < NSTMTS; i++)
		if (sq_prepare(sq_db, stmts[i].sql, stmts[i].st) == -1)
			return -1;
	return 0;
}

/* After a failed transaction: every statement ready to run again. */
static void
stmts_reset(void)
{
	size_t i;

	for (i = 0; i < NSTMTS; i++)
		sqlite3_reset(*stmts[i].st);
}

/* The writer's statements are finalized (the writer has stopped). */
void
sq_writer_finalize(void)
{
	size_t i;

	for (i = 0; i < NSTMTS; i++) {
		sqlite3_finalize(*stmts[i].st);
		*stmts[i].st = NULL;
	}
	free(halt_err);
	halt_err = NULL;
	halted = 0;
}

/* Start the writer; it wakes the loop through w when batches are back. */
int
sq_writer_start(struct ev_loop *l, ev_async *w)
{
	loop = l;
	wake = w;
	quit = 0;
	return pthread_create(&writer, NULL, writer_main, NULL) == 0 ? 0 : -1;
}

/* A batch for the writer (from the loop). */
void
sq_writer_put(struct batch *b)
{
	pthread_mutex_lock(&mtx);
	TAILQ_INSERT_TAIL(&todo, b, entry);
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mtx);
}

/* The oldest batch back from the writer, or NULL. */
struct batch *
sq_writer_take(void)
{
	struct batch *b;

	pthread_mutex_lock(&mtx);
	if ((b = TAILQ_FIRST(&done)) != NULL)
		TAILQ_REMOVE(&done, b, entry);
	pthread_mutex_unlock(&mtx);
	return b;
}

/* Block until the writer has written or failed everything given. */
void
sq_writer_wait_idle(void)
{
	pthread_mutex_lock(&mtx);
	while (!TAILQ_EMPTY(&todo) || writing)
		pthread_cond_wait(&idle_cv, &mtx);
	pthread_mutex_unlock(&mtx);
}

/* Stop the writer thread (everything given was written or failed). */
void
sq_writer_stop(void)
{
	pthread_mutex_lock(&mtx);
	quit = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mtx);
	pthread_join(writer, NULL);
}

/* The counts are forgotten (close). */
void
sq_counts_free(void)
{
	struct mcount *m, *t;

	HASH_ITER(hh, counts, m, t) {
		HASH_DEL(counts, m);
		free(m->member);
		free(m);
	}
	swept = 0;
}

/* Before anything else at load: forget what is past the retention limits. */
void
sq_keep_at_load(int max, int64_t ms)
{
	struct mcount *m;
	sqlite3_stmt *st;
	int r;

	if (sq_prepare(sq_db, "SELECT member, COUNT(fin) FROM inputs GROUP BY "
	    "member", &st) == -1)
		return;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		m = mcount_get((const char *)sqlite3_column_text(st, 0));
		m->n = m->next = sqlite3_column_int64(st, 1);
	}
	if (r != SQLITE_DONE)
		log_warnx("store: %s: reading %s: %s", sq_path, "the inputs",
		    sqlite3_errmsg(sq_db));
	sqlite3_finalize(st);
	if (sqlite3_exec(sq_db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    keep_limits(max, ms) == -1 ||
	    sqlite3_exec(sq_db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("store: %s: cannot forget old inputs now: %s",
		    sq_path, sqlite3_errmsg(sq_db));
		(void)sqlite3_exec(sq_db, "ROLLBACK", NULL, NULL, NULL);
		stmts_reset();
		counts_settle(0);
		return;
	}
	counts_settle(1);
}
