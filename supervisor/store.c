/*
 * store.c: the durable store under state_dir, SQLite in WAL mode.
 *
 * Changes are not written one by one: an input that changes is marked
 * dirty, and just before the loop would block (an ev_prepare watcher) all
 * of them go to disk in one transaction -- group commit.  Only after that
 * commit are "accepted" answers sent and new inputs handed to workers,
 * so nothing is acknowledged or run before it is on disk.
 *
 * Each batch comes back with the commit's result.  When it failed (disk
 * full, I/O error, read-only file system) the store is "failed": what
 * waited on the batch hears "store: <what failed>", new inputs are the
 * requests that failed (rejected, never kept), updates of what was
 * already on disk are written again with the next attempt, and nothing
 * is submitted any more except by a retry timer, once a second, until a
 * write succeeds.
 *
 * What is written is what recovery needs: an input when it is accepted,
 * when it fails a run, and when it finishes (running is not written: after
 * a crash a running input is queued again anyway); a turn's messages are
 * appended.  Finished inputs stay on disk, not in memory: deduplication
 * and the inputs listing read them through a second, read-only
 * connection, and the writer forgets the oldest beyond the retention
 * limits in the same transaction that adds new ones.
 *
 * The file is checked when it is opened: an SQLite header, this
 * application's id, a schema version this mobkitd knows, and a quick
 * check of every page; anything else stops mobkitd rather than letting it
 * start empty over data it could not read.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <uthash.h>

#include "log.h"
#include "mpack.h"
#include "timeutil.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "mob/mailbox.h"
#include "mob/members.h"
#include "mob/schedules.h"
#include "mob/deliveries.h"
#include "store.h"

#define STORE_APP_ID	0x6d6b6974	/* "mkit" */
#define STORE_VERSION	1
#define RETRY_S		1.0		/* a failed store is retried */

/* One row change, copied out of the loop's structures for the writer. */
struct row {
	int		 kind;
	char		*id, *member, *key, *text, *result, *error;
	int64_t		 seq, accepted, fin;
	int		 state, attempts;
	size_t		 len;		/* of text, for blobs */
};
enum { R_INPUT, R_APPEND, R_CLEAR, R_CLAIM, R_DELIVERY, R_DELIVERY_FORGET };

struct after {
	TAILQ_ENTRY(after)	 entry;
	store_done_cb		 fn;
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
	int			 retry;		/* sent while failed: try it */
	int			 keep_max;	/* input retention */
	int64_t			 keep_ms;
	char			*err;		/* NULL: committed */
};

/* Finished inputs on disk per member: the writer's own count. */
struct mcount {
	char		*member;
	int64_t		 n;		/* committed */
	int64_t		 next;		/* in the open transaction */
	int		 touched;
	uint64_t	 swept;		/* mono ms of the last time sweep */
	UT_hash_handle	 hh;
};

static char		 dbpath[PATH_MAX];
static sqlite3		*db;		/* the writer's (the loop's at load) */
static sqlite3		*rdb;		/* the loop's, read only */
static sqlite3_stmt	*st_upsert, *st_final, *st_insfinal, *st_snap;
static sqlite3_stmt	*st_nosnap, *st_claim, *st_delivery, *st_nodelivery;
static sqlite3_stmt	*st_keeptime, *st_keepmax, *st_probe, *st_peer;
static sqlite3_stmt	*st_nopeers, *st_noclaim;
static sqlite3_stmt	*rd_recall, *rd_finished, *rd_history;
static ev_prepare	 committer;
static ev_async		 committed;
static ev_timer		 retry_timer;
static struct batch	*cur;		/* being filled by the loop */
static struct batch	*redo;		/* failed rows to write again */
static struct {
	struct input	*in;
	char		*member;
} *dirty;
static size_t		 ndirty, capdirty;
static int		 peers_dirty;
static int		 inflight;	/* batches sent, not yet back */
static char		*failure;	/* "store: ..." while failed */
static uint64_t		 failed_since;	/* mono ms */
static struct mcount	*counts;

/* The writer thread and its two queues. */
static pthread_t	 writer;
static pthread_mutex_t	 mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	 idle_cv = PTHREAD_COND_INITIALIZER;
static TAILQ_HEAD(, batch) todo = TAILQ_HEAD_INITIALIZER(todo);
static TAILQ_HEAD(, batch) done = TAILQ_HEAD_INITIALIZER(done);
static int		 writing, quit, started;
static int		 halted;	/* writer: fail until a retry */
static char		*halt_err;

static const char pragmas[] =
    "PRAGMA synchronous=FULL;"
    "PRAGMA wal_autocheckpoint=8192;"
    "PRAGMA cache_size=-2048;";

static const char tables[] =
    "CREATE TABLE IF NOT EXISTS inputs (id TEXT PRIMARY KEY, member TEXT "
    "NOT NULL, seq INTEGER NOT NULL, key TEXT, text TEXT NOT NULL, state "
    "INTEGER NOT NULL, attempts INTEGER NOT NULL, accepted_ms INTEGER, "
    "result TEXT, error TEXT, fin INTEGER);"
    "CREATE TABLE IF NOT EXISTS messages (member TEXT NOT NULL, seq "
    "INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS peers (a TEXT NOT NULL, b TEXT NOT NULL, "
    "PRIMARY KEY (a, b));"
    "CREATE TABLE IF NOT EXISTS claims (schedule TEXT NOT NULL, due_ms "
    "INTEGER NOT NULL, PRIMARY KEY (schedule, due_ms));"
    "CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, record "
    "BLOB NOT NULL);";

