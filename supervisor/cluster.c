/*
 * cluster.c: this node's part in a mob spread over nodes on PostgreSQL.
 *
 * The database decides (supervisor/pg/schema/002_cluster.sql); this file
 * asks it, through pgq.c, and acts on the answers:
 *
 *   beat     every lease_ms / 3: the node's lease renewed; the answer is
 *            the members the database says this node holds, with their
 *            fences.  A member held here but missing from it (or under
 *            another fence) was taken by another node: it is dropped at
 *            once.  A lease is proven until the beat's send time plus
 *            lease_ms less a margin, on this node's monotonic clock; when
 *            no beat came back by then every member is dropped, before
 *            the database would let another node take them.
 *   adopt    after each beat, when a dead node's lease runs out and when
 *            told: members pinned here, moved here, and free ones up to
 *            this node's share are taken (fence raised); each is loaded
 *            (pending inputs, finished ones, conversation, usage) and its
 *            worker started.
 *   hand     a member rebalance moves elsewhere is stopped, its last
 *            writes committed, then released; the target takes it.
 *   notify   "mobkit_input": an input was written for a member this
 *            node runs (sent on another node): it is read in;
 *            "mobkit_cluster": something moved, adopt now.
 *
 * A member is in one of four states here: remote (another node runs it,
 * or nobody yet), loading (taken, being read), active (its worker runs
 * here), leaving (being handed over).  Only an active member's inputs
 * are queued here; a send to any other is written for its node.
 */
#include <sys/queue.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mpack.h"
#include "timeutil.h"
#include "uthash.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "client.h"
#include "cluster.h"
#include "verbs.h"
#include "mob/cluster_mob.h"
#include "mob/deliveries.h"
#include "pgq.h"
#include "roster.h"
#include "store.h"
#include "store_pg.h"

enum { CM_REMOTE, CM_LOADING, CM_ACTIVE, CM_LEAVING };
static const char *const cm_names[] = { "remote", "loading", "active",
    "leaving" };

struct cm {
	char		*id;
	int		 state;
	int64_t		 fence;		/* > 0: held here */
	char		*owner;		/* as last seen; NULL nobody */
	int64_t		 expires_in;	/* ms, as last seen; -1 expired */
	char		*pin;		/* [member] node = */
	int		 loads;		/* load queries in flight */
	int		 npending;	/* pending inputs read in */
	int		 fetch, refetch;	/* new inputs being read */
	int		 known;		/* in the roster now */
	UT_hash_handle	 hh;
};

static struct cm	*cms;
static int		 on;
static int		 joined;
static int64_t		 lease;
static uint64_t		 proven_until;	/* mono ms; 0: nothing proven */
static uint64_t		 beat_sent;
static int		 beat_busy, adopt_busy, adopt_again, deliveries_busy;
static int		 taken;		/* another mobkitd has this node_id */
static ev_timer		 beat_timer, adopt_timer, proof_timer, wait_timer;
static int		 wait_busy;
static char		 host[256];

static void	adopt_now(void);
static void	beat_now(void);

int
cluster_enabled(void)
{
	return on;
}

const char *
cluster_node_id(void)
{
	return store_node_id();
}

static struct cm *
cm_find(const char *id)
{
	struct cm *m;

	HASH_FIND_STR(cms, id, m);
	return m;
}

static struct cm *
cm_get(const char *id)
{
	struct cm *m;

	if ((m = cm_find(id)) != NULL)
		return m;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->id = strdup(id)) == NULL)
		fatal("calloc");
	HASH_ADD_KEYPTR(hh, cms, m->id, strlen(m->id), m);
	return m;
}

int
cluster_holds(const char *member, int64_t *fence)
{
	struct cm *m;

	if (!on || (m = cm_find(member)) == NULL || m->fence <= 0)
		return 0;
	if (fence != NULL)
		*fence = m->fence;
	return 1;
}

/* Runs here: its inputs are queued here (else written for its node). */
int
cluster_runs(const char *member)
{
	struct cm *m;

	if (!on)
		return 1;
	return (m = cm_find(member)) != NULL && m->state == CM_ACTIVE;
}

const char *
cluster_owner(const char *member)
{
	struct cm *m;

	if (!on || (m = cm_find(member)) == NULL)
		return NULL;
	if (m->fence > 0)
		return store_node_id();
	return m->owner;
}

const char *
cluster_member_state(const char *member)
{
	struct cm *m;

	if (!on || (m = cm_find(member)) == NULL)
		return NULL;
	return cm_names[m->state];
}

static void
set_owner(struct cm *m, const char *owner)
{
	free(m->owner);
	m->owner = NULL;
	if (owner != NULL && *owner != '\0' &&
	    (m->owner = strdup(owner)) == NULL)
		fatal("strdup");
}

