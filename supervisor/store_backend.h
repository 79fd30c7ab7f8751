/*
 * store_backend.h: what a store backend is, and what store.c offers it.
 *
 * A backend is a table of operations (struct store_ops) chosen by
 * store_open(): the in-memory one (store_mem.c) without state_dir, SQLite
 * (store_sqlite*.c) with it, PostgreSQL (store_pg*.c) with
 * "store = postgresql://..."; none touches a domain.
 * Backends include this header, never a domain's: what they need of the
 * domains (the inputs that changed, the peer graph, where loaded rows go,
 * whom to tell what was saved) store.c hands them through the store_*
 * functions at the end of this file, from the sink the domains registered
 * (struct store_sink, store.h; mob/persist.c).
 *
 * What a backend must guarantee:
 *
 * 1. Ack after durable.  A change is queued by an operation (append,
 *    claim, delivery, ...) or pulled with store_take_inputs() and
 *    store_take_peers() at the backend's own flush point (before the loop
 *    blocks).  A callback given to after_commit() runs only once every
 *    change queued before it is durable -- on disk, synced, or committed
 *    by the database -- with err NULL; never earlier.  Each pulled input
 *    is reported with store_saved() (err NULL) before the callbacks of
 *    its commit run, and store_released() after them.
 * 2. Ordering.  Changes are applied in the order queued (an append and a
 *    clear of one member, two updates of one input); commits complete,
 *    and their callbacks run, in that order; a retried change goes before
 *    what came after it.
 * 3. Failure reporting.  A write that fails is never silent: every input
 *    of it hears store_saved(..., "store: <why>") (a new input is then
 *    rejected by its mailbox; one already durable is pulled again), every
 *    callback runs with that err, failure() answers it until a write
 *    succeeds again, store_report("store.write_failed", why, 0) once when
 *    it starts and store_report("store.recovered", NULL, ms) when it ends.
 *    While failed the backend retries on its own (a timer); other changes
 *    (appends, claims, the peer graph) are kept and written with the
 *    retry; delivery records are saved again by deliveries.c.
 * 4. The loop never waits for a write.  Writes happen on another thread
 *    (SQLite) or asynchronously (a socket in the loop); only commit(), at
 *    shutdown, may block until everything queued is written or failed.
 *    Callbacks and store_* upcalls are made on the loop thread only.
 * 5. Reads answer at once.  recall(), finished() and history() are
 *    synchronous: they read a local copy (SQLite: a read-only connection
 *    of the loop's own) and see every committed change; history() also
 *    sees appends and clears still queued.  A remote backend answers them
 *    from state it keeps in memory (or the interface grows asynchronous
 *    reads: a send would then wait on the recall as it waits on a commit).
 * 6. Open checks.  open() refuses (-1, said in the log) a store it cannot
 *    read whole or that is not this application's or is of a newer
 *    schema, rather than start empty over it; older schemas are migrated
 *    in one transaction.  load() forgets what is past the retention
 *    limits, hands everything else over (store_loaded_*), then starts
 *    writing.  Retention is applied in the transaction that adds rows.
 */
#ifndef STORE_BACKEND_H
#define STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "store.h"

/* struct store_input, struct store_fin: store.h. */

struct store_ops {
	const char	*name;
	int		 persistent;	/* anything outlives the process */
	int		 (*verify)(const char *where);
	int		 (*open)(const char *where);
	int		 (*load)(void);
	int		 (*commit)(void);
	void		 (*close)(void);
	const char	*(*failure)(void);
	void		 (*append)(const char *member, const char *turn);
	void		 (*clear)(const char *member);
	void		 (*claim)(const char *schedule, int64_t due_ms,
			    int64_t forget_before);
	void		 (*delivery)(const char *id, const void *rec,
			    size_t len);
	void		 (*delivery_forget)(const char *id);
	void		 (*after_commit)(store_done_cb, void *arg);
	int		 (*recall)(const char *member, const char *key,
			    int64_t since_ms, struct store_fin *);
	int		 (*finished)(const char *member, int64_t since_ms,
			    int max, store_row_cb, void *);
	char		*(*history)(const char *member, size_t max);
	/* token usage per member (in, out, turns); NULL: not kept */
	void		 (*usage)(const char *member, int64_t in, int64_t out,
			    int64_t turns);
	int		 (*usage_load)(const char *member, int64_t v[3]);
};

extern const struct store_ops store_mem_ops;
extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

/* store.c, for backends: the loop and the settings they work with. */
struct ev_loop *store_loop(void);
void	 store_retention(int *max, int64_t *ms);
/* This node's id and lease (store_set_node()), for a shared database. */
const char *store_node_id(void);
int64_t	 store_lease_ms(void);
/* "FILE:LINE: " of the line that named the store (or ""), for -t. */
const char *store_origin(void);

/* Pulling what changed: each dirty input once (then clean); the peer
 * graph's edges, a < b, when it changed (1) or not (0). */
size_t	 store_take_inputs(store_input_fn, void *);
int	 store_take_peers(store_edge_fn, void *);
void	 store_peers_again(void);
size_t	 store_dirty(void);

/* Telling the domains what became of a commit, and the operator. */
void	 store_saved(const char *member, const char *id, const char *err);
void	 store_released(const char *member, const char *id);
void	 store_deduped(const char *member, const char *id, const char *orig);
void	 store_report(const char *type, const char *err, int64_t ms);

/* Where load() hands rows over; store_loaded_input() is -1 for an input
 * of a member no longer configured (it stays where it is). */
void	 store_loaded_seq(const char *member, int64_t seq);
int	 store_loaded_input(const struct store_input *);
void	 store_loaded_peer(const char *a, const char *b);
void	 store_loaded_delivery(const void *rec, size_t len);
void	 store_loaded_claim(const char *schedule, int64_t due_ms);

/* Small helpers shared by backends. */
char	*store_strdup(const char *);

#endif