/* Version 0 to 1: finish times, the indexes, the application id. */
static const char migrate_v1[] =
    "BEGIN IMMEDIATE;"
    "ALTER TABLE inputs ADD COLUMN fin INTEGER;"
    "UPDATE inputs SET fin = COALESCE(accepted_ms, 0) WHERE state >= 2;"
    "DROP INDEX IF EXISTS inputs_member;"
    "DROP INDEX IF EXISTS messages_member;";

static const char indexes[] =
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v);"
    "CREATE INDEX IF NOT EXISTS inputs_key ON inputs (member, key) "
    "WHERE key IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS inputs_fin ON inputs (member, fin) "
    "WHERE fin IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS messages_member ON messages (member, seq);";

/* Is there a store (state_dir)? */
int
store_enabled(void)
{
	return db != NULL;
}

/* "store: <what failed>" while the store cannot write, else NULL. */
const char *
store_failure(void)
{
	return failure;
}

static void	commit_cb(struct ev_loop *, ev_prepare *, int);
static void	committed_cb(struct ev_loop *, ev_async *, int);
static void	retry_cb(struct ev_loop *, ev_timer *, int);
static void	*writer_main(void *);

/* Prepare a statement on a connection; -1 (said) when it does not. */
static int
prepare_on(sqlite3 *h, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(h, sql, -1, st, NULL) != SQLITE_OK) {
		log_warnx("store: %s: %s", sql, sqlite3_errmsg(h));
		return -1;
	}
	return 0;
}

/* Prepare a statement on the writer's connection. */
static int
prepare(const char *sql, sqlite3_stmt **st)
{
	return prepare_on(db, sql, st);
}

/* An empty batch. */
static struct batch *
batch_new(void)
{
	struct batch *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal("calloc");
	TAILQ_INIT(&b->afters);
	return b;
}

/* --- checking the file ------------------------------------------------ */

/* A big-endian 32-bit field of the SQLite header. */
static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Does the write-ahead log next to path hold anything? */
static int
wal_holds_data(const char *path, long long *size)
{
	char wal[PATH_MAX + 8];
	struct stat st;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	*size = 0;
	if (stat(wal, &st) == -1 || st.st_size == 0)
		return 0;
	*size = (long long)st.st_size;
	return 1;
}

/*
 * What the file looks like before SQLite reads it: 1 when there is none
 * (a fresh store), 0 when it has an SQLite header that fits its size, -1
 * with why set otherwise.
 */
static int
check_file(const char *path, char *why, size_t sz)
{
	unsigned char h[100];
	struct stat st;
	long long wal;
	uint32_t psz, pages;
	ssize_t n;
	int fd;

	if (stat(path, &st) == -1) {
		if (errno != ENOENT) {
			snprintf(why, sz, "cannot stat: %s", strerror(errno));
			return -1;
		}
		if (wal_holds_data(path, &wal)) {
			snprintf(why, sz, "missing, but its write-ahead log "
			    "(%s-wal) holds %lld bytes", path, wal);
			return -1;
		}
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, sz, "not a regular file");
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(why, sz, "zero-length file: not a store (a store is "
		    "never empty); restore it or move it away");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, sz, "cannot open: %s", strerror(errno));
		return -1;
	}
	n = read(fd, h, sizeof(h));
	close(fd);
	if (n == -1) {
		snprintf(why, sz, "cannot read: %s", strerror(errno));
		return -1;
	}
	if (n >= 16 && memcmp(h, "SQLite format 3", 16) != 0) {
		snprintf(why, sz, "not a mobkit store: no SQLite header");
		return -1;
	}
	if (n < (ssize_t)sizeof(h)) {
		snprintf(why, sz, "truncated: %zd bytes, shorter than an "
		    "SQLite header", n);
		return -1;
	}
	psz = (uint32_t)h[16] << 8 | h[17];
	if (psz == 1)
		psz = 65536;
	if (psz < 512 || (psz & (psz - 1)) != 0) {
		snprintf(why, sz, "corrupt header: page size %u", psz);
		return -1;
	}
	if (st.st_size % psz != 0) {
		snprintf(why, sz, "truncated: %lld bytes is not a whole number "
		    "of %u-byte pages", (long long)st.st_size, psz);
		return -1;
	}
	pages = be32(h + 28);
	if (!wal_holds_data(path, &wal) && be32(h + 24) == be32(h + 92) &&
	    (long long)pages * psz > (long long)st.st_size) {
		snprintf(why, sz, "truncated: its header says %u pages of %u "
		    "bytes, the file has %lld bytes", pages, psz,
		    (long long)st.st_size);
		return -1;
	}
	return 0;
}