/* A PostgreSQL array literal of strings: {"a","b"}. */
char *
cluster_pg_array(const char *const *v, int n)
{
	size_t len = 3, i;
	char *s, *p;
	int k;

	for (k = 0; k < n; k++)
		len += 3 + 2 * strlen(v[k]);
	if ((s = p = malloc(len)) == NULL)
		fatal("malloc");
	*p++ = '{';
	for (k = 0; k < n; k++) {
		if (k > 0)
			*p++ = ',';
		*p++ = '"';
		for (i = 0; v[k][i] != '\0'; i++) {
			if (v[k][i] == '"' || v[k][i] == '\\')
				*p++ = '\\';
			*p++ = v[k][i];
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return s;
}

/* The members known here (configured or spawned), as an array. */
static char *
known_array(int pins)
{
	const char **v;
	struct cm *m, *t;
	char *s;
	int n = 0;

	if ((v = calloc(HASH_COUNT(cms) + 1, sizeof(*v))) == NULL)
		fatal("calloc");
	HASH_ITER(hh, cms, m, t)
		if (m->known)
			v[n++] = pins ? (m->pin ? m->pin : "") : m->id;
	s = cluster_pg_array(v, n);
	free(v);
	return s;
}

void
cluster_mem_forget(const char *member)
{
	pgm_forget(member);
}

/* --- holding and dropping ------------------------------------------ */

static void
member_event(const char *member, const char *type, int64_t fence)
{
	struct evb b;

	evb_begin(&b, 2);
	mp_kstr(&b.pk, "node_id", store_node_id());
	mp_kint(&b.pk, "fence", fence);
	evb_emit(&b, "supervisor", member, type);
}

/*
 * Drop a member here: its worker killed (it may no longer write), its
 * mailbox emptied of what its new node will read from the database.
 */
static void
drop(struct cm *m, const char *why)
{
	struct child *c;

	if (m->fence <= 0 && m->state == CM_REMOTE)
		return;
	log_warnx("%s: no longer run on this node: %s", m->id, why);
	member_event(m->id, "cluster.member_lost", m->fence);
	m->fence = 0;
	m->state = CM_REMOTE;
	set_owner(m, NULL);
	if ((c = child_find(m->id)) != NULL)
		cluster_mob_lose(c, 1);
}

void
cluster_lost(const char *member, const char *why)
{
	struct cm *m;

	if ((m = cm_find(member)) != NULL)
		drop(m, why);
}

/* Everything held is dropped: the lease can no longer be proven. */
static void
drop_all(const char *why)
{
	struct cm *m, *t;

	HASH_ITER(hh, cms, m, t)
		if (m->fence > 0)
			drop(m, why);
}

void
cluster_taken(const char *why)
{
	if (taken)
		return;
	taken = 1;
	log_warnx("cluster: %s: this mobkitd stops (node %s is the other's)",
	    why, store_node_id());
	drop_all("another mobkitd runs as this node");
	daemon_shutdown_because(1, "another mobkitd has this node_id");
}

static void
proof_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	if (proven_until != 0 && mono_ms() >= proven_until) {
		proven_until = 0;
		drop_all("the lease could not be renewed in time");
	}
}

/* A member's data read in, one query each; the last starts it. */
static void
loaded(struct cm *m, const char *err)
{
	struct child *c;

	if (--m->loads > 0)
		return;
	if (m->state != CM_LOADING)
		return;
	if (err != NULL || (c = child_find(m->id)) == NULL) {
		/* still held: read again at the next beat */
		log_warnx("%s: cannot read it in: %s", m->id,
		    err ? err : "not configured here");
		return;
	}
	m->state = CM_ACTIVE;
	log_info("%s: runs on this node (fence %lld; loaded %d pending "
	    "input(s))", m->id, (long long)m->fence, m->npending);
	member_event(m->id, "cluster.member_adopted", m->fence);
	cluster_mob_active(c);
}

static void
load_inputs_cb(void *arg, const PGresult *res, const char *err)
{
	struct cm *m = arg;
	struct store_input r;
	struct child *c;
	int64_t max = 0;
	int i;

	if (err == NULL && m->state == CM_LOADING &&
	    (c = child_find(m->id)) != NULL) {
		for (i = 0; i < PQntuples(res); i++)
			if (pgq_ll(res, i, 1) > max)
				max = pgq_ll(res, i, 1);
		cluster_mob_begin(c, max);
		for (i = 0; i < PQntuples(res); i++) {
			memset(&r, 0, sizeof(r));
			r.id = pgq_val(res, i, 0);
			r.member = m->id;
			r.seq = pgq_ll(res, i, 1);
			r.key = PQgetisnull(res, i, 2) ? NULL :
			    pgq_val(res, i, 2);
			r.text = pgq_val(res, i, 3);
			r.state = (int)pgq_ll(res, i, 4);
			r.attempts = (int)pgq_ll(res, i, 5);
			r.accepted_ms = pgq_ll(res, i, 6);
			r.result = PQgetisnull(res, i, 7) ? NULL :
			    pgq_val(res, i, 7);
			r.error = PQgetisnull(res, i, 8) ? NULL :
			    pgq_val(res, i, 8);
			r.fin = pgq_ll(res, i, 9);
			if (r.fin != 0)
				pgm_finished(m->id, r.id, r.key, r.state,
				    r.attempts, r.result, r.error, r.fin);
			else {
				cluster_mob_input(c, &r);
				m->npending++;
			}
		}
	}
	loaded(m, err);
}

#define Q_MESSAGES	"SELECT data FROM mobkit.messages WHERE member = $1 " \
			"ORDER BY seq"
#define Q_USAGE		"SELECT input_tokens, output_tokens, turns FROM " \
			"mobkit.usage WHERE member = $1"

/* A member's conversation and usage, as read, into what the store's
 * reads answer from. */
static void
keep_messages(const char *id, const PGresult *res)
{
	int i;

	pgm_clear(id);
	for (i = 0; i < PQntuples(res); i++)
		pgm_append(id, pgq_val(res, i, 0));
}

static void
keep_usage(const char *id, const PGresult *res)
{
	int64_t v[3];

	if (PQntuples(res) == 0)
		return;
	v[0] = pgq_ll(res, 0, 0);
	v[1] = pgq_ll(res, 0, 1);
	v[2] = pgq_ll(res, 0, 2);
	pgm_usage(id, v);
}

static void
load_messages_cb(void *arg, const PGresult *res, const char *err)
{
	struct cm *m = arg;

	if (err == NULL && m->state == CM_LOADING)
		keep_messages(m->id, res);
	loaded(m, err);
}

static void
load_usage_cb(void *arg, const PGresult *res, const char *err)
{
	struct cm *m = arg;

	if (err == NULL && m->state == CM_LOADING)
		keep_usage(m->id, res);
	loaded(m, err);
}

/* Read a member in: its inputs (pending, and finished ones still kept
 * for deduplication), its conversation, its usage. */
static void
load(struct cm *m)
{
	char since[24];
	const char *v[2] = { m->id, since };
	int max;
	int64_t ms;

	if (m->loads > 0)
		return;
	m->npending = 0;
	store_retention(&max, &ms);
	snprintf(since, sizeof(since), "%lld", ms >= 0 ?
	    (long long)((int64_t)wall_ms() - ms) : (long long)INT64_MIN);
	m->loads = 3;
	pgq_query("SELECT id, seq, key, text, state, attempts, accepted_ms, "
	    "result, error, coalesce(fin, 0) FROM mobkit.inputs "
	    "WHERE member = $1 AND (fin IS NULL OR fin >= $2) "
	    "ORDER BY fin IS NOT NULL, seq = 0, seq, arrival", 2, v,
	    load_inputs_cb, m);
	pgq_query(Q_MESSAGES, 1, v, load_messages_cb, m);
	pgq_query(Q_USAGE, 1, v, load_usage_cb, m);
}

/* The database gave this node a member (or said it holds it). */
static void
take(const char *id, int64_t fence)
{
	struct cm *m = cm_get(id);

	if (m->fence == fence && m->state != CM_REMOTE)
		return;
	if (m->fence > 0 && m->fence != fence) {
		/* (a fence raised by this node itself: a restart's join) */
		drop(m, "taken again under a new fence");
	}
	m->fence = fence;
	m->state = CM_LOADING;
	set_owner(m, store_node_id());
	load(m);
}

/* --- beat ------------------------------------------------------------ */

static void
view_nodes_cb(void *arg, const PGresult *res, const char *err)
{
	struct cm *m;
	int i;
	double next = -1, in;

	(void)arg;
	if (err != NULL)
		return;
	for (i = 0; i < PQntuples(res); i++) {
		if ((m = cm_find(pgq_val(res, i, 0))) == NULL)
			continue;
		if (m->fence <= 0)
			set_owner(m, PQgetisnull(res, i, 1) ? NULL :
			    pgq_val(res, i, 1));
		m->expires_in = PQgetisnull(res, i, 2) ? -1 :
		    pgq_ll(res, i, 2);
		/* a member of another node: adopt once its lease is out */
		if (m->fence <= 0 && m->known && m->expires_in >= 0 &&
		    m->owner != NULL &&
		    strcmp(m->owner, store_node_id()) != 0) {
			in = (double)m->expires_in / 1000. + 0.05;
			if (next < 0 || in < next)
				next = in;
		}
	}
	if (next >= 0 && joined) {
		ev_timer_stop(D->loop, &adopt_timer);
		ev_timer_set(&adopt_timer, next, 0.);
		ev_timer_start(D->loop, &adopt_timer);
	}
}

/* The delivery records of nodes that are gone: sent from here now. */
static void
deliveries_cb(void *arg, const PGresult *res, const char *err)
{
	unsigned char *raw;
	size_t len;
	int i;

	(void)arg;
	deliveries_busy = 0;
	if (err != NULL) {
		log_debug("cluster: adopt deliveries: %s", err);
		return;
	}
	for (i = 0; i < PQntuples(res); i++) {
		if ((raw = PQunescapeBytea((const unsigned char *)
		    PQgetvalue(res, i, 1), &len)) == NULL)
			fatal("PQunescapeBytea");
		delivery_adopt(raw, len);
		PQfreemem(raw);
	}
}

static void
adopt_deliveries(void)
{
	const char *v[1] = { store_node_id() };

	if (deliveries_busy)
		return;
	deliveries_busy = 1;
	pgq_query("SELECT * FROM mobkit.adopt_deliveries($1)", 1, v,
	    deliveries_cb, NULL);
}

static void
beat_cb(void *arg, const PGresult *res, const char *err)
{
	struct cm *m, *t;
	const char *id, *target;
	uint64_t sent = (uint64_t)(uintptr_t)arg;
	int i;

	beat_busy = 0;
	if (err != NULL) {
		log_debug("cluster: beat: %s", err);
		return;
	}
	proven_until = sent + (uint64_t)lease - (uint64_t)(lease / 10 > 100 ?
	    lease / 10 : 100);
	ev_timer_stop(D->loop, &proof_timer);
	ev_timer_set(&proof_timer, (double)(proven_until - mono_ms()) /
	    1000., 0.);
	ev_timer_start(D->loop, &proof_timer);
	/* what the database says this node holds */
	HASH_ITER(hh, cms, m, t) {
		if (m->fence <= 0)
			continue;
		for (i = 0; i < PQntuples(res); i++)
			if (strcmp(pgq_val(res, i, 0), m->id) == 0)
				break;
		if (i == PQntuples(res) || pgq_ll(res, i, 1) != m->fence)
			drop(m, "another node took it");
	}
	for (i = 0; i < PQntuples(res); i++) {
		id = pgq_val(res, i, 0);
		target = pgq_val(res, i, 2);
		if ((m = cm_find(id)) == NULL || !m->known)
			continue;
		if (m->fence <= 0 && joined)
			take(id, pgq_ll(res, i, 1));
		if (*target != '\0' && strcmp(target, store_node_id()) != 0 &&
		    m->state == CM_ACTIVE)
			cluster_handover(id);
	}
	if (joined) {
		adopt_now();
		adopt_deliveries();
	}
}

static void
beat_now(void)
{
	char pid[16], ls[24];
	const char *v[4] = { store_node_id(), host, pid, ls };
	uint64_t now = mono_ms();

	if (beat_busy)
		return;
	beat_busy = 1;
	beat_sent = now;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(ls, sizeof(ls), "%lld", (long long)lease);
	pgq_query("SELECT * FROM mobkit.beat($1, $2, $3, $4)", 4, v, beat_cb,
	    (void *)(uintptr_t)now);
	pgq_query("SELECT m.member, m.node_id, CASE WHEN n.lease_until > now() "
	    "THEN (extract(epoch FROM n.lease_until - now()) * 1000)::bigint "
	    "END FROM mobkit.members m LEFT JOIN mobkit.nodes n ON n.node_id = "
	    "m.node_id", 0, NULL, view_nodes_cb, NULL);
}

static void
beat_timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	beat_now();
}

