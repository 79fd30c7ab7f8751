/*
 * store_sqlite_open.c: the SQLite store's file, from open to close.
 *
 * The file is checked when it is opened: an SQLite header, this
 * application's id, a schema version this mobkitd knows, and a quick
 * check of every page; anything else stops mobkitd rather than letting it
 * start empty over data it could not read.  A new store is made aside and
 * renamed; an older schema is migrated in one transaction.  This file
 * also holds the backend's operations table.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store_sqlite.h"

char		 sq_path[PATH_MAX];
sqlite3		*sq_db;
sqlite3		*sq_rdb;

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
    "INTEGER PRIMARY KEY, data TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS peers (a TEXT NOT NULL, b TEXT NOT NULL, "
    "PRIMARY KEY (a, b));"
    "CREATE TABLE IF NOT EXISTS claims (schedule TEXT NOT NULL, due_ms "
    "INTEGER NOT NULL, PRIMARY KEY (schedule, due_ms));"
    "CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, record "
    "BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS usage (member TEXT PRIMARY KEY, "
    "input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, turns "
    "INTEGER NOT NULL);";

/* Version 0 to 1: finish times, the application id. */
static const char migrate_v1[] =
    "ALTER TABLE inputs ADD COLUMN fin INTEGER;"
    "UPDATE inputs SET fin = COALESCE(accepted_ms, 0) WHERE state >= 2;"
    "DROP INDEX IF EXISTS inputs_member;";

/*
 * Version 1 to 2: messages without AUTOINCREMENT (a seq is still larger
 * than every seq on disk: rows are only appended, or deleted per member),
 * and no per-member index of finish times (one page per member per
 * commit): retention and the listing go by the global inputs_done.
 */
static const char migrate_v2[] =
    "CREATE TABLE messages_v2 (member TEXT NOT NULL, seq INTEGER PRIMARY "
    "KEY, data TEXT NOT NULL);"
    "INSERT INTO messages_v2 (member, seq, data) SELECT member, seq, data "
    "FROM messages ORDER BY seq;"
    "DROP TABLE messages;"
    "ALTER TABLE messages_v2 RENAME TO messages;"
    "DROP INDEX IF EXISTS inputs_fin;";

/* Version 2 to 3: token usage per member (the usage table, in tables). */

/*
 * What each index serves:
 *   inputs_key       deduplication: a member's finished input by key
 *                    (keyed inputs only)
 *   inputs_done      finished inputs by finish time, all members: the
 *                    time sweep, the oldest of a member over its count,
 *                    the listing (appended to: about a page a commit)
 *   messages_member  a member's conversation in order (hand-over, reset)
 * The inputs by id are the table's own primary key; the load at start
 * scans the table once.
 */
static const char indexes[] =
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v);"
    "CREATE INDEX IF NOT EXISTS inputs_key ON inputs (member, key) "
    "WHERE key IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS inputs_done ON inputs (fin, member) "
    "WHERE fin IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS messages_member ON messages (member, seq);";

/* Prepare a statement on a connection; -1 (said) when it does not. */
int
sq_prepare(sqlite3 *h, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(h, sql, -1, st, NULL) != SQLITE_OK) {
		log_warnx("store: %s: %s", sql, sqlite3_errmsg(h));
		return -1;
	}
	return 0;
}

/* Bind a string, NULL as NULL. */
void
sq_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
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

/* No file: a fresh store (1), unless its write-ahead log holds data. */
static int
check_missing(const char *path, char *why, size_t sz)
{
	long long wal;

	if (errno != ENOENT) {
		snprintf(why, sz, "cannot stat: %s", strerror(errno));
		return -1;
	}
	if (wal_holds_data(path, &wal)) {
		snprintf(why, sz, "missing, but its write-ahead log (%s-wal) "
		    "holds %lld bytes", path, wal);
		return -1;
	}
	return 1;
}