/* The integer a PRAGMA answers; -1 when it cannot be read. */
static int
pragma_int(sqlite3 *h, const char *sql, int *v)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if ((r = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? 0 : -1;
}

/* Does the database have this table? */
static int
has_table(sqlite3 *h, const char *name)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(h, "SELECT 1 FROM sqlite_master WHERE type = "
	    "'table' AND name = ?", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_ROW;
}

/* PRAGMA quick_check: every page and b-tree; the first complaint. */
static int
quick_check(sqlite3 *h, char *why, size_t sz)
{
	sqlite3_stmt *st;
	const char *msg;
	char *p;
	int r;

	if (sqlite3_prepare_v2(h, "PRAGMA quick_check(1)", -1, &st, NULL) !=
	    SQLITE_OK) {
		snprintf(why, sz, "corrupt: %s", sqlite3_errmsg(h));
		return -1;
	}
	r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		snprintf(why, sz, "corrupt: %s", sqlite3_errmsg(h));
		sqlite3_finalize(st);
		return -1;
	}
	msg = (const char *)sqlite3_column_text(st, 0);
	if (msg == NULL || strcmp(msg, "ok") != 0) {
		snprintf(why, sz, "corrupt: %s", msg ? msg : "?");
		for (p = why; *p != '\0'; p++)
			if (*p == '\n')
				*p = ' ';
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/*
 * What SQLite says of an open store: this application's, of a schema
 * version this mobkitd reads (set in *version), and sound page by page.
 */
static int
check_db(sqlite3 *h, int *version, char *why, size_t sz)
{
	int app = 0, ver = 0;

	if (pragma_int(h, "PRAGMA application_id", &app) == -1 ||
	    pragma_int(h, "PRAGMA user_version", &ver) == -1) {
		snprintf(why, sz, "unreadable: %s", sqlite3_errmsg(h));
		return -1;
	}
	if (app != STORE_APP_ID) {
		if (app != 0) {
			snprintf(why, sz, "not a mobkit store (application_id "
			    "0x%08x)", (unsigned)app);
			return -1;
		}
		if (ver != 0 || !has_table(h, "inputs")) {
			snprintf(why, sz, "not a mobkit store (an SQLite "
			    "database without mobkit's tables)");
			return -1;
		}
	}
	if (ver > STORE_VERSION) {
		snprintf(why, sz, "schema version %d is newer than this "
		    "mobkitd's (%d): run a newer mobkitd", ver, STORE_VERSION);
		return -1;
	}
	if (quick_check(h, why, sz) == -1)
		return -1;
	*version = ver;
	return 0;
}

/* -t: the store under dir is sound (or absent); say what is wrong. */
int
store_verify(const char *dir)
{
	char path[PATH_MAX], why[512];
	sqlite3 *h = NULL;
	int r, ver;

	snprintf(path, sizeof(path), "%s/mobkit.db", dir);
	if ((r = check_file(path, why, sizeof(why))) == 1)
		return 0;
	if (r == 0) {
		if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) !=
		    SQLITE_OK) {
			snprintf(why, sizeof(why), "cannot open: %s",
			    sqlite3_errmsg(h));
			r = -1;
		} else {
			sqlite3_busy_timeout(h, 5000);
			r = check_db(h, &ver, why, sizeof(why));
		}
		sqlite3_close(h);
	}
	if (r == -1)
		fprintf(stderr, "%s: %s\n", path, why);
	return r;
}