/* --- adopt ----------------------------------------------------------- */

static void
adopt_cb(void *arg, const PGresult *res, const char *err)
{
	int i;

	(void)arg;
	adopt_busy = 0;
	if (err != NULL)
		log_debug("cluster: adopt: %s", err);
	else
		for (i = 0; i < PQntuples(res); i++) {
			log_info("%s: taken by this node", pgq_val(res, i, 0));
			take(pgq_val(res, i, 0), pgq_ll(res, i, 1));
		}
	if (adopt_again) {
		adopt_again = 0;
		adopt_now();
	}
}

static void
adopt_now(void)
{
	const char *v[2];
	char *known;

	if (!joined || D->shutting_down)
		return;
	if (adopt_busy) {
		adopt_again = 1;
		return;
	}
	adopt_busy = 1;
	known = known_array(0);
	v[0] = store_node_id();
	v[1] = known;
	pgq_query("SELECT * FROM mobkit.adopt($1, $2::text[])", 2, v, adopt_cb,
	    NULL);
	free(known);
}

static void
adopt_timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	if (!joined) {
		joined = 1;
		beat_now();	/* takes what the database says is ours */
	}
	adopt_now();
}

/* --- join ------------------------------------------------------------ */

static void
join_cb(void *arg, const PGresult *res, const char *err)
{
	int i;

	(void)arg;
	if (err != NULL) {
		log_warnx("cluster: cannot join: %s", err);
		return;
	}
	for (i = 0; i < PQntuples(res); i++)
		take(pgq_val(res, i, 0), pgq_ll(res, i, 1));
}

