/*
 * store.c: the store interface (store.h) over the backend chosen at open.
 *
 * Domains call the store_* functions; this file passes them to the one
 * backend (store_backend.h): the in-memory one until store_open() picks
 * another.  It also passes backends what they need of the domains and
 * must not reach themselves (the inputs changed since the last flush, the
 * peer graph, where loaded rows and commit results go, the loop, the
 * retention limits, the operator's events) to and from the sink the
 * domains registered (store_sink_set(); mob/persist.c), and keeps whether
 * the peer graph changed.  It includes no domain or engine header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_backend.h"
#include "store.h"

static const struct store_ops *be = &store_mem_ops;
static const struct store_sink *sink;
static int		 peers_dirty;
static char		*node_id;
static int64_t		 lease_ms = 10000;
static char		 origin[1100];	/* "FILE:LINE: " of the store's line */

/* strdup, NULL staying NULL. */
char *
store_strdup(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		fatal("strdup");
	return d;
}

/* Is where a database's URI (postgresql:// or postgres://)? */
int
store_is_url(const char *where)
{
	return strncmp(where, "postgresql://", 13) == 0 ||
	    strncmp(where, "postgres://", 11) == 0;
}

/*
 * The backend for a place to keep state: a state_dir is SQLite's, a
 * postgresql:// URI PostgreSQL's.
 */
static const struct store_ops *
backend_for(const char *where)
{
	return store_is_url(where) ? &store_pg_ops : &store_sqlite_ops;
}

/* This node's id and lease, for a store shared by nodes ([mobkitd]). */
void
store_set_node(const char *id, int64_t ms)
{
	free(node_id);
	node_id = store_strdup(id);
	lease_ms = ms;
}

/* Where the store was named ("FILE:LINE: "), for -t's messages. */
void
store_set_origin(const char *file, int line)
{
	snprintf(origin, sizeof(origin), "%s:%d: ", file, line);
}

/* "FILE:LINE: " of the store's line, or "". */
const char *
store_origin(void)
{
	return origin;
}

/* This node's id ("" before store_set_node()). */
const char *
store_node_id(void)
{
	return node_id != NULL ? node_id : "";
}

/* How long this node's hold on a member lasts unrenewed. */
int64_t
store_lease_ms(void)
{
	return lease_ms;
}

/* -t: the store at where is sound (or absent); say what is wrong. */
int
store_verify(const char *where)
{
	return backend_for(where)->verify(where);
}

/* Open (or create) the store at where, checked; -1 when it must not run. */
int
store_open(const char *where)
{
	const struct store_ops *ops = backend_for(where);

	if (ops->open(where) == -1)
		return -1;
	be = ops;
	return 0;
}

/* Hand everything kept to the domains and start writing; -1 on error. */
int
store_load(void)
{
	int n;

	n = be->load();
	peers_dirty = 0;
	return n;
}

/* Block until everything queued is written or failed (shutdown). */
int
store_commit(void)
{
	return be->commit();
}

/* Write what is left and close; the in-memory backend from now on. */
void
store_close(void)
{
	be->close();
	be = &store_mem_ops;
	if (sink != NULL)
		sink->forget();
}

/* The domains' side of loading and flushing (mob/persist.c). */
void
store_sink_set(const struct store_sink *s)
{
	sink = s;
}

/* Is anything kept beyond this process (state_dir)? */
int
store_enabled(void)
{
	return be->persistent;
}

/* "store: <what failed>" while the store cannot write, else NULL. */
const char *
store_failure(void)
{
	return be->failure();
}

/* A turn's messages are appended to the member's conversation. */
void
store_snapshot_append(const char *member, const char *messages)
{
	char *noted = sink != NULL && sink->annotate != NULL ?
	    sink->annotate(member, messages) : NULL;

	be->append(member, noted != NULL ? noted : messages);
	free(noted);
}

/* A reset: the member's conversation is deleted. */
void
store_snapshot_clear(const char *member)
{
	be->clear(member);
}

/* A schedule's due time was claimed: it must never fire again. */
void
store_claim(const char *schedule, int64_t due_ms, int64_t forget_before)
{
	be->claim(schedule, due_ms, forget_before);
}

