/*
 * store.h: the store interface, the only way domains reach what is kept.
 *
 * Domains (mailbox.c, members.c, schedules.c, deliveries.c) queue changes
 * with the calls below and learn that they are kept through
 * store_after_commit(); they never name a backend.  store.c holds the
 * one backend chosen at open (store_backend.h says what a backend is):
 *
 *   memory   no state_dir: nothing is kept beyond the process; changes
 *            are dropped, after-commit callbacks run at once (err NULL),
 *            reads find nothing.  The mailbox keeps its own bounded
 *            memory of finished inputs and turns (store_enabled() is 0).
 *   sqlite   state_dir: store_sqlite*.c, group commit on a writer thread.
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

struct mbox;
struct input;

/* Run once what was queued before is kept (err NULL) or could not be. */
typedef void (*store_done_cb)(void *arg, const char *err);
/* One finished input of a listing. */
typedef void (*store_row_cb)(void *, const char *id, int state,
	    int attempts, const char *key);

/* Opening, loading, closing (mobkitd.c, tree.c). */
int	 store_verify(const char *where);
int	 store_open(const char *where);
int	 store_load(void);
int	 store_commit(void);
void	 store_close(void);

/* What the store is: kept beyond the process (1), or not; failed. */
int	 store_enabled(void);
const char *store_failure(void);

/* Changes, queued for the next commit. */
void	 store_input(struct mbox *, struct input *);
void	 store_input_drop(struct input *);
void	 store_snapshot_append(struct mbox *, const char *messages);
void	 store_snapshot_clear(struct mbox *);
void	 store_claim(const char *schedule, int64_t due_ms,
	    int64_t forget_before);
void	 store_delivery(const char *id, const char *blob, size_t len);
void	 store_delivery_forget(const char *id);
void	 store_peers(void);
void	 store_after_commit(store_done_cb, void *arg);

/* Reads: what is kept, with what is still queued where it matters. */
int	 store_recall(const char *member, const char *key, int64_t since_ms,
	    struct input *);
int	 store_finished(const char *member, int64_t since_ms, int max,
	    store_row_cb, void *);
char	*store_history(const char *member, size_t max);

#endif