/* Tell the database the roster (and pins); take back what was ours. */
static void
join(void)
{
	char *known, *pins;
	const char *v[3];

	known = known_array(0);
	pins = known_array(1);
	v[0] = store_node_id();
	v[1] = known;
	v[2] = pins;
	pgq_query("SELECT * FROM mobkit.join($1, $2::text[], $3::text[])", 3,
	    v, join_cb, NULL);
	free(known);
	free(pins);
}

/* The roster changed while this node runs (a reload, a spawn): its rows
 * and pins; unlike join(), what this node holds stays held as it is. */
static void
enlist(void)
{
	char *known, *pins;
	const char *v[2];

	known = known_array(0);
	pins = known_array(1);
	v[0] = known;
	v[1] = pins;
	pgq_query("SELECT mobkit.enlist($1::text[], $2::text[])", 2, v, NULL,
	    NULL);
	free(known);
	free(pins);
}

/* --- handover -------------------------------------------------------- */

static void
released_cb(void *arg, const PGresult *res, const char *err)
{
	char *id = arg;
	struct cm *m = cm_find(id);

	if (err == NULL && m != NULL && m->state == CM_LEAVING) {
		log_info("%s: handed over (released)", id);
		member_event(id, "cluster.member_released", m->fence);
		m->fence = 0;
		m->state = CM_REMOTE;
		set_owner(m, NULL);
		pgq_query("SELECT pg_notify('mobkit_cluster', 'release')", 0,
		    NULL, NULL, NULL);
	} else if (m != NULL && m->state == CM_LEAVING)
		drop(m, err != NULL ? err : "release refused");
	(void)res;
	free(id);
}