/* The first 100 bytes of the file, the SQLite header; -1 (why set). */
static int
read_header(const char *path, unsigned char *h, size_t len, char *why,
    size_t sz)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, sz, "cannot open: %s", strerror(errno));
		return -1;
	}
	n = read(fd, h, len);
	close(fd);
	if (n == -1) {
		snprintf(why, sz, "cannot read: %s", strerror(errno));
		return -1;
	}
	if (n >= 16 && memcmp(h, "SQLite format 3", 16) != 0) {
		snprintf(why, sz, "not a mobkit store: no SQLite header");
		return -1;
	}
	if (n < (ssize_t)len) {
		snprintf(why, sz, "truncated: %zd bytes, shorter than an "
		    "SQLite header", n);
		return -1;
	}
	return 0;
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

	if (stat(path, &st) == -1)
		return check_missing(path, why, sz);
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, sz, "not a regular file");
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(why, sz, "zero-length file: not a store (a store is "
		    "never empty); restore it or move it away");
		return -1;
	}
	if (read_header(path, h, sizeof(h), why, sz) == -1)
		return -1;
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
static int
sq_verify(const char *dir)
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
	if (sqlite3_exec(sq_db, "BEGIN IMMEDIATE", NULL, NULL, &err) !=
	    SQLITE_OK ||
	    (from < 1 && sqlite3_exec(sq_db, migrate_v1, NULL, NULL, &err) !=
	    SQLITE_OK) ||
	    sqlite3_exec(sq_db, tables, NULL, NULL, &err) != SQLITE_OK ||
	    (from < 2 && sqlite3_exec(sq_db, migrate_v2, NULL, NULL, &err) !=
	    SQLITE_OK) ||
	    sqlite3_exec(sq_db, indexes, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(sq_db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("store: %s: migrating from schema version %d: %s",
		    sq_path, from, err);
		sqlite3_free(err);
		(void)sqlite3_exec(sq_db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	log_info("store: %s: migrated from schema version %d to %d", sq_path,
	    from, STORE_VERSION);
	return 0;
}

/* Open (or create) the store in dir, checked; -1 when it must not run. */
static int
sq_open(const char *dir)
{
	char why[512], *err = NULL;
	int r, ver = STORE_VERSION;

	snprintf(sq_path, sizeof(sq_path), "%s/mobkit.db", dir);
	if ((r = check_file(sq_path, why, sizeof(why))) == -1) {
		log_warnx("store: %s: %s", sq_path, why);
		return -1;
	}
	if (r == 1 && store_create(sq_path) == -1)
		return -1;
	if (sqlite3_open_v2(sq_path, &sq_db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_warnx("store: %s: cannot open: %s", sq_path,
		    sqlite3_errmsg(sq_db));
		goto fail;
	}
	sqlite3_busy_timeout(sq_db, 5000);
	if (check_db(sq_db, &ver, why, sizeof(why)) == -1) {
		log_warnx("store: %s: %s", sq_path, why);
		goto fail;
	}
	if (sqlite3_exec(sq_db, pragmas, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(sq_db, "PRAGMA journal_mode=WAL", NULL, NULL, &err) !=
	    SQLITE_OK) {
		log_warnx("store: %s: %s", sq_path, err);
		sqlite3_free(err);
		goto fail;
	}
	if (store_migrate(ver) == -1 || sq_writer_prepare() == -1)
		goto fail;
	sq_cur = sq_batch_new();
	sq_redo = sq_batch_new();
	log_info("store: %s (SQLite %s, WAL, group commit on a writer thread)",
	    sq_path, sqlite3_libversion());
	return 0;
fail:
	sqlite3_close(sq_db);
	sq_db = NULL;
	return -1;
}


/* Write what is left, stop the writer, close both connections. */
static void
sq_close(void)
{
	if (sq_db == NULL)
		return;
	sq_stop();
	sq_writer_finalize();
	sq_reader_close();
	sqlite3_close(sq_db);
	sq_db = NULL;
	sq_counts_free();
	sq_batch_free(sq_cur);
	sq_batch_free(sq_redo);
	sq_cur = sq_redo = NULL;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.persistent = 1,
	.verify = sq_verify,
	.open = sq_open,
	.load = sq_load,
	.commit = sq_commit,
	.close = sq_close,
	.failure = sq_failure,
	.append = sq_append,
	.clear = sq_clear,
	.claim = sq_claim,
	.delivery = sq_delivery,
	.delivery_forget = sq_delivery_forget,
	.after_commit = sq_after_commit,
	.recall = sq_recall,
	.finished = sq_finished,
	.history = sq_history,
	.usage = sq_usage,
	.usage_load = sq_usage_load,
};
