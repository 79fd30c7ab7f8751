/*
 * store_pg_mem.c: what the PostgreSQL store's reads answer from.
 *
 * Reads must answer at once (store_backend.h, point 5) and the database
 * is a round trip away, so what they read is kept here: loaded at start,
 * then kept up to date.  Finished inputs enter when their row is
 * committed (a read sees every committed change, and only those);
 * conversation appends and clears, and usage, when they are queued (a
 * hand-over sees what is still to be written).  The retention limits are
 * applied here as finished inputs arrive, and each input forgotten is
 * deleted from the database with the next transaction.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "log.h"
#include "store_pg.h"
#include "timeutil.h"

/* A finished input of a member. */
struct fin {
	TAILQ_ENTRY(fin)	 entry;		/* oldest first */
	UT_hash_handle		 hk;		/* by key: the newest */
	char			*id, *key, *result, *error;
	int			 state, attempts;
	int64_t			 fin;
};

/* What is kept of one member. */
struct mem {
	char			*member;
	TAILQ_HEAD(fin_tq, fin)	 fins;
	struct fin		*bykey;
	int			 nfin;
	char			**turns;	/* JSON arrays, oldest first */
	size_t			 nturns, capturns;
	int64_t			 usage[3];
	int			 has_usage;
	UT_hash_handle		 hh;
};

static struct mem	*mems;

/* The member's record, made when asked to (make) or NULL. */
static struct mem *
mem_get(const char *member, int make)
{
	struct mem *m;

	HASH_FIND_STR(mems, member, m);
	if (m != NULL || !make)
		return m;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("calloc");
	m->member = store_strdup(member);
	TAILQ_INIT(&m->fins);
	HASH_ADD_KEYPTR(hh, mems, m->member, strlen(m->member), m);
	return m;
}

/* A finished input leaves memory (its row goes with the next commit). */
static void
fin_drop(struct mem *m, struct fin *f, int forget)
{
	struct fin *k;

	TAILQ_REMOVE(&m->fins, f, entry);
	m->nfin--;
	if (f->key != NULL) {
		HASH_FIND(hk, m->bykey, f->key, strlen(f->key), k);
		if (k == f)
			HASH_DELETE(hk, m->bykey, f);
	}
	if (forget)
		pg_forget_input(f->id);
	free(f->id);
	free(f->key);
	free(f->result);
	free(f->error);
	free(f);
}

/* The oldest finished inputs beyond the retention limits are forgotten. */
static void
fin_keep(struct mem *m)
{
	struct fin *f;
	int64_t ms, cut;
	int max;

	store_retention(&max, &ms);
	cut = ms >= 0 ? (int64_t)wall_ms() - ms : INT64_MIN;
	while ((f = TAILQ_FIRST(&m->fins)) != NULL &&
	    (m->nfin > max || f->fin < cut))
		fin_drop(m, f, 1);
}

/* A finished input, committed (or loaded at start). */
void
pgm_finished(const char *member, const char *id, const char *key, int state,
    int attempts, const char *result, const char *error, int64_t fin)
{
	struct mem *m = mem_get(member, 1);
	struct fin *f, *old;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("calloc");
	f->id = store_strdup(id);
	f->key = store_strdup(key);
	f->result = store_strdup(result);
	f->error = store_strdup(error);
	f->state = state;
	f->attempts = attempts;
	f->fin = fin;
	TAILQ_INSERT_TAIL(&m->fins, f, entry);
	m->nfin++;
	if (f->key != NULL) {
		HASH_FIND(hk, m->bykey, f->key, strlen(f->key), old);
		if (old != NULL)
			HASH_DELETE(hk, m->bykey, old);
		HASH_ADD_KEYPTR(hk, m->bykey, f->key, strlen(f->key), f);
	}
	fin_keep(m);
}

/* A turn's messages (a JSON array) end the member's conversation. */
void
pgm_append(const char *member, const char *turn)
{
	struct mem *m = mem_get(member, 1);

	if (m->nturns == m->capturns) {
		m->capturns = m->capturns ? m->capturns * 2 : 16;
		if ((m->turns = reallocarray(m->turns, m->capturns,
		    sizeof(*m->turns))) == NULL)
			fatal("reallocarray");
	}
	m->turns[m->nturns++] = store_strdup(turn);
}