/* The member is stopped and its writes are committed: let it go. */
static void
handover_flushed(void *arg, const char *err)
{
	char *id = arg;
	struct cm *m = cm_find(id);
	char fence[24];
	const char *v[3];

	if (m == NULL || m->state != CM_LEAVING) {
		free(id);
		return;
	}
	if (err != NULL) {
		drop(m, err);
		free(id);
		return;
	}
	snprintf(fence, sizeof(fence), "%lld", (long long)m->fence);
	v[0] = store_node_id();
	v[1] = id;
	v[2] = fence;
	pgq_query("SELECT mobkit.release($1, $2, $3)", 3, v, released_cb, id);
}

/* From cluster_mob.c: the leaving member's worker is gone. */
void
cluster_stopped(const char *id)
{
	struct cm *m = cm_find(id);
	char *s;

	if (m == NULL || m->state != CM_LEAVING)
		return;
	if ((s = strdup(id)) == NULL)
		fatal("strdup");
	cluster_mob_lose(child_find(id), 0);
	store_after_commit(handover_flushed, s);
}

/* Hand an active member over: stop it cleanly, then release it. */
void
cluster_handover(const char *id)
{
	struct cm *m = cm_find(id);
	struct child *c = child_find(id);

	if (m == NULL || m->state != CM_ACTIVE || c == NULL)
		return;
	log_info("%s: handed over to another node", id);
	m->state = CM_LEAVING;
	cluster_mob_leave(c);
}

/* --- notifications --------------------------------------------------- */

/*
 * The numbers of the inputs read in are committed: a read from now on
 * no longer finds them with seq 0.  (A read made before that commit
 * would find them again, and once run and released from memory they
 * would be taken in, and run, a second time.)
 */
static void
fetched(void *arg, const char *err)
{
	struct cm *m = cm_find(arg);

	(void)err;
	free(arg);
	if (m == NULL)
		return;
	m->fetch = 0;
	if (m->refetch) {
		m->refetch = 0;
		cluster_fetch(m->id);
	}
}

static void
fetch_cb(void *arg, const PGresult *res, const char *err)
{
	struct cm *m = arg;
	struct store_input r;
	struct child *c;
	char *id;
	int i;

	if (err == NULL && m->state == CM_ACTIVE &&
	    (c = child_find(m->id)) != NULL) {
		for (i = 0; i < PQntuples(res); i++) {
			memset(&r, 0, sizeof(r));
			r.id = pgq_val(res, i, 0);
			r.member = m->id;
			r.key = PQgetisnull(res, i, 1) ? NULL :
			    pgq_val(res, i, 1);
			r.text = pgq_val(res, i, 2);
			r.attempts = (int)pgq_ll(res, i, 3);
			r.accepted_ms = pgq_ll(res, i, 4);
			cluster_mob_input(c, &r);
		}
		cluster_mob_active(c);
	}
	/* the next read waits for this one's numbers to be committed */
	if ((id = strdup(m->id)) == NULL)
		fatal("strdup");
	store_after_commit(fetched, id);
}

/* Read in the inputs written for an active member by other nodes. */
void
cluster_fetch(const char *member)
{
	struct cm *m = cm_find(member);
	const char *v[1] = { member };

	if (m == NULL || m->state != CM_ACTIVE)
		return;
	if (m->fetch) {
		m->refetch = 1;
		return;
	}
	m->fetch = 1;
	pgq_query("SELECT id, key, text, attempts, accepted_ms FROM "
	    "mobkit.inputs WHERE member = $1 AND seq = 0 AND fin IS NULL "
	    "ORDER BY arrival", 1, v, fetch_cb, m);
}

static void
on_input(const char *channel, const char *payload)
{
	const char *tab = strchr(payload, '\t');
	size_t n;

	(void)channel;
	if (tab == NULL)
		return;
	n = (size_t)(tab - payload);
	if (strlen(store_node_id()) != n ||
	    strncmp(payload, store_node_id(), n) != 0)
		return;
	cluster_fetch(tab + 1);
}

static void
on_cluster(const char *channel, const char *payload)
{
	(void)channel;
	(void)payload;
	beat_now();
}

/* After the connection came back: renew, and read what was missed. */
static void
on_connect(void)
{
	struct cm *m, *t;

	if (!on)
		return;
	beat_now();
	HASH_ITER(hh, cms, m, t)
		if (m->state == CM_ACTIVE)
			cluster_fetch(m->id);
		else if (m->state == CM_LOADING && m->loads == 0)
			load(m);
}

/* --- send --wait on another node's member ---------------------------- */

static void
waited_cb(void *arg, const PGresult *res, const char *err)
{
	int i;

	(void)arg;
	wait_busy = 0;
	if (err != NULL)
		return;
	for (i = 0; i < PQntuples(res); i++)
		cluster_mob_finished(pgq_val(res, i, 0), (int)pgq_ll(res, i, 1),
		    PQgetisnull(res, i, 2) ? NULL : pgq_val(res, i, 2),
		    PQgetisnull(res, i, 3) ? NULL : pgq_val(res, i, 3));
}

/* Every quarter second, while someone waits on an input another node
 * runs: has it finished? */
