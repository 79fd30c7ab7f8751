/*
 * store.h: the store interface, the only way domains reach what is kept.
 *
 * Domains (mailbox.c, members.c, schedules.c, deliveries.c) queue changes
 * with the calls below (a changed input through mob/persist.c, which the
 * store pulls it from) and learn that they are kept through
 * store_after_commit(); they never name a backend.  store.c holds the
 * one backend chosen at open (store_backend.h says what a backend is):
 *
 *   memory   no state_dir: nothing is kept beyond the process; changes
 *            are dropped, after-commit callbacks run at once (err NULL),
 *            reads find nothing.  The mailbox keeps its own bounded
 *            memory of finished inputs and turns (store_enabled() is 0).
 *   sqlite   state_dir: store_sqlite*.c, group commit on a writer thread.
 *   pg       store = postgresql://...: store_pg*.c, libpq asynchronous
 *            in the loop, one pipelined transaction in flight.
 *
 * Invariants every backend keeps (store_backend.h has the details):
 * nothing is acknowledged before it is durable; changes are applied, and
 * callbacks run, in the order they were queued; a failed write is
 * reported to what waited on it and turns the store "failed" until a
 * write succeeds; the loop thread never waits for a write.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_ID_MAX	64

/* An input as a backend writes or loads it (strings borrowed). */
struct store_input {
	const char	*id, *member, *key, *text, *result, *error;
	int64_t		 seq, accepted_ms;
	int64_t		 fin;		/* wall ms it finished; 0: not yet */
	int		 state;		/* running is written as queued */
	int		 attempts;
	int		 fresh;		/* never committed yet */
};

/* A finished input found by its key (strings the caller's). */
struct store_fin {
	char		 id[STORE_ID_MAX];
	int		 state, attempts;
	char		*result, *error;
};

/* Run once what was queued before is kept (err NULL) or could not be. */
typedef void (*store_done_cb)(void *arg, const char *err);
/* One finished input of a listing. */
typedef void (*store_row_cb)(void *, const char *id, int state,
	    int attempts, const char *key);

/* Opening, loading, closing (mobkitd.c, mob/register.c); where is a
 * state_dir or a postgresql:// URI; the node (before open) for the
 * latter. */
int	 store_is_url(const char *where);
void	 store_set_node(const char *node_id, int64_t lease_ms);
void	 store_set_origin(const char *file, int line);
int	 store_verify(const char *where);
int	 store_open(const char *where);
int	 store_load(void);
int	 store_commit(void);
void	 store_close(void);

/* What the store is: kept beyond the process (1), or not; failed. */
int	 store_enabled(void);
const char *store_failure(void);

/* Changes, queued for the next commit (inputs: the sink's dirty set). */
void	 store_snapshot_append(const char *member, const char *messages);
void	 store_snapshot_clear(const char *member);
void	 store_claim(const char *schedule, int64_t due_ms,
	    int64_t forget_before);
void	 store_delivery(const char *id, const char *blob, size_t len);
void	 store_delivery_forget(const char *id);
void	 store_peers(void);
void	 store_after_commit(store_done_cb, void *arg);

/* Reads: what is kept, with what is still queued where it matters. */
int	 store_recall(const char *member, const char *key, int64_t since_ms,
	    struct store_fin *);
int	 store_finished(const char *member, int64_t since_ms, int max,
	    store_row_cb, void *);
char	*store_history(const char *member, size_t max);
/* Token usage per member: saved with the next commit; read back (1). */
void	 store_usage(const char *member, int64_t in, int64_t out,
	    int64_t turns);
int	 store_usage_load(const char *member, int64_t v[3]);

/*
 * What the store needs of the domains above it, registered by them at
 * start (mob/persist.c): the store includes no domain header.  Backends
 * reach these through the store_take_* / store_saved / store_loaded_*
 * calls of store_backend.h, which store.c passes on.
 */
typedef void (*store_input_fn)(void *, const struct store_input *);
typedef void (*store_edge_fn)(void *, const char *a, const char *b);
struct ev_loop;
struct store_sink {
	/* the loop to watch; the input retention limits now; an event
	 * for the operator (store_report(), store_backend.h) */
	struct ev_loop *(*loop)(void);
	void	 (*retention)(int *max, int64_t *ms);
	void	 (*report)(const char *type, const char *err, int64_t ms);
	/* each input changed since the last call, once, as a row; then
	 * clean; how many are waiting; forget them (the store closed) */
	size_t	 (*take_inputs)(store_input_fn, void *);
	size_t	 (*dirty)(void);
	void	 (*forget)(void);
	/* the peer graph's edges, a < b */
	void	 (*edges)(store_edge_fn, void *);
	/* an input's row committed (err NULL) or not; its callbacks ran */
	void	 (*saved)(const char *member, const char *id, const char *err);
	void	 (*released)(const char *member, const char *id);
	/* a new input's key was held by another input, orig (a database
	 * shared by nodes): it was not taken */
	void	 (*deduped)(const char *member, const char *id,
		    const char *orig);
	/* rows handed over at load; input -1: its member is gone */
	void	 (*loaded_seq)(const char *member, int64_t seq);
	int	 (*loaded_input)(const struct store_input *);
	void	 (*loaded_peer)(const char *a, const char *b);
	void	 (*loaded_delivery)(const void *rec, size_t len);
	void	 (*loaded_claim)(const char *schedule, int64_t due_ms);
	/* a turn's messages as they are kept (each message noted with its
	 * input and time), or NULL: as they came; freed by the store */
	char	*(*annotate)(const char *member, const char *messages);
};
void	 store_sink_set(const struct store_sink *);

#endif
