/*
 * store_sqlite_read.c: what the loop reads from the SQLite store, and the
 * load at start.
 *
 * The loop reads through its own read-only connection (WAL: it sees every
 * commit, never a half-written one, and never waits for the writer):
 * deduplication by key, the listing of finished inputs, and a member's
 * conversation for a hand-over, with what is still queued added.  At
 * start, before the writer thread exists, the loop reads everything back
 * on the writer's connection and hands it to the domains.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_sqlite.h"

static sqlite3_stmt	*rd_recall, *rd_finished, *rd_history, *rd_usage;

/* The loop's own connection, for reads while the writer writes. */
int
sq_reader_open(void)
{
	if (sqlite3_open_v2(sq_path, &sq_rdb, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		log_warnx("store: %s: cannot open for reading: %s", sq_path,
		    sqlite3_errmsg(sq_rdb));
		return -1;
	}
	sqlite3_busy_timeout(sq_rdb, 5000);
	(void)sqlite3_exec(sq_rdb, "PRAGMA cache_size=-1024", NULL, NULL, NULL);
	if (sq_prepare(sq_rdb, "SELECT id, state, attempts, result, error FROM "
	    "inputs INDEXED BY inputs_key WHERE member = ?1 AND key = ?2 AND "
	    "fin IS NOT NULL AND fin >= ?3 ORDER BY fin DESC LIMIT 1",
	    &rd_recall) == -1 ||
	    sq_prepare(sq_rdb, "SELECT id, state, attempts, key FROM inputs "
	    "INDEXED BY inputs_done WHERE member = ?1 AND fin IS NOT NULL AND "
	    "fin >= ?2 ORDER BY fin DESC, seq DESC LIMIT ?3", &rd_finished) ==
	    -1 ||
	    sq_prepare(sq_rdb, "SELECT data FROM messages WHERE member = ? ORDER "
	    "BY seq DESC", &rd_history) == -1 ||
	    sq_prepare(sq_rdb, "SELECT input_tokens, output_tokens, turns FROM "
	    "usage WHERE member = ?", &rd_usage) == -1)
		return -1;
	return 0;
}

/* The loop's connection is closed. */
void
sq_reader_close(void)
{
	sqlite3_finalize(rd_recall);
	sqlite3_finalize(rd_finished);
	sqlite3_finalize(rd_history);
	sqlite3_finalize(rd_usage);
	rd_recall = rd_finished = rd_history = rd_usage = NULL;
	sqlite3_close(sq_rdb);
	sq_rdb = NULL;
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
sq_recall(const char *member, const char *key, int64_t since_ms,
    struct store_fin *out)
{
	int r;

	if (sq_rdb == NULL)
		return 0;
	sq_bind_text(rd_recall, 1, member);
	sq_bind_text(rd_recall, 2, key);
	sqlite3_bind_int64(rd_recall, 3, since_ms);
	if ((r = sqlite3_step(rd_recall)) == SQLITE_ROW) {
		snprintf(out->id, sizeof(out->id), "%s", col_text(rd_recall,
		    0));
		out->state = sqlite3_column_int(rd_recall, 1);
		out->attempts = sqlite3_column_int(rd_recall, 2);
		out->result = store_strdup(col_text(rd_recall, 3));
		out->error = store_strdup(col_text(rd_recall, 4));
	} else if (r != SQLITE_DONE)
		log_warnx("store: %s: reading key %s of %s: %s", sq_path, key,
		    member, sqlite3_errmsg(sq_rdb));
	sqlite3_reset(rd_recall);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

/* The newest max finished inputs of member on disk, newest first. */
int
sq_finished(const char *member, int64_t since_ms, int max,
    store_row_cb fn, void *arg)
{
	int r, n = 0;

	if (sq_rdb == NULL)
		return 0;
	sq_bind_text(rd_finished, 1, member);
	sqlite3_bind_int64(rd_finished, 2, since_ms);
	sqlite3_bind_int(rd_finished, 3, max);
	while ((r = sqlite3_step(rd_finished)) == SQLITE_ROW) {
		fn(arg, col_text(rd_finished, 0), sqlite3_column_int(
		    rd_finished, 1), sqlite3_column_int(rd_finished, 2),
		    col_text(rd_finished, 3));
		n++;
	}
	if (r != SQLITE_DONE)
		log_warnx("store: %s: listing the inputs of %s: %s", sq_path,
		    member, sqlite3_errmsg(sq_rdb));
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
 * pending; they are added to h oldest first.  Read into one buffer with
 * an array of offsets (no allocation per turn: a hand-over of a long
 * conversation must not leave the heap in pieces).  Returns how many
 * turns were left out, or -1 on a read error.
 */
static int64_t
hist_disk(struct hist *h, const char *member, size_t max, size_t pending)
{
	struct hist all = { NULL, 0, 0, 0 };
	size_t *off = NULL, n = 0, cap = 0, used = pending, len;
	int64_t left = 0;
	int r;

	sq_bind_text(rd_history, 1, member);
	while ((r = sqlite3_step(rd_history)) == SQLITE_ROW) {
		len = (size_t)sqlite3_column_bytes(rd_history, 0);
		if (left > 0 || used + len + 1 > max) {
			left++;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((off = reallocarray(off, cap, sizeof(*off))) ==
			    NULL)
				fatal("reallocarray");
		}
		if (all.len + len + 1 > all.cap) {
			while (all.len + len + 1 > all.cap)
				all.cap = all.cap ? all.cap * 2 : 65536;
			if ((all.s = realloc(all.s, all.cap)) == NULL)
				fatal("realloc");
		}
		off[n++] = all.len;
		memcpy(all.s + all.len, col_text(rd_history, 0), len);
		all.s[all.len + len] = '\0';
		all.len += len + 1;
		used += len + 1;
	}
	if (r != SQLITE_DONE) {
		log_warnx("store: %s: reading the conversation of %s: %s",
		    sq_path, member, sqlite3_errmsg(sq_rdb));
		left = -1;
	}
	sqlite3_reset(rd_history);
	while (n > 0)
		hist_add(h, all.s + off[--n]);
	free(off);
	free(all.s);
	return left;
}

/*
 * A member's conversation for its restarting worker, as one JSON array
 * (NULL when empty): what is on disk, then what is still to be written;
 * of a conversation longer than max bytes, the newest whole turns that
 * fit (the rest stays on disk).  The caller frees it once handed over.
 */
char *
sq_history(const char *member, size_t max)
{
	struct hist h = { NULL, 0, 0, 0 }, pend = { NULL, 0, 0, 0 };
	int64_t left = 0;

	if (sq_rdb == NULL)
		return NULL;
	hist_rows(&pend, sq_redo, member);
	hist_rows(&pend, sq_cur, member);
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
		log_warnx("store: %s: reading %s: %s", sq_path, what,
		    sqlite3_errmsg(sq_db));
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

/* Each member's last sequence number; -1 on a read error. */
static int
load_seqs(void)
{
	sqlite3_stmt *st;
	int r;

	if (sq_prepare(sq_db, "SELECT member, MAX(seq) FROM inputs GROUP BY "
	    "member", &st) == -1)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		store_loaded_seq(col_text(st, 0), sqlite3_column_int64(st, 1));
	return load_done(st, r, "the inputs");
}

/* Inputs not finished go back into their mailboxes; -1 on a read error. */
static int
load_inputs(int *n, int *orphans)
{
	struct store_input in;
	sqlite3_stmt *st;
	int r;

	if (load_seqs() == -1 || sq_prepare(sq_db, "SELECT id, member, seq, "
	    "key, text, attempts, accepted_ms, error FROM inputs WHERE fin IS "
	    "NULL ORDER BY member, seq", &st) == -1)
		return -1;
	memset(&in, 0, sizeof(in));
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		in.id = col_text(st, 0);
		in.member = col_text(st, 1);
		in.seq = sqlite3_column_int64(st, 2);
		in.key = col_text(st, 3);
		in.text = col_text(st, 4);
		in.attempts = sqlite3_column_int(st, 5);
		in.accepted_ms = sqlite3_column_int64(st, 6);
		in.error = col_text(st, 7);
		if (store_loaded_input(&in) == -1)
			(*orphans)++;
		else
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

	if (sq_prepare(sq_db, "SELECT a, b FROM peers", &st) == -1)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		store_loaded_peer(col_text(st, 0), col_text(st, 1));
	if (load_done(st, r, "the peers") == -1 || sq_prepare(sq_db,
	    "SELECT record FROM deliveries ORDER BY rowid", &st) == -1)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		store_loaded_delivery(sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
	if (load_done(st, r, "the deliveries") == -1 || sq_prepare(sq_db,
	    "SELECT schedule, due_ms FROM claims ORDER BY schedule, due_ms",
	    &st) == -1)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		store_loaded_claim(col_text(st, 0), sqlite3_column_int64(st,
		    1));
	return load_done(st, r, "the claims");
}

/* Load every member's pending inputs and the peer graph; start writing. */
int
sq_load(void)
{
	int n = 0, orphans = 0, max;
	int64_t ms;

	if (sq_db == NULL)
		return 0;
	store_retention(&max, &ms);
	sq_keep_at_load(max, ms);
	if (load_inputs(&n, &orphans) == -1 || load_rest() == -1)
		return -1;
	log_info("store: loaded %d pending input(s)%s", n, orphans ? "; "
	    "inputs of members no longer configured were left on disk" : "");
	if (sq_reader_open() == -1)
		return -1;
	if (sq_start() == -1)
		fatalx("store: no writer thread");
	return n;
}

/* The newest usage row of member still in a batch: 1 (into v), or 0. */
static int
usage_pending(const struct batch *b, const char *member, int64_t v[3])
{
	size_t i;
	int found = 0;

	for (i = 0; i < b->n; i++)
		if (b->rows[i].kind == R_USAGE &&
		    strcmp(b->rows[i].member, member) == 0) {
			v[0] = b->rows[i].seq;
			v[1] = b->rows[i].accepted;
			v[2] = b->rows[i].fin;
			found = 1;
		}
	return found;
}

/*
 * A member's token usage (input, output, turns) as last saved, what is
 * still to be written included: 1, 0 when none is kept, -1 on a read
 * error.
 */
int
sq_usage_load(const char *member, int64_t v[3])
{
	int r;

	if (sq_rdb == NULL)
		return 0;
	if (usage_pending(sq_cur, member, v) || usage_pending(sq_redo, member,
	    v))
		return 1;
	sq_bind_text(rd_usage, 1, member);
	if ((r = sqlite3_step(rd_usage)) == SQLITE_ROW) {
		v[0] = sqlite3_column_int64(rd_usage, 0);
		v[1] = sqlite3_column_int64(rd_usage, 1);
		v[2] = sqlite3_column_int64(rd_usage, 2);
	} else if (r != SQLITE_DONE)
		log_warnx("store: %s: reading the usage of %s: %s", sq_path,
		    member, sqlite3_errmsg(sq_rdb));
	sqlite3_reset(rd_usage);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}
