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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "mobkitd.h"
#include "timeutil.h"

struct op {
	TAILQ_ENTRY(op)	 entry;
	int		 kind;		/* OP_INPUT, OP_FORGET, OP_SNAPSHOT */
	char		*a, *b;		/* id or member, snapshot */
	struct input	*in;		/* OP_INPUT */
	char		*member;
};
enum { OP_INPUT, OP_FORGET, OP_SNAPSHOT };

struct after {
	TAILQ_ENTRY(after)	 entry;
	void			(*fn)(void *);
	void			*arg;
};

static sqlite3		*db;
static sqlite3_stmt	*st_upsert, *st_forget, *st_snap, *st_nosnap;
static TAILQ_HEAD(, op)	 ops = TAILQ_HEAD_INITIALIZER(ops);
static TAILQ_HEAD(, after) afters = TAILQ_HEAD_INITIALIZER(afters);
static int		 peers_dirty;
static ev_prepare	 committer;
static struct {
	struct input	*in;
	char		*member;
} *dirty;
static size_t		 ndirty, capdirty;

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
    "PRIMARY KEY (a, b));";

int
store_enabled(void)
{
	return db != NULL;
}

static void	commit_cb(struct ev_loop *, ev_prepare *, int);

static int
prepare(const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		log_warnx("store: %s: %s", sql, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* Open (or create) the store in dir. */
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
	    prepare("DELETE FROM messages WHERE member = ?", &st_nosnap) == -1)
		return -1;
	ev_prepare_init(&committer, commit_cb);
	ev_set_priority(&committer, EV_MAXPRI);	/* before the write flush */
	ev_prepare_start(D->loop, &committer);
	log_info("store: %s (SQLite %s, WAL, group commit)", path,
	    sqlite3_libversion());
	return 0;
}

void
store_close(void)
{
	if (db == NULL)
		return;
	(void)store_commit();
	ev_prepare_stop(D->loop, &committer);
	sqlite3_finalize(st_upsert);
	sqlite3_finalize(st_forget);
	sqlite3_finalize(st_snap);
	sqlite3_finalize(st_nosnap);
	sqlite3_close(db);
	db = NULL;
}

/* Mark an input to be written at the next commit. */
void
store_input(struct mbox *mb, struct input *in)
{
	void *nd;

	if (db == NULL)
		return;
	if (in->dirty)
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

static void
op_add(int kind, const char *a, const char *b)
{
	struct op *o;

	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->a = strdup(a)) == NULL ||
	    (b != NULL && (o->b = strdup(b)) == NULL))
		fatal("calloc");
	o->kind = kind;
	TAILQ_INSERT_TAIL(&ops, o, entry);
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
	op_add(OP_FORGET, in->id, NULL);
}

/* A turn's messages are appended, a reset clears them: never rewritten. */
void
store_snapshot_append(struct mbox *mb, const char *messages)
{
	if (db != NULL)
		op_add(OP_SNAPSHOT, mb->id, messages);
}

void
store_snapshot_clear(struct mbox *mb)
{
	if (db != NULL)
		op_add(OP_SNAPSHOT, mb->id, NULL);
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
	TAILQ_INSERT_TAIL(&afters, a, entry);
}

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
write_peers(void)
{
	sqlite3_stmt *st;
	struct child *c;
	int r = 0;

	if (sqlite3_exec(db, "DELETE FROM peers", NULL, NULL, NULL) != SQLITE_OK
	    || prepare("INSERT OR IGNORE INTO peers (a, b) VALUES (?, ?)",
	    &st) == -1)
		return -1;
	TAILQ_FOREACH(c, &D->children, entry) {
		struct child *o;

		if (c->mbox == NULL)
			continue;
		TAILQ_FOREACH(o, &D->children, entry) {
			if (o->mbox == NULL || strcmp(c->name, o->name) >= 0 ||
			    !peers_wired(c->name, o->name))
				continue;
			bind_text(st, 1, c->name);
			bind_text(st, 2, o->name);
			r |= step(st);
		}
	}
	sqlite3_finalize(st);
	return r;
}

/* Write everything dirty in one transaction, then run the after-hooks. */
int
store_commit(void)
{
	struct after *a;
	struct op *o;
	size_t i;
	int r = 0;

	if (db == NULL || (ndirty == 0 && TAILQ_EMPTY(&ops) && !peers_dirty &&
	    TAILQ_EMPTY(&afters)))
		return 0;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("store: BEGIN: %s", sqlite3_errmsg(db));
		return -1;
	}
	for (i = 0; i < ndirty; i++) {
		struct input *in = dirty[i].in;

		if (in == NULL)
			continue;
		in->dirty = 0;
		bind_text(st_upsert, 1, in->id);
		bind_text(st_upsert, 2, dirty[i].member);
		sqlite3_bind_int64(st_upsert, 3, (sqlite3_int64)in->seq);
		bind_text(st_upsert, 4, in->key);
		bind_text(st_upsert, 5, in->text);
		sqlite3_bind_int(st_upsert, 6, in->state);
		sqlite3_bind_int(st_upsert, 7, in->attempts);
		sqlite3_bind_int64(st_upsert, 8,
		    (sqlite3_int64)in->accepted_ms);
		bind_text(st_upsert, 9, in->result);
		bind_text(st_upsert, 10, in->error);
		r |= step(st_upsert);
	}
	ndirty = 0;
	while ((o = TAILQ_FIRST(&ops)) != NULL) {
		TAILQ_REMOVE(&ops, o, entry);
		if (o->kind == OP_FORGET) {
			bind_text(st_forget, 1, o->a);
			r |= step(st_forget);
		} else if (o->b != NULL) {
			bind_text(st_snap, 1, o->a);
			bind_text(st_snap, 2, o->b);
			r |= step(st_snap);
		} else {
			bind_text(st_nosnap, 1, o->a);
			r |= step(st_nosnap);
		}
		free(o->a);
		free(o->b);
		free(o);
	}
	if (peers_dirty) {
		r |= write_peers();
		peers_dirty = 0;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("store: COMMIT: %s", sqlite3_errmsg(db));
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (r != 0)
		log_warnx("store: some writes failed (see above)");
	while ((a = TAILQ_FIRST(&afters)) != NULL) {
		TAILQ_REMOVE(&afters, a, entry);
		a->fn(a->arg);
		free(a);
	}
	return r;
}

static void
commit_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	(void)store_commit();
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
	peers_dirty = 0;
	log_info("store: loaded %d input(s)%s", n, orphans ? "; inputs of "
	    "members no longer configured were left on disk" : "");
	return n;
}