/* A delivery record changed: its whole (msgpack) record is kept. */
void
store_delivery(const char *id, const char *blob, size_t len)
{
	be->delivery(id, blob, len);
}

/* A delivery record is forgotten (retention). */
void
store_delivery_forget(const char *id)
{
	be->delivery_forget(id);
}

/* The peer graph changed: it is written whole with the next commit. */
void
store_peers(void)
{
	peers_dirty = 1;
}

/*
 * Run fn(arg, err) once what is queued now is committed (err NULL) or
 * could not be (err "store: ..."); at once in memory.
 */
void
store_after_commit(store_done_cb fn, void *arg)
{
	be->after_commit(fn, arg);
}

/*
 * Deduplication: the finished input of member with this key, remembered
 * since since_ms.  1 found (*f filled, its strings the caller's), 0
 * none, -1 the store could not be read.
 */
int
store_recall(const char *member, const char *key, int64_t since_ms,
    struct store_fin *f)
{
	memset(f, 0, sizeof(*f));
	return be->recall(member, key, since_ms, f);
}

/* The newest max finished inputs of member kept, newest first. */
int
store_finished(const char *member, int64_t since_ms, int max,
    store_row_cb fn, void *arg)
{
	return be->finished(member, since_ms, max, fn, arg);
}

/* A member's conversation for a hand-over (store_sqlite_read.c). */
char *
store_history(const char *member, size_t max)
{
	return be->history(member, max);
}

/* --- for backends ------------------------------------------------------ */

/* The loop backends watch and wake. */
struct ev_loop *
store_loop(void)
{
	return sink->loop();
}

/* The input retention limits now (they change on reload). */
void
store_retention(int *max, int64_t *ms)
{
	sink->retention(max, ms);
}

/* Each input changed since the last call, once, as a row; then clean. */
size_t
store_take_inputs(store_input_fn fn, void *arg)
{
	return sink->take_inputs(fn, arg);
}

/* The peer graph's edges (a < b) when it changed since the last call. */
int
store_take_peers(store_edge_fn fn, void *arg)
{
	if (!peers_dirty)
		return 0;
	sink->edges(fn, arg);
	peers_dirty = 0;
	return 1;
}

/* The peer graph could not be written: it goes with the next commit. */
void
store_peers_again(void)
{
	peers_dirty = 1;
}

/* Inputs changed and not yet taken. */
size_t
store_dirty(void)
{
	return sink->dirty();
}

/* An input's row was committed (err NULL) or not. */
void
store_deduped(const char *member, const char *id, const char *orig)
{
	sink->deduped(member, id, orig);
}

void
store_saved(const char *member, const char *id, const char *err)
{
	sink->saved(member, id, err);
}

/* An input's commit has run its callbacks: a finished one may go. */
void
store_released(const char *member, const char *id)
{
	sink->released(member, id);
}

/* store.write_failed {error} or store.recovered {failed_ms}. */
void
store_report(const char *type, const char *err, int64_t ms)
{
	sink->report(type, err, ms);
}

/* A member's last sequence number at load. */
void
store_loaded_seq(const char *member, int64_t seq)
{
	sink->loaded_seq(member, seq);
}

/* A pending input back into its mailbox; -1 when it has none. */
int
store_loaded_input(const struct store_input *r)
{
	return sink->loaded_input(r);
}

/* An edge of the peer graph at load. */
void
store_loaded_peer(const char *a, const char *b)
{
	sink->loaded_peer(a, b);
}

/* A delivery record at load. */
void
store_loaded_delivery(const void *rec, size_t len)
{
	sink->loaded_delivery(rec, len);
}

/* A claimed due time at load. */
void
store_loaded_claim(const char *schedule, int64_t due_ms)
{
	sink->loaded_claim(schedule, due_ms);
}

/* A member's token usage so far, kept by backends that keep it. */
void
store_usage(const char *member, int64_t in, int64_t out, int64_t turns)
{
	if (be->usage != NULL)
		be->usage(member, in, out, turns);
}

/* The usage kept of a member: 1 (into v), 0 none, -1 a read error. */
int
store_usage_load(const char *member, int64_t v[3])
{
	return be->usage_load != NULL ? be->usage_load(member, v) : 0;
}
