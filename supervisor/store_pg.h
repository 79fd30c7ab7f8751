/*
 * store_pg.h: the PostgreSQL backend's own parts, shared by its files.
 *
 *   store_pg_open.c   the URI, checking and migrating the schema, opening,
 *                     loading, closing; the operations table
 *   store_pg_conn.c   the connection in the loop: libpq asynchronous, in
 *                     pipeline mode, reconnected after a loss (the socket's
 *                     watcher and new connections: pgio.c, shared with
 *                     the cluster's own connection, pgq.c)
 *   store_pg_batch.c  changes queued, one transaction per flush, and what
 *                     its COMMIT (or failure) means
 *   store_pg_mem.c    what reads answer from at once: finished inputs,
 *                     conversations and usage, kept in memory
 *
 * One connection, on the loop thread only.  At start (open, load) and at
 * shutdown (commit) it is used blocking, as store_backend.h allows; in
 * between it is non-blocking, in pipeline mode, driven by an ev_io on its
 * socket, with at most one transaction in flight: what changes meanwhile
 * waits in the next batch (group commit).
 */
#ifndef STORE_PG_H
#define STORE_PG_H

#include <sys/queue.h>

#include <libpq-fe.h>

#include "pgio.h"
#include "store_backend.h"
#include "config.h"		/* struct strlist */

/* The session lock of a single-node store (one mobkitd per database). */
#define PG_LOCK_KEY	"7814196357722011764"	/* "mkit" "node" */

/* One change, copied out of the loop's structures. */
struct pg_row {
	int		 kind;
	char		*id, *member, *key, *text, *result, *error;
	int64_t		 seq, accepted, fin;
	int		 state, attempts;
	size_t		 len;		/* of text, for blobs */
	/* a cluster's: never committed; not written (a member another node
	 * runs); the result index of its mobkit.accept() and its answer */
	int		 fresh, skip, res_at;
	char		*held;
};
/* P_APPEND: id is the append's own id (tid); P_FORGET: an input's row
 * goes (retention, or a new input rejected after an unknown outcome);
 * P_USAGE: seq, accepted, fin = in, out, turns. */
/* How a row is written in a cluster (store_pg_conn.c, row_way()). */
enum { W_PLAIN, W_FENCED, W_ACCEPT, W_FORWARD, W_SKIP };
enum { P_INPUT, P_APPEND, P_CLEAR, P_CLAIM, P_DELIVERY, P_DELIVERY_FORGET,
    P_USAGE, P_FORGET };

struct pg_after {
	TAILQ_ENTRY(pg_after)	 entry;
	store_done_cb		 fn;
	void			*arg;
};

/* What one transaction writes, and what runs once it is committed. */
struct pg_batch {
	struct pg_row		*rows;
	size_t			 n, cap;
	struct strlist		 edges;		/* "a\tb" */
	int			 peers;		/* rewrite the peer table */
	TAILQ_HEAD(pg_after_q, pg_after) afters;
	int			 retry;		/* sent while failed */
	int			 sent;		/* statements sent */
	int			 got;		/* results back */
	int			 syncs;		/* sync points still to come */
	int			 commit_at;	/* the COMMIT's result, by index */
	int			 committed;	/* COMMIT answered "COMMIT" */
	char			*err;		/* NULL: committed */
	size_t			 wcur;		/* rows whose result is read */
};

extern struct pgio	 pg_io;		/* the store's connection */
extern char		 pg_desc[512];	/* the URI, its password hidden */

/* store_pg_open.c */
char	*pg_error(const char *prefix, const char *msg);
PGconn	*pg_connect(int async);

/* store_pg_load.c */
int	 pg_load(void);

/* store_pg_conn.c */
int	 pg_conn_ready(void);
void	 pg_conn_start(void);
void	 pg_conn_stop(void);
void	 pg_reconnect(void);
int	 pg_send(struct pg_batch *, int need_lock, int need_rollback);
int	 pg_wait(int timeout_ms);
int	 pg_reconnect_blocking(void);

/* store_pg_batch.c */
extern struct pg_batch	*pg_cur;	/* being filled */
extern struct pg_batch	*pg_redo;	/* failed rows to write again */
extern struct pg_batch	*pg_flight;	/* sent, not yet answered */
struct pg_batch *pg_batch_new(void);
void	 pg_batch_free(struct pg_batch *);
void	 pg_batch_done(struct pg_batch *);
void	 pg_connected(void);
void	 pg_lost(const char *why);
void	 pg_start(void);
int	 pg_commit(void);
void	 pg_stop(void);
const char *pg_failure(void);
void	 pg_append(const char *member, const char *turn);
void	 pg_clear(const char *member);
void	 pg_usage(const char *member, int64_t in, int64_t out, int64_t turns);
void	 pg_claim(const char *schedule, int64_t due_ms, int64_t forget_before);
void	 pg_delivery(const char *id, const void *rec, size_t len);
void	 pg_delivery_forget(const char *id);
void	 pg_after_commit(store_done_cb, void *);
void	 pg_forget_input(const char *id);
void	 pg_batch_result(struct pg_batch *, int at, const PGresult *);

/* store_pg_mem.c */
void	 pgm_finished(const char *member, const char *id, const char *key,
	    int state, int attempts, const char *result, const char *error,
	    int64_t fin);
void	 pgm_append(const char *member, const char *turn);
void	 pgm_clear(const char *member);
void	 pgm_usage(const char *member, const int64_t v[3]);
void	 pgm_free(void);
void	 pgm_forget(const char *member);
int	 pgm_recall(const char *, const char *, int64_t, struct store_fin *);
int	 pgm_list(const char *, int64_t, int, store_row_cb, void *);
char	*pgm_history(const char *member, size_t max);
int	 pgm_usage_load(const char *member, int64_t v[3]);

#endif
