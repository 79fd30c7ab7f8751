/*
 * store.c: the durable store under state_dir, SQLite in WAL mode.
 *
 * Changes are not written one by one: an input that changes is marked
 * dirty, and just before the loop would block (an ev_prepare watcher) all
 * of them go to disk in one transaction -- group commit.  Only after that
 * commit are "accepted" answers sent and new inputs handed to workers,
 * so nothing is acknowledged or run before it is on disk.
 *
 * What is written is what recovery needs: an input when it is accepted,
 * when it fails a run, and when it finishes (running is not written: after
 * a crash a running input is queued again anyway); a turn's messages are
 * appended.  The tables have no secondary index: only the start-up load
 * reads them, and it sorts once.
 */
#include <sys/queue.h>

#include <pthread.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "mobkitd.h"
#include "timeutil.h"

/* One row change, copied out of the loop's structures for the writer. */
struct row {
	int		 kind;		/* R_INPUT, R_FORGET, R_APPEND, R_CLEAR */
	char		*id, *member, *key, *text, *result, *error;
	int64_t		 seq, accepted;
	int		 state, attempts;
	size_t		 len;		/* of text, for blobs */
};
enum { R_INPUT, R_FORGET, R_APPEND, R_CLEAR, R_CLAIM, R_DELIVERY };

struct after {
	TAILQ_ENTRY(after)	 entry;
	void			(*fn)(void *);
	void			*arg;
};

/* What one transaction writes, and what runs once it is committed. */
struct batch {
	TAILQ_ENTRY(batch)	 entry;
	struct row		*rows;
	size_t			 n, cap;
	struct strlist		 edges;		/* "a\tb" */
	int			 peers;		/* rewrite the peer table */
	TAILQ_HEAD(, after)	 afters;
	int			 failed;
};

static sqlite3		*db;
static sqlite3_stmt	*st_upsert, *st_forget, *st_snap, *st_nosnap, *st_claim;
static sqlite3_stmt	*st_delivery;
static ev_prepare	 committer;
static ev_async		 committed;
static struct batch	*cur;		/* being filled by the loop */
static struct {
	struct input	*in;
	char		*member;
} *dirty;
static size_t		 ndirty, capdirty;
static int		 peers_dirty;

/* The writer thread and its two queues. */
static pthread_t	 writer;
static pthread_mutex_t	 mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	 idle_cv = PTHREAD_COND_INITIALIZER;
static TAILQ_HEAD(, batch) todo = TAILQ_HEAD_INITIALIZER(todo);
static TAILQ_HEAD(, batch) done = TAILQ_HEAD_INITIALIZER(done);
static int		 writing, quit;

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA wal_autocheckpoint=8192;"
    "PRAGMA cache_size=-65536;"
    "CREATE TABLE IF NOT EXISTS inputs (id TEXT PRIMARY KEY, member TEXT "
    "NOT NULL, seq INTEGER NOT NULL, key TEXT, text TEXT NOT NULL, state "
    "INTEGER NOT NULL, attempts INTEGER NOT NULL, accepted_ms INTEGER, "
    "result TEXT, error TEXT);"
    "DROP INDEX IF EXISTS inputs_member;"
    "CREATE TABLE IF NOT EXISTS messages (member TEXT NOT NULL, seq "
    "INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);"
    "DROP INDEX IF EXISTS messages_member;"
    "CREATE TABLE IF NOT EXISTS peers (a TEXT NOT NULL, b TEXT NOT NULL, "
    "PRIMARY KEY (a, b));"
    "CREATE TABLE IF NOT EXISTS claims (schedule TEXT NOT NULL, due_ms "
    "INTEGER NOT NULL, PRIMARY KEY (schedule, due_ms));"
    "CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, record "
    "BLOB NOT NULL);";

int
store_enabled(void)
{
	return db != NULL;
}

static void	commit_cb(struct ev_loop *, ev_prepare *, int);
static void	committed_cb(struct ev_loop *, ev_async *, int);
static void	*writer_main(void *);