/* A reset: the member's conversation is gone. */
void
pgm_clear(const char *member)
{
	struct mem *m = mem_get(member, 0);
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nturns; i++)
		free(m->turns[i]);
	m->nturns = 0;
}

/* A member's token usage so far. */
void
pgm_usage(const char *member, const int64_t v[3])
{
	struct mem *m = mem_get(member, 1);

	memcpy(m->usage, v, sizeof(m->usage));
	m->has_usage = 1;
}

/* What is kept of one member goes (another node runs it now). */
void
pgm_forget(const char *member)
{
	struct mem *m = mem_get(member, 0);
	struct fin *f;

	if (m == NULL)
		return;
	while ((f = TAILQ_FIRST(&m->fins)) != NULL)
		fin_drop(m, f, 0);
	pgm_clear(m->member);
	free(m->turns);
	HASH_DEL(mems, m);
	free(m->member);
	free(m);
}

/* Everything is forgotten (close). */
void
pgm_free(void)
{
	struct mem *m, *t;
	struct fin *f;

	HASH_ITER(hh, mems, m, t) {
		while ((f = TAILQ_FIRST(&m->fins)) != NULL)
			fin_drop(m, f, 0);
		pgm_clear(m->member);
		free(m->turns);
		HASH_DEL(mems, m);
		free(m->member);
		free(m);
	}
}

/* Deduplication: the newest finished input of member with this key. */
int
pgm_recall(const char *member, const char *key, int64_t since_ms,
    struct store_fin *out)
{
	struct mem *m = mem_get(member, 0);
	struct fin *f;

	if (m == NULL)
		return 0;
	HASH_FIND(hk, m->bykey, key, strlen(key), f);
	if (f == NULL || f->fin < since_ms)
		return 0;
	snprintf(out->id, sizeof(out->id), "%s", f->id);
	out->state = f->state;
	out->attempts = f->attempts;
	out->result = store_strdup(f->result);
	out->error = store_strdup(f->error);
	return 1;
}

/* The newest max finished inputs of member, newest first. */
int
pgm_list(const char *member, int64_t since_ms, int max, store_row_cb fn,
    void *arg)
{
	struct mem *m = mem_get(member, 0);
	struct fin *f;
	int n = 0;

	if (m == NULL)
		return 0;
	for (f = TAILQ_LAST(&m->fins, fin_tq); f != NULL && n < max;
	    f = TAILQ_PREV(f, fin_tq, entry)) {
		if (f->fin < since_ms)
			continue;
		fn(arg, f->id, f->state, f->attempts, f->key);
		n++;
	}
	return n;
}

/*
 * A member's conversation for its restarting worker, one JSON array (NULL
 * when empty): of a conversation longer than max bytes, the newest whole
 * turns that fit.
 */
char *
pgm_history(const char *member, size_t max)
{
	struct mem *m = mem_get(member, 0);
	size_t first, i, len, used = 0, at = 0;
	char *s;

	if (m == NULL || m->nturns == 0)
		return NULL;
	for (first = m->nturns; first > 0; first--) {
		len = strlen(m->turns[first - 1]);
		if (used + len + 1 > max)
			break;
		used += len + 1;
	}
	if (first > 0)
		log_warnx("%s: the conversation is over %zu bytes: the worker "
		    "is handed its newest turns, %zu older ones stay in the "
		    "database", member, max, first);
	if ((s = malloc(used + 3)) == NULL)
		fatal("malloc");
	s[at++] = '[';
	for (i = first; i < m->nturns; i++) {
		len = strlen(m->turns[i]);
		if (len < 2 || m->turns[i][0] != '[' ||
		    m->turns[i][len - 1] != ']' || len == 2)
			continue;
		if (at > 1)
			s[at++] = ',';
		memcpy(s + at, m->turns[i] + 1, len - 2);
		at += len - 2;
	}
	if (at == 1) {
		free(s);
		return NULL;
	}
	s[at++] = ']';
	s[at] = '\0';
	return s;
}

/* A member's token usage as last saved: 1 (into v), 0 none. */
int
pgm_usage_load(const char *member, int64_t v[3])
{
	struct mem *m = mem_get(member, 0);

	if (m == NULL || !m->has_usage)
		return 0;
	memcpy(v, m->usage, sizeof(m->usage));
	return 1;
}
