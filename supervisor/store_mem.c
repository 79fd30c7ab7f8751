/*
 * store_mem.c: the in-memory backend, without state_dir.
 *
 * Nothing outlives the process: changes are dropped, what waits on a
 * commit runs at once (nothing can fail), and reads find nothing kept.
 * The mailbox keeps its own bounded memory of finished inputs and of the
 * conversation instead (store_enabled() is 0).
 */
#include <stdlib.h>

#include "store_backend.h"

/* Nothing to check, open or load. */
static int
mem_where(const char *where)
{
	(void)where;
	return 0;
}

/* Nothing to load, nothing to wait for. */
static int
mem_none(void)
{
	return 0;
}

/* Nothing to close. */
static void
mem_close(void)
{
}

/* Never failed. */
static const char *
mem_failure(void)
{
	return NULL;
}

/* A change of a member (an append, a clear) is not kept. */
static void
mem_member(const char *member, const char *turn)
{
	(void)member;
	(void)turn;
}

/* A clear is not kept. */
static void
mem_clear(const char *member)
{
	(void)member;
}

/* A claim is not kept (schedules.c remembers it in memory). */
static void
mem_claim(const char *schedule, int64_t due_ms, int64_t forget_before)
{
	(void)schedule;
	(void)due_ms;
	(void)forget_before;
}

/* A delivery record is not kept. */
static void
mem_delivery(const char *id, const void *rec, size_t len)
{
	(void)id;
	(void)rec;
	(void)len;
}

/* Nothing to forget. */
static void
mem_delivery_forget(const char *id)
{
	(void)id;
}

/* Nothing is written: what waits on a commit runs at once. */
static void
mem_after_commit(store_done_cb fn, void *arg)
{
	fn(arg, NULL);
}

/* No finished input is kept here. */
static int
mem_recall(const char *member, const char *key, int64_t since_ms,
    struct store_fin *out)
{
	(void)member;
	(void)key;
	(void)since_ms;
	(void)out;
	return 0;
}

/* No finished input is kept here. */
static int
mem_finished(const char *member, int64_t since_ms, int max, store_row_cb fn,
    void *arg)
{
	(void)member;
	(void)since_ms;
	(void)max;
	(void)fn;
	(void)arg;
	return 0;
}

/* No conversation is kept here. */
static char *
mem_history(const char *member, size_t max)
{
	(void)member;
	(void)max;
	return NULL;
}

const struct store_ops store_mem_ops = {
	.name = "memory",
	.persistent = 0,
	.verify = mem_where,
	.open = mem_where,
	.load = mem_none,
	.commit = mem_none,
	.close = mem_close,
	.failure = mem_failure,
	.append = mem_member,
	.clear = mem_clear,
	.claim = mem_claim,
	.delivery = mem_delivery,
	.delivery_forget = mem_delivery_forget,
	.after_commit = mem_after_commit,
	.recall = mem_recall,
	.finished = mem_finished,
	.history = mem_history,
};