static int
prepare(const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		log_warnx("store: %s: %s", sql, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static struct batch *
batch_new(void)
{
	struct batch *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal("calloc");
	TAILQ_INIT(&b->afters);
	return b;
}

/* Open (or create) the store in dir; the writer starts with store_start. */
int
store_open(const char *dir)
{
	char path[4096], *err = NULL;

	snprintf(path, sizeof(path), "%s/mobkit.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		log_warnx("store: cannot open %s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, schema, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("store: %s: %s", path, err);
		sqlite3_free(err);
		return -1;
	}
	if (prepare("INSERT INTO inputs (id, member, seq, key, text, state, "
	    "attempts, accepted_ms, result, error) VALUES (?,?,?,?,?,?,?,?,?,?) "
	    "ON CONFLICT(id) DO UPDATE SET state=excluded.state, "
	    "attempts=excluded.attempts, result=excluded.result, "
	    "error=excluded.error", &st_upsert) == -1 ||
	    prepare("DELETE FROM inputs WHERE id = ?", &st_forget) == -1 ||
	    prepare("INSERT INTO messages (member, data) VALUES (?, ?)",
	    &st_snap) == -1 ||
	    prepare("DELETE FROM messages WHERE member = ?", &st_nosnap) == -1 ||
	    prepare("INSERT OR IGNORE INTO claims (schedule, due_ms) VALUES "
	    "(?, ?)", &st_claim) == -1 ||
	    prepare("INSERT OR REPLACE INTO deliveries (id, record) VALUES "
	    "(?, ?)", &st_delivery) == -1)
		return -1;
	cur = batch_new();
	log_info("store: %s (SQLite %s, WAL, group commit on a writer thread)",
	    path, sqlite3_libversion());
	return 0;
}

/* After the load: from now on only the writer thread touches the db. */
static int
store_start(void)
{
	ev_prepare_init(&committer, commit_cb);
	ev_set_priority(&committer, EV_MAXPRI);	/* before the write flush */
	ev_prepare_start(D->loop, &committer);
	ev_async_init(&committed, committed_cb);
	ev_async_start(D->loop, &committed);
	if (pthread_create(&writer, NULL, writer_main, NULL) != 0) {
		log_warnx("store: cannot start the writer thread");
		return -1;
	}
	return 0;
}

/* Mark an input to be written with the next batch. */
void
store_input(struct mbox *mb, struct input *in)
{
	void *nd;

	if (db == NULL || in->dirty)
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

static struct row *
row_add(int kind)
{
	struct row *r;

	if (cur->n == cur->cap) {
		cur->cap = cur->cap ? cur->cap * 2 : 256;
		if ((cur->rows = reallocarray(cur->rows, cur->cap,
		    sizeof(*cur->rows))) == NULL)
			fatal("reallocarray");
	}
	r = &cur->rows[cur->n++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	return r;
}

static char *
dup_or_null(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		fatal("strdup");
	return d;
}

/* An input is freed: it must not stay in the dirty set. */
void
store_input_drop(struct input *in)
{
	size_t i;

	if (db == NULL || !in->dirty)
		return;
	for (i = 0; i < ndirty; i++)
		if (dirty[i].in == in)
			dirty[i].in = NULL;
	in->dirty = 0;
}

/* An input is about to be freed: drop it from the dirty set and the db. */
void
store_input_forget(struct mbox *mb, struct input *in)
{
	size_t i;

	(void)mb;
	if (db == NULL)
		return;
	if (in->dirty)
		for (i = 0; i < ndirty; i++)
			if (dirty[i].in == in)
				dirty[i].in = NULL;
	in->dirty = 0;
	row_add(R_FORGET)->id = dup_or_null(in->id);
}

/* A turn's messages are appended, a reset clears them: never rewritten. */
void
store_snapshot_append(struct mbox *mb, const char *messages)
{
	struct row *r;

	if (db == NULL)
		return;
	r = row_add(R_APPEND);
	r->member = dup_or_null(mb->id);
	r->text = dup_or_null(messages);
}

void
store_snapshot_clear(struct mbox *mb)
{
	if (db != NULL)
		row_add(R_CLEAR)->member = dup_or_null(mb->id);
}

/* A delivery record changed: its whole (msgpack) record is written. */
void
store_delivery(const char *id, const char *blob, size_t len)
{
	struct row *r;

	if (db == NULL)
		return;
	r = row_add(R_DELIVERY);
	r->id = dup_or_null(id);
	if ((r->text = malloc(len ? len : 1)) == NULL)
		fatal("malloc");
	memcpy(r->text, blob, len);
	r->len = len;
}

/* A schedule's due time was claimed: it must never fire again. */
void
store_claim(const char *schedule, int64_t due_ms)
{
	struct row *r;

	if (db == NULL)
		return;
	r = row_add(R_CLAIM);
	r->member = dup_or_null(schedule);
	r->seq = due_ms;
}

void
store_peers(void)
{
	peers_dirty = 1;
}

void
store_after_commit(void (*fn)(void *), void *arg)
{
	struct after *a;

	if (db == NULL) {
		fn(arg);
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	a->fn = fn;
	a->arg = arg;
	TAILQ_INSERT_TAIL(&cur->afters, a, entry);
}

/* Copy the dirty inputs and the peer graph into the current batch. */
static void
batch_fill(void)
{
	struct child *c, *o;
	char k[300];
	size_t i;

	for (i = 0; i < ndirty; i++) {
		struct input *in = dirty[i].in;
		struct row *r;

		if (in == NULL)
			continue;
		in->dirty = 0;
		r = row_add(R_INPUT);
		r->id = dup_or_null(in->id);
		r->member = dup_or_null(dirty[i].member);
		r->key = dup_or_null(in->key);
		r->text = dup_or_null(in->text);
		r->result = dup_or_null(in->result);
		r->error = dup_or_null(in->error);
		r->seq = (int64_t)in->seq;
		r->accepted = (int64_t)in->accepted_ms;
		r->state = in->state == IN_RUNNING ? IN_QUEUED : in->state;
		r->attempts = in->attempts;
	}
	ndirty = 0;
	if (peers_dirty) {
		cur->peers = 1;
		TAILQ_FOREACH(c, &D->children, entry)
			TAILQ_FOREACH(o, &D->children, entry)
				if (c->mbox != NULL && o->mbox != NULL &&
				    strcmp(c->name, o->name) < 0 &&
				    peers_wired(c->name, o->name)) {
					snprintf(k, sizeof(k), "%s\t%s", c->name,
					    o->name);
					(void)strlist_add(&cur->edges, k);
				}
		peers_dirty = 0;
	}
}

/* Hand the current batch to the writer (from the loop, before blocking). */
static void
batch_submit(void)
{
	batch_fill();
	if (cur->n == 0 && !cur->peers && TAILQ_EMPTY(&cur->afters))
		return;
	pthread_mutex_lock(&mtx);
	TAILQ_INSERT_TAIL(&todo, cur, entry);
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mtx);
	cur = batch_new();
}

static void
commit_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	batch_submit();
}

static void
batch_free(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		struct row *r = &b->rows[i];

		free(r->id);
		free(r->member);
		free(r->key);
		free(r->text);
		free(r->result);
		free(r->error);
	}
	free(b->rows);
	strlist_free(&b->edges);
	free(b);
}

/* Committed batches, in order: now their answers may go out. */
static void
committed_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct batch *b;
	struct after *a;

	(void)loop;
	(void)w;
	(void)revents;
	for (;;) {
		pthread_mutex_lock(&mtx);
		if ((b = TAILQ_FIRST(&done)) != NULL)
			TAILQ_REMOVE(&done, b, entry);
		pthread_mutex_unlock(&mtx);
		if (b == NULL)
			break;
		if (b->failed)
			log_warnx("store: a batch of %zu change(s) was not "
			    "written (see above); going on from memory", b->n);
		while ((a = TAILQ_FIRST(&b->afters)) != NULL) {
			TAILQ_REMOVE(&b->afters, a, entry);
			a->fn(a->arg);
			free(a);
		}
		batch_free(b);
	}
}

/* --- the writer thread: the only user of db once started ------------- */

static int
step(sqlite3_stmt *st)
{
	int r = sqlite3_step(st);

	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		log_warnx("store: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int
write_peers(struct batch *b)
{
	sqlite3_stmt *st;
	char *tab;
	int i, r = 0;

	if (sqlite3_exec(db, "DELETE FROM peers", NULL, NULL, NULL) != SQLITE_OK
	    || prepare("INSERT OR IGNORE INTO peers (a, b) VALUES (?, ?)",
	    &st) == -1)
		return -1;
	for (i = 0; i < b->edges.n; i++) {
		tab = strchr(b->edges.v[i], '\t');
		*tab = '\0';
		bind_text(st, 1, b->edges.v[i]);
		bind_text(st, 2, tab + 1);
		r |= step(st);
		*tab = '\t';
	}
	sqlite3_finalize(st);
	return r;
}

static int
rows_write(struct batch *b)
{
	size_t i;
	int r = 0;

	for (i = 0; i < b->n; i++) {
		struct row *w = &b->rows[i];

		switch (w->kind) {
		case R_INPUT:
			bind_text(st_upsert, 1, w->id);
			bind_text(st_upsert, 2, w->member);
			sqlite3_bind_int64(st_upsert, 3, w->seq);
			bind_text(st_upsert, 4, w->key);
			bind_text(st_upsert, 5, w->text);
			sqlite3_bind_int(st_upsert, 6, w->state);
			sqlite3_bind_int(st_upsert, 7, w->attempts);
			sqlite3_bind_int64(st_upsert, 8, w->accepted);
			bind_text(st_upsert, 9, w->result);
			bind_text(st_upsert, 10, w->error);
			r |= step(st_upsert);
			break;
		case R_FORGET:
			bind_text(st_forget, 1, w->id);
			r |= step(st_forget);
			break;
		case R_APPEND:
			bind_text(st_snap, 1, w->member);
			bind_text(st_snap, 2, w->text);
			r |= step(st_snap);
			break;
		case R_CLEAR:
			bind_text(st_nosnap, 1, w->member);
			r |= step(st_nosnap);
			break;
		case R_CLAIM:
			bind_text(st_claim, 1, w->member);
			sqlite3_bind_int64(st_claim, 2, w->seq);
			r |= step(st_claim);
			break;
		case R_DELIVERY:
			bind_text(st_delivery, 1, w->id);
			sqlite3_bind_blob(st_delivery, 2, w->text, (int)w->len,
			    SQLITE_STATIC);
			r |= step(st_delivery);
			break;
		}
	}
	if (b->peers)
		r |= write_peers(b);
	return r;
}

/*
 * The writer: take every batch waiting and commit them in one
 * transaction, so the longer a commit takes, the more the next one
 * carries (group commit), and the loop never waits for the disk.
 */
static void *
writer_main(void *arg)
{
	TAILQ_HEAD(, batch) mine = TAILQ_HEAD_INITIALIZER(mine);
	struct batch *b;
	int r;

	(void)arg;
	pthread_mutex_lock(&mtx);
	for (;;) {
		while (TAILQ_EMPTY(&todo) && !quit)
			pthread_cond_wait(&cv, &mtx);
		if (TAILQ_EMPTY(&todo) && quit)
			break;
		TAILQ_CONCAT(&mine, &todo, entry);
		writing = 1;
		pthread_mutex_unlock(&mtx);
		r = 0;
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
			log_warnx("store: BEGIN: %s", sqlite3_errmsg(db));
			r = -1;
		} else {
			TAILQ_FOREACH(b, &mine, entry)
				r |= rows_write(b);
			if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) !=
			    SQLITE_OK) {
				log_warnx("store: COMMIT: %s",
				    sqlite3_errmsg(db));
				(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL,
				    NULL);
				r = -1;
			}
		}
		TAILQ_FOREACH(b, &mine, entry)
			b->failed = r != 0;
		pthread_mutex_lock(&mtx);
		TAILQ_CONCAT(&done, &mine, entry);
		writing = 0;
		pthread_cond_broadcast(&idle_cv);
		ev_async_send(D->loop, &committed);
	}
	pthread_mutex_unlock(&mtx);
	return NULL;
}