static void
wait_timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	const char **ids, *v[1];
	char *arr;
	int n;

	(void)l;
	(void)w;
	(void)revents;
	if (wait_busy || (ids = cluster_mob_waited(&n)) == NULL)
		return;
	arr = cluster_pg_array(ids, n);
	v[0] = arr;
	wait_busy = 1;
	pgq_query("SELECT id, state, result, error FROM mobkit.inputs WHERE "
	    "id = ANY ($1::text[]) AND fin IS NOT NULL", 1, v, waited_cb,
	    NULL);
	free(arr);
	free(ids);
}

/* --- reads of a member another node runs ---------------------------- */

struct ask {
	uint64_t	 cid;
	PGresult	*nodes;
};

static void
ask_fail(uint64_t cid, const char *err)
{
	reply_error(cid, err);
}

struct peek {
	char		*id;
	int		 left;
	char		*err;
	void		(*fn)(void *, const char *);
	void		*arg;
};

static void
peek_step(struct peek *p, const char *err)
{
	if (err != NULL && p->err == NULL && (p->err = strdup(err)) == NULL)
		fatal("strdup");
	if (--p->left > 0)
		return;
	p->fn(p->arg, p->err);
	if (!cluster_holds(p->id, NULL))
		pgm_forget(p->id);	/* (only the node running it keeps it) */
	free(p->err);
	free(p->id);
	free(p);
}

static void
peek_messages_cb(void *arg, const PGresult *res, const char *err)
{
	struct peek *p = arg;

	if (err == NULL && !cluster_holds(p->id, NULL))
		keep_messages(p->id, res);
	peek_step(p, err);
}

static void
peek_usage_cb(void *arg, const PGresult *res, const char *err)
{
	struct peek *p = arg;

	if (err == NULL && !cluster_holds(p->id, NULL))
		keep_usage(p->id, res);
	peek_step(p, err);
}

/*
 * The conversation and usage of a member another node runs, read from
 * the database into what the store's reads answer from, for as long as
 * fn(arg, err) takes to answer a verb with them.
 */
void
cluster_peek(const char *member, void (*fn)(void *, const char *), void *arg)
{
	struct peek *p;
	const char *v[1] = { member };

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->id = strdup(member)) == NULL)
		fatal("calloc");
	p->fn = fn;
	p->arg = arg;
	p->left = 2;
	pgq_query(Q_MESSAGES, 1, v, peek_messages_cb, p);
	pgq_query(Q_USAGE, 1, v, peek_usage_cb, p);
}

/* Every member's usage as the database has it, for the members this
 * node does not run, made readable while fn(arg, err) answers. */
struct usage_all {
	void		(*fn)(void *, const char *);
	void		*arg;
};

static void
usage_all_cb(void *arg, const PGresult *res, const char *err)
{
	struct usage_all *u = arg;
	const char *id;
	int64_t v[3];
	int i;

	if (err == NULL)
		for (i = 0; i < PQntuples(res); i++) {
			if (cluster_holds((id = pgq_val(res, i, 0)), NULL))
				continue;
			v[0] = pgq_ll(res, i, 1);
			v[1] = pgq_ll(res, i, 2);
			v[2] = pgq_ll(res, i, 3);
			pgm_usage(id, v);
		}
	u->fn(u->arg, err);
	if (err == NULL)
		for (i = 0; i < PQntuples(res); i++)
			if (!cluster_holds((id = pgq_val(res, i, 0)), NULL))
				pgm_forget(id);
	free(u);
}

void
cluster_usage_all(void (*fn)(void *, const char *), void *arg)
{
	struct usage_all *u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		fatal("calloc");
	u->fn = fn;
	u->arg = arg;
	pgq_query("SELECT member, input_tokens, output_tokens, turns FROM "
	    "mobkit.usage", 0, NULL, usage_all_cb, u);
}

static const char *const in_state_names[] = { "queued", "running",
    "consumed", "failed", "abandoned" };