/* A new store is made aside and renamed: never a half-made file. */
static int
store_create(const char *path)
{
	char tmp[PATH_MAX + 8], *err = NULL, sql[128];
	sqlite3 *h;
	int r = -1;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	(void)unlink(tmp);
	if (sqlite3_open(tmp, &h) != SQLITE_OK) {
		log_warnx("store: cannot create %s: %s", tmp,
		    sqlite3_errmsg(h));
		sqlite3_close(h);
		return -1;
	}
	snprintf(sql, sizeof(sql), "PRAGMA application_id=%d;PRAGMA "
	    "user_version=%d;", STORE_APP_ID, STORE_VERSION);
	if (sqlite3_exec(h, "PRAGMA journal_mode=WAL", NULL, NULL, &err) !=
	    SQLITE_OK ||
	    sqlite3_exec(h, tables, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(h, indexes, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK)
		log_warnx("store: cannot create %s: %s", tmp, err);
	else
		r = 0;
	sqlite3_free(err);
	if (sqlite3_close(h) != SQLITE_OK)
		r = -1;
	if (r == 0 && rename(tmp, path) == -1) {
		log_warn("store: rename %s to %s", tmp, path);
		r = -1;
	}
	if (r == -1)
		(void)unlink(tmp);
	return r;
}

/* An older schema becomes the current one, in one transaction. */
static int
store_migrate(int from)
{
	char *err = NULL, sql[128];

	if (from == STORE_VERSION)
		return 0;
	snprintf(sql, sizeof(sql), "PRAGMA application_id=%d;PRAGMA "
	    "user_version=%d;COMMIT;", STORE_APP_ID, STORE_VERSION);
	if (sqlite3_exec(db, migrate_v1, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db, tables, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db, indexes, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("store: %s: migrating from schema version %d: %s",
		    dbpath, from, err);
		sqlite3_free(err);
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	log_info("store: %s: migrated from schema version %d to %d", dbpath,
	    from, STORE_VERSION);
	return 0;
}

/* The writer's statements, prepared once. */
static int
prepare_all(void)
{
	return prepare("INSERT INTO inputs (id, member, seq, key, text, state, "
	    "attempts, accepted_ms, result, error) VALUES (?,?,?,?,?,?,?,?,?,?) "
	    "ON CONFLICT(id) DO UPDATE SET state=excluded.state, "
	    "attempts=excluded.attempts, result=excluded.result, "
	    "error=excluded.error", &st_upsert) == -1 ||
	    prepare("UPDATE inputs SET state=?2, attempts=?3, result=?4, "
	    "error=?5, fin=?6 WHERE id=?1 AND fin IS NULL", &st_final) == -1 ||
	    prepare("INSERT INTO inputs (id, member, seq, key, text, state, "
	    "attempts, accepted_ms, result, error, fin) VALUES "
	    "(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING",
	    &st_insfinal) == -1 ||
	    prepare("INSERT INTO messages (member, data) VALUES (?, ?)",
	    &st_snap) == -1 ||
	    prepare("DELETE FROM messages WHERE member = ?", &st_nosnap) == -1 ||
	    prepare("INSERT OR IGNORE INTO claims (schedule, due_ms) VALUES "
	    "(?, ?)", &st_claim) == -1 ||
	    prepare("DELETE FROM claims WHERE schedule = ?1 AND due_ms < ?2",
	    &st_noclaim) == -1 ||
	    prepare("INSERT OR REPLACE INTO deliveries (id, record) VALUES "
	    "(?, ?)", &st_delivery) == -1 ||
	    prepare("DELETE FROM deliveries WHERE id = ?", &st_nodelivery) ==
	    -1 ||
	    prepare("DELETE FROM inputs WHERE member = ?1 AND fin IS NOT NULL "
	    "AND fin < ?2", &st_keeptime) == -1 ||
	    prepare("DELETE FROM inputs WHERE rowid IN (SELECT rowid FROM "
	    "inputs WHERE member = ?1 AND fin IS NOT NULL ORDER BY fin LIMIT "
	    "?2)", &st_keepmax) == -1 ||
	    prepare("INSERT OR REPLACE INTO meta (k, v) VALUES ('probe', ?)",
	    &st_probe) == -1 ||
	    prepare("INSERT OR IGNORE INTO peers (a, b) VALUES (?, ?)",
	    &st_peer) == -1 ||
	    prepare("DELETE FROM peers", &st_nopeers) == -1 ? -1 : 0;
}

/* Open (or create) the store in dir, checked; -1 when it must not run. */
int
store_open(const char *dir)
{
	char why[512], *err = NULL;
	int r, ver = STORE_VERSION;

	snprintf(dbpath, sizeof(dbpath), "%s/mobkit.db", dir);
	if ((r = check_file(dbpath, why, sizeof(why))) == -1) {
		log_warnx("store: %s: %s", dbpath, why);
		return -1;
	}
	if (r == 1 && store_create(dbpath) == -1)
		return -1;
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_warnx("store: %s: cannot open: %s", dbpath,
		    sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_busy_timeout(db, 5000);
	if (check_db(db, &ver, why, sizeof(why)) == -1) {
		log_warnx("store: %s: %s", dbpath, why);
		goto fail;
	}
	if (sqlite3_exec(db, pragmas, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, &err) !=
	    SQLITE_OK) {
		log_warnx("store: %s: %s", dbpath, err);
		sqlite3_free(err);
		goto fail;
	}
	if (store_migrate(ver) == -1 || prepare_all() == -1)
		goto fail;
	cur = batch_new();
	redo = batch_new();
	log_info("store: %s (SQLite %s, WAL, group commit on a writer thread)",
	    dbpath, sqlite3_libversion());
	return 0;
fail:
	sqlite3_close(db);
	db = NULL;
	return -1;
}

/* The loop's own connection, for reads while the writer writes. */
static int
reader_open(void)
{
	if (sqlite3_open_v2(dbpath, &rdb, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		log_warnx("store: %s: cannot open for reading: %s", dbpath,
		    sqlite3_errmsg(rdb));
		return -1;
	}
	sqlite3_busy_timeout(rdb, 5000);
	(void)sqlite3_exec(rdb, "PRAGMA cache_size=-1024", NULL, NULL, NULL);
	if (prepare_on(rdb, "SELECT id, state, attempts, result, error FROM "
	    "inputs INDEXED BY inputs_key WHERE member = ?1 AND key = ?2 AND "
	    "fin IS NOT NULL AND fin >= ?3 ORDER BY fin DESC LIMIT 1",
	    &rd_recall) == -1 ||
	    prepare_on(rdb, "SELECT id, state, attempts, key FROM inputs WHERE "
	    "member = ?1 AND fin IS NOT NULL AND fin >= ?2 ORDER BY fin DESC, "
	    "seq DESC LIMIT ?3", &rd_finished) == -1 ||
	    prepare_on(rdb, "SELECT data FROM messages WHERE member = ? ORDER "
	    "BY seq DESC", &rd_history) == -1)
		return -1;
	return 0;
}

/* After the load: from now on only the writer thread touches db. */
static int
store_start(void)
{
	ev_prepare_init(&committer, commit_cb);
	ev_set_priority(&committer, EV_MAXPRI);	/* before the write flush */
	ev_prepare_start(D->loop, &committer);
	ev_async_init(&committed, committed_cb);
	ev_async_start(D->loop, &committed);
	ev_timer_init(&retry_timer, retry_cb, RETRY_S, RETRY_S);
	if (pthread_create(&writer, NULL, writer_main, NULL) != 0) {
		log_warnx("store: cannot start the writer thread");
		return -1;
	}
	started = 1;
	return 0;
}

/* --- what the loop hands over ----------------------------------------- */

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
	return row_add_to(cur, kind);
}

/* strdup, NULL staying NULL. */
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

/* A reset: the member's conversation is deleted. */
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

/* A delivery record is forgotten (retention). */
void
store_delivery_forget(const char *id)
{
	if (db != NULL)
		row_add(R_DELIVERY_FORGET)->id = dup_or_null(id);
}

/* A schedule's due time was claimed: it must never fire again. */
void
store_claim(const char *schedule, int64_t due_ms, int64_t forget_before)
{
	struct row *r;

	if (db == NULL)
		return;
	r = row_add(R_CLAIM);
	r->member = dup_or_null(schedule);
	r->seq = due_ms;
	r->fin = forget_before;
}

/* The peer graph changed: it is written whole with the next batch. */
void
store_peers(void)
{
	peers_dirty = 1;
}

/*
 * Run fn(arg, err) once what is queued now is committed (err NULL) or
 * could not be (err "store: ..."); at once without a store.
 */
void
store_after_commit(store_done_cb fn, void *arg)
{
	struct after *a;

	if (db == NULL) {
		fn(arg, NULL);
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
		if (input_terminal(in))
			r->fin = (int64_t)wall_ms();
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

/* Rows that failed go first: they are older than what came since. */
static void
batch_take_redo(void)
{
	struct row *rows;
	size_t n;

	if (redo->n == 0)
		return;
	n = redo->n + cur->n;
	if ((rows = reallocarray(NULL, n, sizeof(*rows))) == NULL)
		fatal("reallocarray");
	memcpy(rows, redo->rows, redo->n * sizeof(*rows));
	if (cur->n > 0)
		memcpy(rows + redo->n, cur->rows, cur->n * sizeof(*rows));
	free(cur->rows);
	cur->rows = rows;
	cur->n = cur->cap = n;
	redo->n = 0;
}

/* Hand the current batch to the writer (from the loop, before blocking). */
static void
batch_submit(int retry)
{
	batch_fill();
	if (retry)
		batch_take_redo();
	else if (cur->n == 0 && !cur->peers && TAILQ_EMPTY(&cur->afters))
		return;
	cur->retry = retry;
	cur->keep_max = D->cfg->input_retention_max;
	cur->keep_ms = D->cfg->input_retention_ms;
	pthread_mutex_lock(&mtx);
	TAILQ_INSERT_TAIL(&todo, cur, entry);
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mtx);
	inflight++;
	cur = batch_new();
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
static void
batch_free(struct batch *b)
{
	struct after *a;
	size_t i;

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

/* store.write_failed {error} or store.recovered {failed_ms}. */
static void
store_event(const char *type, const char *err, int64_t ms)
{
	struct evb b;

	evb_begin(&b, 1);
	if (err != NULL)
		mp_kstr(&b.pk, "error", err);
	else
		mp_kint(&b.pk, "failed_ms", ms);
	evb_emit(&b, "supervisor", "store", type);
}

/* A batch is on disk: its inputs are durable, its answers go out. */
static void
batch_committed(struct batch *b)
{
	size_t i;

	if (failure != NULL && b->retry) {
		log_warnx("%s: the store writes again, after %llu ms; "
		    "mobkitd is no longer degraded", dbpath,
		    (unsigned long long)(mono_ms() - failed_since));
		store_event("store.recovered", NULL,
		    (int64_t)(mono_ms() - failed_since));
		free(failure);
		failure = NULL;
		ev_timer_stop(D->loop, &retry_timer);
	}
	for (i = 0; i < b->n; i++)
		if (b->rows[i].kind == R_INPUT)
			mbox_input_saved(b->rows[i].member, b->rows[i].id,
			    NULL);
	run_afters(b);
	for (i = 0; i < b->n; i++)
		if (b->rows[i].kind == R_INPUT)
			mbox_input_release(b->rows[i].member, b->rows[i].id);
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
		failure = dup_or_null(b->err);
		failed_since = mono_ms();
		log_warnx("%s: a write failed (%s); mobkitd is degraded: new "
		    "inputs are refused, the store is retried every second",
		    dbpath, failure);
		store_event("store.write_failed", failure, 0);
		ev_timer_start(D->loop, &retry_timer);
	} else if (b->retry)
		log_debug("%s: the retry failed too (%s)", dbpath, b->err);
	for (i = 0; i < b->n; i++) {
		struct row *r = &b->rows[i], *k;

		switch (r->kind) {
		case R_INPUT:
			mbox_input_saved(r->member, r->id, b->err);
			continue;
		case R_DELIVERY:
			continue;
		}
		k = row_add_to(redo, r->kind);
		*k = *r;
		memset(r, 0, sizeof(*r));
	}
	if (b->peers)
		peers_dirty = 1;
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
	for (;;) {
		pthread_mutex_lock(&mtx);
		if ((b = TAILQ_FIRST(&done)) != NULL)
			TAILQ_REMOVE(&done, b, entry);
		pthread_mutex_unlock(&mtx);
		if (b == NULL)
			break;
		inflight--;
		if (b->err == NULL)
			batch_committed(b);
		else
			batch_failed(b);
		batch_free(b);
	}
}

/* --- the writer thread: the only user of db once started ------------- */

/* What failed, for the answers: "store: <SQLite's message>" (no log
 * here: the loop says it, the writer thread never logs). */
static char *
db_error(void)
{
	char *s;

	if (asprintf(&s, "store: %s", sqlite3_errmsg(db)) == -1)
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

/* Bind a string, NULL as NULL. */
static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
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
		bind_text(st_peer, 1, b->edges.v[i]);
		bind_text(st_peer, 2, tab + 1);
		r = step(st_peer);
		*tab = '\t';
	}
	return r;
}

/* The ten columns of an input row. */
static void
bind_input(sqlite3_stmt *st, const struct row *w)
{
	bind_text(st, 1, w->id);
	bind_text(st, 2, w->member);
	sqlite3_bind_int64(st, 3, w->seq);
	bind_text(st, 4, w->key);
	bind_text(st, 5, w->text);
	sqlite3_bind_int(st, 6, w->state);
	sqlite3_bind_int(st, 7, w->attempts);
	sqlite3_bind_int64(st, 8, w->accepted);
	bind_text(st, 9, w->result);
	bind_text(st, 10, w->error);
}

/* A finished input: counted once, however often it is written. */
static int
write_final(const struct row *w)
{
	bind_text(st_final, 1, w->id);
	sqlite3_bind_int(st_final, 2, w->state);
	sqlite3_bind_int(st_final, 3, w->attempts);
	bind_text(st_final, 4, w->result);
	bind_text(st_final, 5, w->error);
	sqlite3_bind_int64(st_final, 6, w->fin);
	if (step(st_final) == -1)
		return -1;
	if (sqlite3_changes(db) == 0) {
		bind_input(st_insfinal, w);
		sqlite3_bind_int64(st_insfinal, 11, w->fin);
		if (step(st_insfinal) == -1)
			return -1;
		if (sqlite3_changes(db) == 0)
			return 0;	/* finished before */
	}
	mcount_get(w->member)->next++;
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
		bind_text(st_snap, 1, w->member);
		bind_text(st_snap, 2, w->text);
		return step(st_snap);
	case R_CLEAR:
		bind_text(st_nosnap, 1, w->member);
		return step(st_nosnap);
	case R_CLAIM:
		bind_text(st_claim, 1, w->member);
		sqlite3_bind_int64(st_claim, 2, w->seq);
		if (step(st_claim) == -1 || w->fin == 0)
			return w->fin == 0 ? 0 : -1;
		bind_text(st_noclaim, 1, w->member);
		sqlite3_bind_int64(st_noclaim, 2, w->fin);
		return step(st_noclaim);
	case R_DELIVERY:
		bind_text(st_delivery, 1, w->id);
		sqlite3_bind_blob(st_delivery, 2, w->text, (int)w->len,
		    SQLITE_STATIC);
		return step(st_delivery);
	case R_DELIVERY_FORGET:
		bind_text(st_nodelivery, 1, w->id);
		return step(st_nodelivery);
	}
	return 0;
}

/*
 * Forget the finished inputs beyond the retention limits.  The count is
 * kept exact; the time limit is swept from disk at most once a second
 * per member (reads skip what is past it anyway).
 */
static int
keep_limits(int max, int64_t ms)
{
	struct mcount *m, *t;
	uint64_t now = mono_ms();

	HASH_ITER(hh, counts, m, t) {
		if (!m->touched)
			continue;
		if (ms >= 0 && (m->swept == 0 || now - m->swept >= 1000)) {
			m->swept = now;
			bind_text(st_keeptime, 1, m->member);
			sqlite3_bind_int64(st_keeptime, 2, (int64_t)wall_ms() -
			    ms);
			if (step(st_keeptime) == -1)
				return -1;
			m->next -= sqlite3_changes(db);
		}
		if (m->next > max) {
			bind_text(st_keepmax, 1, m->member);
			sqlite3_bind_int64(st_keepmax, 2, m->next - max);
			if (step(st_keepmax) == -1)
				return -1;
			m->next -= sqlite3_changes(db);
		}
	}
	return 0;
}

/* The counts follow the transaction: kept on commit, dropped if not. */
static void
counts_settle(int ok)
{
	struct mcount *m, *t;

	HASH_ITER(hh, counts, m, t) {
		if (m->touched && ok)
			m->n = m->next;
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
		return dup_or_null(halt_err);
	halted = 0;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    batches_write(first) == -1 ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		err = db_error();
	if (err != NULL) {
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_reset(st_upsert);
		sqlite3_reset(st_final);
		sqlite3_reset(st_insfinal);
		sqlite3_reset(st_snap);
		sqlite3_reset(st_nosnap);
		sqlite3_reset(st_claim);
		sqlite3_reset(st_noclaim);
		sqlite3_reset(st_delivery);
		sqlite3_reset(st_nodelivery);
		sqlite3_reset(st_keeptime);
		sqlite3_reset(st_keepmax);
		sqlite3_reset(st_probe);
		sqlite3_reset(st_peer);
		sqlite3_reset(st_nopeers);
		halted = 1;
		free(halt_err);
		halt_err = dup_or_null(err);
	}
	counts_settle(err == NULL);
	return err;
}

/*
 * The writer: take every batch waiting and commit them in one
 * transaction, so the longer a commit takes, the more the next one
 * carries (group commit), and the loop never waits for the disk.  After
 * a failure every batch fails unwritten (order is kept) until the loop
 * sends a retry.
 */
static void *
writer_main(void *arg)
{
	TAILQ_HEAD(, batch) mine = TAILQ_HEAD_INITIALIZER(mine);
	struct batch *b;
	char *err;

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
		err = transaction(TAILQ_FIRST(&mine));
		TAILQ_FOREACH(b, &mine, entry)
			b->err = dup_or_null(err);
		free(err);
		pthread_mutex_lock(&mtx);
		TAILQ_CONCAT(&done, &mine, entry);
		writing = 0;
		pthread_cond_broadcast(&idle_cv);
		ev_async_send(D->loop, &committed);
	}
	pthread_mutex_unlock(&mtx);
	return NULL;
}

/* Block until everything submitted is written or failed (shutdown). */
int
store_commit(void)
{
	if (db == NULL || !started)
		return 0;
	batch_submit(failure != NULL);
	pthread_mutex_lock(&mtx);
	while (!TAILQ_EMPTY(&todo) || writing)
		pthread_cond_wait(&idle_cv, &mtx);
	pthread_mutex_unlock(&mtx);
	committed_cb(D->loop, &committed, 0);
	return 0;
}

/* Write what is left, stop the writer, close both connections. */
void
store_close(void)
{
	struct mcount *m, *t;

	if (db == NULL)
		return;
	if (started) {
		(void)store_commit();
		if (failure != NULL)
			log_warnx("store: %s: %zu change(s) could not be "
			    "written before exit: %s", dbpath, redo->n + ndirty,
			    failure);
		pthread_mutex_lock(&mtx);
		quit = 1;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&mtx);
		pthread_join(writer, NULL);
		ev_prepare_stop(D->loop, &committer);
		ev_async_stop(D->loop, &committed);
		ev_timer_stop(D->loop, &retry_timer);
	}
	sqlite3_finalize(st_upsert);
	sqlite3_finalize(st_final);
	sqlite3_finalize(st_insfinal);
	sqlite3_finalize(st_snap);
	sqlite3_finalize(st_nosnap);
	sqlite3_finalize(st_claim);
	sqlite3_finalize(st_noclaim);
	sqlite3_finalize(st_delivery);
	sqlite3_finalize(st_nodelivery);
	sqlite3_finalize(st_keeptime);
	sqlite3_finalize(st_keepmax);
	sqlite3_finalize(st_probe);
	sqlite3_finalize(st_peer);
	sqlite3_finalize(st_nopeers);
	sqlite3_finalize(rd_recall);
	sqlite3_finalize(rd_finished);
	sqlite3_finalize(rd_history);
	sqlite3_close(rdb);
	sqlite3_close(db);
	rdb = db = NULL;
	HASH_ITER(hh, counts, m, t) {
		HASH_DEL(counts, m);
		free(m->member);
		free(m);
	}
	batch_free(cur);
	batch_free(redo);
	cur = redo = NULL;
	free(dirty);
	dirty = NULL;
	ndirty = capdirty = 0;
	free(failure);
	failure = NULL;
	free(halt_err);
	halt_err = NULL;
}

/* --- reads by the loop ------------------------------------------------- */

/* A text column. */
static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/*
 * Deduplication from the index: the finished input of member with this
 * key, remembered since since_ms.  1 found (*out filled, its strings the
 * caller's), 0 none, -1 the store could not be read.
 */
int
store_recall(const char *member, const char *key, int64_t since_ms,
    struct input *out)
{
	int r;

	if (rdb == NULL)
		return 0;
	bind_text(rd_recall, 1, member);
	bind_text(rd_recall, 2, key);
	sqlite3_bind_int64(rd_recall, 3, since_ms);
	if ((r = sqlite3_step(rd_recall)) == SQLITE_ROW) {
		snprintf(out->id, sizeof(out->id), "%s", col_text(rd_recall,
		    0));
		out->state = sqlite3_column_int(rd_recall, 1);
		out->attempts = sqlite3_column_int(rd_recall, 2);
		out->result = dup_or_null(col_text(rd_recall, 3));
		out->error = dup_or_null(col_text(rd_recall, 4));
	} else if (r != SQLITE_DONE)
		log_warnx("store: %s: reading key %s of %s: %s", dbpath, key,
		    member, sqlite3_errmsg(rdb));
	sqlite3_reset(rd_recall);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

/* The newest max finished inputs of member on disk, newest first. */
int
store_finished(const char *member, int64_t since_ms, int max,
    store_row_cb fn, void *arg)
{
	int r, n = 0;

	if (rdb == NULL)
		return 0;
	bind_text(rd_finished, 1, member);
	sqlite3_bind_int64(rd_finished, 2, since_ms);
	sqlite3_bind_int(rd_finished, 3, max);
	while ((r = sqlite3_step(rd_finished)) == SQLITE_ROW) {
		fn(arg, col_text(rd_finished, 0), sqlite3_column_int(
		    rd_finished, 1), sqlite3_column_int(rd_finished, 2),
		    col_text(rd_finished, 3));
		n++;
	}
	if (r != SQLITE_DONE)
		log_warnx("store: %s: listing the inputs of %s: %s", dbpath,
		    member, sqlite3_errmsg(rdb));
	sqlite3_reset(rd_finished);
	return r == SQLITE_DONE ? n : -1;
}

struct hist {
	char	*s;
	size_t	 len, cap;
	int	 cleared;	/* a clear among the pending rows */
};

/* "[a,b]" + "[c]" -> "[a,b,c]"; an empty turn adds nothing. */
static void
hist_add(struct hist *h, const char *turn)
{
	size_t n = strlen(turn);

	if (n < 2 || turn[0] != '[' || turn[n - 1] != ']' ||
	    strcmp(turn, "[]") == 0)
		return;
	if (h->len + n + 2 > h->cap) {
		while (h->len + n + 2 > h->cap)
			h->cap = h->cap ? h->cap * 2 : 4096;
		if ((h->s = realloc(h->s, h->cap)) == NULL)
			fatal("realloc");
	}
	if (h->len == 0) {
		memcpy(h->s, turn, n + 1);
		h->len = n;
		return;
	}
	h->s[h->len - 1] = ',';
	memcpy(h->s + h->len, turn + 1, n);
	h->len += n - 1;
}

/* The conversation rows of member still in a batch, in order. */
static void
hist_rows(struct hist *h, const struct batch *b, const char *member)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct row *r = &b->rows[i];

		if (r->member == NULL || strcmp(r->member, member) != 0)
			continue;
		if (r->kind == R_APPEND)
			hist_add(h, r->text);
		else if (r->kind == R_CLEAR) {
			h->len = 0;
			h->cleared = 1;
		}
	}
}

/*
 * The turns on disk, newest first, that fit in max bytes besides what is
 * pending; they are added to h oldest first.  Returns how many turns were
 * left out, or -1 on a read error.
 */
static int64_t
hist_disk(struct hist *h, const char *member, size_t max, size_t pending)
{
	char **turns = NULL;
	size_t n = 0, cap = 0, used = pending, len;
	int64_t left = 0;
	int r;

	bind_text(rd_history, 1, member);
	while ((r = sqlite3_step(rd_history)) == SQLITE_ROW) {
		len = (size_t)sqlite3_column_bytes(rd_history, 0);
		if (left > 0 || used + len + 1 > max) {
			left++;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((turns = reallocarray(turns, cap,
			    sizeof(*turns))) == NULL)
				fatal("reallocarray");
		}
		if ((turns[n++] = strdup(col_text(rd_history, 0))) == NULL)
			fatal("strdup");
		used += len + 1;
	}
	if (r != SQLITE_DONE) {
		log_warnx("store: %s: reading the conversation of %s: %s",
		    dbpath, member, sqlite3_errmsg(rdb));
		left = -1;
	}
	sqlite3_reset(rd_history);
	while (n > 0) {
		hist_add(h, turns[--n]);
		free(turns[n]);
	}
	free(turns);
	return left;
}

/*
 * A member's conversation for its restarting worker, as one JSON array
 * (NULL when empty): what is on disk, then what is still to be written;
 * of a conversation longer than max bytes, the newest whole turns that
 * fit (the rest stays on disk).  The caller frees it once handed over.
 */
char *
store_history(const char *member, size_t max)
{
	struct hist h = { NULL, 0, 0, 0 }, pend = { NULL, 0, 0, 0 };
	int64_t left = 0;

	if (rdb == NULL)
		return NULL;
	hist_rows(&pend, redo, member);
	hist_rows(&pend, cur, member);
	if (!pend.cleared)
		left = hist_disk(&h, member, max, pend.len);
	if (left > 0)
		log_warnx("%s: the conversation is over %zu bytes: the worker "
		    "is handed its newest turns, %lld older ones stay on disk",
		    member, max, (long long)left);
	if (pend.len > 0)
		hist_add(&h, pend.s);
	free(pend.s);
	if (h.len == 0) {
		free(h.s);
		return NULL;
	}
	return h.s;
}

/* --- the load at start ------------------------------------------------- */

/* The end of a read at load: -1 (said) unless it ran to its end. */
static int
load_done(sqlite3_stmt *st, int r, const char *what)
{
	if (r != SQLITE_DONE)
		log_warnx("store: %s: reading %s: %s", dbpath, what,
		    sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

/* Before anything else: forget what is past the retention limits. */
static void
load_keep(void)
{
	struct mcount *m;
	sqlite3_stmt *st;
	int r;

	if (prepare("SELECT member, COUNT(fin) FROM inputs GROUP BY member",
	    &st) == -1)
		return;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		m = mcount_get(col_text(st, 0));
		m->n = m->next = sqlite3_column_int64(st, 1);
	}
	(void)load_done(st, r, "the inputs");
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    keep_limits(D->cfg->input_retention_max,
	    D->cfg->input_retention_ms) == -1 ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("store: %s: cannot forget old inputs now: %s",
		    dbpath, sqlite3_errmsg(db));
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_reset(st_keeptime);
		sqlite3_reset(st_keepmax);
		counts_settle(0);
		return;
	}
	counts_settle(1);
}

/* Inputs not finished go back into their mailboxes; -1 on a read error. */
static int
load_inputs(int *n, int *orphans)
{
	sqlite3_stmt *st;
	struct child *c;
	int r;

	if (prepare("SELECT member, MAX(seq) FROM inputs GROUP BY member",
	    &st) == -1)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if ((c = child_find(col_text(st, 0))) != NULL &&
		    c->mbox != NULL)
			c->mbox->next_seq = (uint64_t)sqlite3_column_int64(st,
			    1);
	if (load_done(st, r, "the inputs") == -1)
		return -1;
	if (prepare("SELECT id, member, seq, key, text, attempts, "
	    "accepted_ms, error FROM inputs WHERE fin IS NULL ORDER BY member, "
	    "seq", &st) == -1)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct input *in;

		if ((c = child_find(col_text(st, 1))) == NULL ||
		    c->mbox == NULL) {
			(*orphans)++;
			continue;
		}
		in = mbox_add(c->mbox, col_text(st, 0), col_text(st, 4),
		    col_text(st, 3), (uint64_t)sqlite3_column_int64(st, 2));
		in->attempts = sqlite3_column_int(st, 5);
		in->accepted_ms = (uint64_t)sqlite3_column_int64(st, 6);
		in->error = dup_or_null(col_text(st, 7));
		in->durable = 1;
		(*n)++;
	}
	return load_done(st, r, "the inputs");
}

/* The peer graph, the delivery records and the claims. */
static int
load_rest(void)
{
	sqlite3_stmt *st;
	int r;

	if (prepare("SELECT a, b FROM peers", &st) == -1)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		(void)peers_add(col_text(st, 0), col_text(st, 1));
	if (load_done(st, r, "the peers") == -1 ||
	    prepare("SELECT record FROM deliveries ORDER BY rowid", &st) == -1)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		delivery_restore(sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
	if (load_done(st, r, "the deliveries") == -1 ||
	    prepare("SELECT schedule, due_ms FROM claims ORDER BY schedule, "
	    "due_ms", &st) == -1)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		(void)claim_note(col_text(st, 0), sqlite3_column_int64(st,
		    1));
	return load_done(st, r, "the claims");
}

/* Load every member's pending inputs and the peer graph; start writing. */
int
store_load(void)
{
	int n = 0, orphans = 0;

	if (db == NULL)
		return 0;
	load_keep();
	if (load_inputs(&n, &orphans) == -1 || load_rest() == -1)
		return -1;
	peers_dirty = 0;
	log_info("store: loaded %d pending input(s)%s", n, orphans ? "; "
	    "inputs of members no longer configured were left on disk" : "");
	if (reader_open() == -1)
		return -1;
	if (store_start() == -1)
		fatalx("store: no writer thread");
	return n;
}