/* Block until everything submitted is on disk (shutdown, tests). */
int
store_commit(void)
{
	if (db == NULL)
		return 0;
	batch_submit();
	pthread_mutex_lock(&mtx);
	while (!TAILQ_EMPTY(&todo) || writing)
		pthread_cond_wait(&idle_cv, &mtx);
	pthread_mutex_unlock(&mtx);
	committed_cb(D->loop, &committed, 0);
	return 0;
}

void
store_close(void)
{
	if (db == NULL)
		return;
	(void)store_commit();
	pthread_mutex_lock(&mtx);
	quit = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mtx);
	pthread_join(writer, NULL);
	ev_prepare_stop(D->loop, &committer);
	ev_async_stop(D->loop, &committed);
	sqlite3_finalize(st_upsert);
	sqlite3_finalize(st_forget);
	sqlite3_finalize(st_snap);
	sqlite3_finalize(st_nosnap);
	sqlite3_finalize(st_claim);
	sqlite3_finalize(st_delivery);
	sqlite3_close(db);
	db = NULL;
}

/* Load every member's inputs, snapshot and the peer graph. */
int
store_load(void)
{
	sqlite3_stmt *st;
	struct child *c;
	int n = 0, orphans = 0;

	if (db == NULL)
		return 0;
	if (prepare("SELECT id, member, seq, key, text, state, attempts, "
	    "accepted_ms, result, error FROM inputs ORDER BY member, seq",
	    &st) == -1)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *member = (const char *)sqlite3_column_text(st, 1);
		struct input *in;
		int state = sqlite3_column_int(st, 5);

		if ((c = child_find(member)) == NULL || c->mbox == NULL) {
			orphans++;
			continue;
		}
		in = mbox_add(c->mbox, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 4),
		    (const char *)sqlite3_column_text(st, 3),
		    (uint64_t)sqlite3_column_int64(st, 2));
		in->attempts = sqlite3_column_int(st, 6);
		in->accepted_ms = (uint64_t)sqlite3_column_int64(st, 7);
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			in->result = strdup((const char *)
			    sqlite3_column_text(st, 8));
		if (sqlite3_column_type(st, 9) != SQLITE_NULL)
			in->error = strdup((const char *)
			    sqlite3_column_text(st, 9));
		if (state != IN_QUEUED && state != IN_RUNNING) {
			TAILQ_REMOVE(&c->mbox->queue, in, qentry);
			c->mbox->nqueued--;
			in->state = state;
		}
		n++;
	}
	sqlite3_finalize(st);
	if (prepare("SELECT member, data FROM messages ORDER BY member, seq",
	    &st) == -1)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		c = child_find((const char *)sqlite3_column_text(st, 0));
		if (c != NULL && c->mbox != NULL)
			mbox_snapshot_append(c->mbox, (const char *)
			    sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (prepare("SELECT a, b FROM peers", &st) == -1)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW)
		(void)peers_add((const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	if (prepare("SELECT record FROM deliveries ORDER BY rowid", &st) == -1)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW)
		delivery_restore(sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
	if (prepare("SELECT schedule, due_ms FROM claims", &st) == -1)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW)
		claim_note((const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int64(st, 1));
	sqlite3_finalize(st);
	peers_dirty = 0;
	log_info("store: loaded %d input(s)%s", n, orphans ? "; inputs of "
	    "members no longer configured were left on disk" : "");
	if (store_start() == -1)
		fatalx("store: no writer thread");
	return n;
}