static void
inputs_cb(void *arg, const PGresult *res, const char *err)
{
	struct ask *a = arg;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	long long st;
	int i;

	if (err != NULL) {
		ask_fail(a->cid, err);
		free(a);
		return;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, PQntuples(res));
	for (i = 0; i < PQntuples(res); i++) {
		st = pgq_ll(res, i, 1);
		msgpack_pack_map(&pk, 4);
		mp_kstr(&pk, "input_id", pgq_val(res, i, 0));
		mp_kstr(&pk, "state", st >= 0 && st < 5 ? in_state_names[st] :
		    "queued");
		mp_kint(&pk, "attempts", pgq_ll(res, i, 2));
		mp_kstr_or_nil(&pk, "key", PQgetisnull(res, i, 3) ? NULL :
		    pgq_val(res, i, 3));
	}
	reply_ok_packed(a->cid, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	free(a);
}

/* inputs ID of a member another node runs: as the database has them
 * (its running input shows as queued: that is how it is written). */
void
cluster_inputs(const char *member, uint64_t cid)
{
	struct ask *a;
	char since[24], max[24];
	const char *v[3] = { member, since, max };
	int64_t ms;
	int n;

	store_retention(&n, &ms);
	snprintf(since, sizeof(since), "%lld", ms >= 0 ?
	    (long long)((int64_t)wall_ms() - ms) : (long long)INT64_MIN);
	snprintf(max, sizeof(max), "%d", n);
	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	a->cid = cid;
	/* the newest finished ones (oldest first), then the pending */
	pgq_query("SELECT id, state, attempts, key FROM ((SELECT id, state, "
	    "attempts, key, 0 AS part, fin AS o1, seq AS o2, 0::bigint AS o3 "
	    "FROM mobkit.inputs WHERE member = $1 AND fin >= $2 ORDER BY fin "
	    "DESC, seq DESC LIMIT $3) UNION ALL (SELECT id, state, attempts, "
	    "key, 1, (seq = 0)::int::bigint, seq, arrival FROM mobkit.inputs "
	    "WHERE member = $1 AND fin IS NULL)) x ORDER BY part, o1, o2, o3",
	    3, v, inputs_cb, a);
}

/* --- verbs ---------------------------------------------------------- */

static void
cluster_members_cb(void *arg, const PGresult *res, const char *err)
{
	struct ask *a = arg;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int i;

	if (err != NULL || a->nodes == NULL) {
		ask_fail(a->cid, err != NULL ? err :
		    "store: the nodes could not be read");
		goto done;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_str(&pk, "nodes");
	msgpack_pack_array(&pk, PQntuples(a->nodes));
	for (i = 0; i < PQntuples(a->nodes); i++) {
		msgpack_pack_map(&pk, 4);
		mp_kstr(&pk, "node_id", pgq_val(a->nodes, i, 0));
		mp_str(&pk, "alive");
		if (strcmp(pgq_val(a->nodes, i, 1), "t") == 0)
			msgpack_pack_true(&pk);
		else
			msgpack_pack_false(&pk);
		mp_kint(&pk, "last_seen_ms", pgq_ll(a->nodes, i, 2));
		mp_kint(&pk, "members", pgq_ll(a->nodes, i, 3));
	}
	mp_str(&pk, "members");
	msgpack_pack_array(&pk, PQntuples(res));
	for (i = 0; i < PQntuples(res); i++) {
		msgpack_pack_map(&pk, 3);
		mp_kstr(&pk, "id", pgq_val(res, i, 0));
		mp_kstr_or_nil(&pk, "node_id", PQgetisnull(res, i, 1) ? NULL :
		    pgq_val(res, i, 1));
		mp_kint(&pk, "lease_expires_in_ms", pgq_ll(res, i, 2));
	}
	reply_ok_packed(a->cid, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
done:
	PQclear(a->nodes);
	free(a);
}

static void
cluster_nodes_cb(void *arg, const PGresult *res, const char *err)
{
	struct ask *a = arg;

	if (err == NULL && (a->nodes = PQcopyResult(res, PG_COPYRES_ATTRS |
	    PG_COPYRES_TUPLES)) == NULL)
		fatal("PQcopyResult");
}

/* cluster: the nodes and where each member runs, as the database says. */
static int
v_cluster(struct client *cl, const union ctl_args *args, msgpack_packer *pk)
{
	struct ask *a;

	(void)args;
	(void)pk;
	if (!on)
		return ctl_fail("not a cluster: the store is not PostgreSQL "
		    "(store = postgresql://...)");
	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	a->cid = client_id(cl);
	pgq_query("SELECT n.node_id, n.lease_until > now(), "
	    "greatest(0, (extract(epoch FROM now() - n.last_seen) * 1000))"
	    "::bigint, (SELECT count(*) FROM mobkit.members m WHERE "
	    "m.node_id = n.node_id) FROM mobkit.nodes n ORDER BY n.node_id",
	    0, NULL, cluster_nodes_cb, a);
	pgq_query("SELECT m.member, CASE WHEN n.lease_until > now() THEN "
	    "m.node_id END, CASE WHEN n.lease_until > now() THEN "
	    "(extract(epoch FROM n.lease_until - now()) * 1000)::bigint "
	    "ELSE 0 END FROM mobkit.members m LEFT JOIN mobkit.nodes n ON "
	    "n.node_id = m.node_id ORDER BY m.member", 0, NULL,
	    cluster_members_cb, a);
	return 1;
}

static void
rebalance_cb(void *arg, const PGresult *res, const char *err)
{
	struct ask *a = arg;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int i;

	if (err != NULL)
		ask_fail(a->cid, err);
	else {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 1);
		mp_str(&pk, "moves");
		msgpack_pack_array(&pk, PQntuples(res));
		for (i = 0; i < PQntuples(res); i++) {
			msgpack_pack_map(&pk, 3);
			mp_kstr(&pk, "member", pgq_val(res, i, 0));
			mp_kstr(&pk, "from", pgq_val(res, i, 1));
			mp_kstr(&pk, "to", pgq_val(res, i, 2));
			log_info("rebalance: %s moves from %s to %s",
			    pgq_val(res, i, 0), pgq_val(res, i, 1),
			    pgq_val(res, i, 2));
		}
		reply_ok_packed(a->cid, sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
	}
	free(a);
}

/* rebalance: even out the members over the live nodes (each move a
 * handover: its node stops it, commits, releases; the target takes it). */
static int
v_rebalance(struct client *cl, const union ctl_args *args,
    msgpack_packer *pk)
{
	struct ask *a;

	(void)args;
	(void)pk;
	if (!on)
		return ctl_fail("not a cluster: the store is not PostgreSQL "
		    "(store = postgresql://...)");
	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	a->cid = client_id(cl);
	pgq_query("SELECT * FROM mobkit.rebalance()", 0, NULL, rebalance_cb,
	    a);
	return 1;
}

static const struct ctl_handler cluster_verbs[] = {
	{ "cluster", v_cluster },
	{ "rebalance", v_rebalance },
};
CTL_VERBS(cluster_verbs)

/* --- roster ---------------------------------------------------------- */

void
cluster_member_added(const char *member)
{
	struct cm *m;

	if (!on)
		return;
	m = cm_get(member);
	m->known = 1;
	enlist();	/* (its row, before the first join too) */
	if (joined)
		adopt_now();
}

/* A member removed here: once its last writes are committed, its lease
 * (if held here) is let go. */
static void
removed_flushed(void *arg, const char *err)
{
	char *id = arg;
	struct cm *m = cm_find(id);
	char fence[24];
	const char *v[3];

	(void)err;
	if (on && m != NULL && !m->known && m->fence > 0) {
		snprintf(fence, sizeof(fence), "%lld", (long long)m->fence);
		v[0] = store_node_id();
		v[1] = id;
		v[2] = fence;
		pgq_query("SELECT mobkit.release($1, $2, $3)", 3, v, NULL,
		    NULL);
		m->fence = 0;
		m->state = CM_REMOTE;
		set_owner(m, NULL);
	}
	free(id);
}

void
cluster_member_removed(const char *member)
{
	struct cm *m;
	char *s;

	if (!on || (m = cm_find(member)) == NULL)
		return;
	m->known = 0;
	if (m->fence > 0) {
		if ((s = strdup(member)) == NULL)
			fatal("strdup");
		store_after_commit(removed_flushed, s);
	}
}

/* The members of a config (and their pins). */
void
cluster_configure(struct config *cfg, int reload)
{
	struct child *c;
	struct cm *m;

	if (!on)
		return;
	(void)cfg;
	TAILQ_FOREACH(c, &D->children, entry) {
		if (c->conf->kind != KIND_MEMBER)
			continue;
		m = cm_get(c->name);
		m->known = 1;
		if (m->state != CM_ACTIVE) {
			c->remote = 1;	/* until this node takes it */
			c->want_run = 0;
		}
		free(m->pin);
		m->pin = NULL;
		if (c->conf->node != NULL &&
		    (m->pin = strdup(c->conf->node)) == NULL)
			fatal("strdup");
	}
	if (reload && joined) {
		enlist();
		adopt_now();
	}
}

int
cluster_degraded(void)
{
	return on && joined && proven_until == 0;
}

/*
 * At shutdown, once the store's last commit is done (the members are
 * stopped): every member this node held is let go and its lease ended
 * now, so that the other nodes take them at once rather than when the
 * lease would have run out.  Blocking, as shutdown may be.
 */
void
cluster_release_all(void)
{
	PGconn *c;
	PGresult *res;
	const char *v[1] = { store_node_id() };

	if (!on || taken)	/* (what is held is the other's) */
		return;
	if ((c = pg_connect(0)) == NULL || PQstatus(c) != CONNECTION_OK) {
		log_warnx("cluster: cannot let go of the members at exit; "
		    "the other nodes take them when the lease runs out");
		PQfinish(c);
		return;
	}
	res = PQexecParams(c, "WITH r AS (UPDATE mobkit.members SET node_id = "
	    "NULL WHERE node_id = $1 RETURNING 1), n AS (UPDATE mobkit.nodes "
	    "SET lease_until = now() WHERE node_id = $1 RETURNING 1) SELECT "
	    "(SELECT count(*) FROM r), pg_notify('mobkit_cluster', 'release')",
	    1, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		log_warnx("cluster: cannot let go of the members at exit: %s",
		    PQerrorMessage(c));
	else
		log_info("cluster: let go of %s member(s)",
		    PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(c);
}

int
cluster_start(void)
{
	double every;

	if (D->cfg->store == NULL || !store_is_url(D->cfg->store))
		return 0;
	on = 1;
	lease = store_lease_ms();
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	if (pgq_open() == -1)
		return -1;
	pgq_on_connect(on_connect);
	pgq_listen("mobkit_input", on_input);
	pgq_listen("mobkit_cluster", on_cluster);
	if (roster_start() == -1)	/* the members spawned, before join */
		return -1;
	cluster_configure(D->cfg, 0);
	every = (double)lease / 3000.;
	ev_timer_init(&beat_timer, beat_timer_cb, every, every);
	ev_timer_start(D->loop, &beat_timer);
	ev_timer_init(&adopt_timer, adopt_timer_cb, every, 0.);
	ev_timer_start(D->loop, &adopt_timer);	/* the first: join window */
	ev_init(&proof_timer, proof_cb);
	ev_timer_init(&wait_timer, wait_timer_cb, 0.25, 0.25);
	ev_timer_start(D->loop, &wait_timer);
	join();
	beat_now();
	return 0;
}

void
cluster_stop(void)
{
	struct cm *m, *t;

	if (!on)
		return;
	ev_timer_stop(D->loop, &beat_timer);
	ev_timer_stop(D->loop, &adopt_timer);
	ev_timer_stop(D->loop, &proof_timer);
	ev_timer_stop(D->loop, &wait_timer);
	pgq_close();
	HASH_ITER(hh, cms, m, t) {
		HASH_DEL(cms, m);
		free(m->id);
		free(m->owner);
		free(m->pin);
		free(m);
	}
	on = 0;
}
