/*
 * store_sqlite.h: the SQLite backend's own parts, shared by its files.
 *
 *   store_sqlite_open.c   checking, creating, migrating, opening, closing
 *   store_sqlite_batch.c  the loop's side: batches filled, submitted, and
 *                         what their commit (or failure) means
 *   store_sqlite_write.c  the writer thread: transactions and retention
 *   store_sqlite_read.c   the loop's reads and the load at start
 *
 * Threads: before load() ends only the loop uses sq_db; after, only the
 * writer thread does (the loop reads through sq_rdb).  Batches move from
 * the loop to the writer and back through two queues under one mutex
 * (store_sqlite_write.c); nothing else is shared.
 */
#ifndef STORE_SQLITE_H
#define STORE_SQLITE_H

#include <sys/queue.h>

#include <limits.h>

#include <sqlite3.h>

#include "store_backend.h"
#include "config.h"		/* struct strlist */

#define STORE_APP_ID	0x6d6b6974	/* "mkit" */
#define STORE_VERSION	3

/* One row change, copied out of the loop's structures for the writer. */
struct row {
	int		 kind;
	char		*id, *member, *key, *text, *result, *error;
	int64_t		 seq, accepted, fin;
	int		 state, attempts;
	size_t		 len;		/* of text, for blobs */
};
enum { R_INPUT, R_APPEND, R_CLEAR, R_CLAIM, R_DELIVERY, R_DELIVERY_FORGET,
    R_USAGE };	/* R_USAGE: member; seq, accepted, fin = in, out, turns */

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

extern char		 sq_path[PATH_MAX];
extern sqlite3		*sq_db;		/* the writer's (the loop's at load) */
extern sqlite3		*sq_rdb;	/* the loop's, read only */
extern struct batch	*sq_cur;	/* being filled by the loop */
extern struct batch	*sq_redo;	/* failed rows to write again */

/* store_sqlite_open.c */
int	 sq_prepare(sqlite3 *, const char *sql, sqlite3_stmt **);
void	 sq_bind_text(sqlite3_stmt *, int, const char *);

/* store_sqlite_batch.c */
struct batch *sq_batch_new(void);
void	 sq_batch_free(struct batch *);
int	 sq_start(void);
int	 sq_commit(void);
void	 sq_stop(void);
const char *sq_failure(void);
void	 sq_append(const char *member, const char *turn);
void	 sq_clear(const char *member);
void	 sq_usage(const char *member, int64_t in, int64_t out, int64_t turns);
void	 sq_claim(const char *schedule, int64_t due_ms, int64_t forget_before);
void	 sq_delivery(const char *id, const void *rec, size_t len);
void	 sq_delivery_forget(const char *id);
void	 sq_after_commit(store_done_cb, void *);

/* store_sqlite_write.c */
int	 sq_writer_prepare(void);
void	 sq_writer_finalize(void);
int	 sq_writer_start(struct ev_loop *, ev_async *);
void	 sq_writer_put(struct batch *);
struct batch *sq_writer_take(void);
void	 sq_writer_wait_idle(void);
void	 sq_writer_stop(void);
void	 sq_keep_at_load(int max, int64_t ms);
void	 sq_counts_free(void);

/* store_sqlite_read.c */
int	 sq_reader_open(void);
void	 sq_reader_close(void);
int	 sq_load(void);
int	 sq_recall(const char *, const char *, int64_t, struct store_fin *);
int	 sq_finished(const char *, int64_t, int, store_row_cb, void *);
char	*sq_history(const char *member, size_t max);
int	 sq_usage_load(const char *member, int64_t v[3]);

#endif
