/*
 * schedules.c: the root's side of scheduling.  A due time of a schedule
 * becomes a claim "schedule_id:due_ms", recorded here (durably with
 * state_dir) before the message goes into the member's mailbox, with the
 * claim as its idempotency key: a claim fires once, across scheduler
 * restarts and mobkitd restarts.  mobkit-scheduler owns the timers; tick
 * dispatches as if it were a given time.
 *
 * In a cluster every node's scheduler sees the same due times: the
 * database decides (mobkit.claim(), 003_unique.sql, asked on the
 * cluster's connection, never waited on).  Only the node whose claim row
 * went in first injects; the others note the claim as fired by that node
 * (runtime.injection.skipped) and move on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "cron.h"
#include "log.h"
#include "mpack.h"
#include "msgtab.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "client.h"
#include "cluster.h"
#include "pgq.h"
#include "mob/mailbox.h"
#include "mob/schedules.h"
#include "store.h"
#include "verbs.h"

/*
 * The claims of one schedule, due times ascending.  The oldest are
 * forgotten beyond input_retention_max (a claim is its input's key); the
 * latest, where the scheduler resumes, always stays.  Not by time: a
 * tick --at a past instant must stay claimed however old it is.
 */
struct claims {
	char		*id;
	int64_t		*due;
	size_t		 n, cap;
	UT_hash_handle	 hh;
};

static struct claims	*claims;

static struct schedule_conf *
sched_find(const char *id)
{
	int i;

	for (i = 0; D->cfg != NULL && i < D->cfg->nschedules; i++)
		if (strcmp(D->cfg->schedules[i]->id, id) == 0)
			return D->cfg->schedules[i];
	return NULL;
}

static struct claims *
claims_of(const char *id, int create)
{
	struct claims *cs;

	HASH_FIND_STR(claims, id, cs);
	if (cs == NULL && create) {
		if ((cs = calloc(1, sizeof(*cs))) == NULL ||
		    (cs->id = strdup(id)) == NULL)
			fatal("calloc");
		HASH_ADD_KEYPTR(hh, claims, cs->id, strlen(cs->id), cs);
	}
	return cs;
}

/* The index of the first claim at or after due_ms. */
static size_t
claims_find(const struct claims *cs, int64_t due_ms)
{
	size_t lo = 0, hi = cs->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cs->due[mid] < due_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int64_t
last_due(const char *id)
{
	struct claims *cs = claims_of(id, 0);

	return cs != NULL && cs->n > 0 ? cs->due[cs->n - 1] : -1;
}

/* Forget the oldest claims past input_retention_max; the due time below
 * which none is kept any more (0: none forgotten). */
static int64_t
claims_prune(struct claims *cs)
{
	size_t max = D->cfg != NULL && D->cfg->input_retention_max > 0 ?
	    (size_t)D->cfg->input_retention_max : 1;
	size_t drop;

	if (cs->n <= max)
		return 0;
	drop = cs->n - max;
	memmove(cs->due, cs->due + drop, (cs->n - drop) * sizeof(*cs->due));
	cs->n -= drop;
	return cs->due[0];
}

/* Remember a claim (loading from the store, or firing); the due time
 * below which claims of this schedule were forgotten, or 0. */
int64_t
claim_note(const char *schedule, int64_t due_ms)
{
	struct claims *cs = claims_of(schedule, 1);
	size_t i = claims_find(cs, due_ms);

	if (i < cs->n && cs->due[i] == due_ms)
		return 0;
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 8;
		if ((cs->due = reallocarray(cs->due, cs->cap,
		    sizeof(*cs->due))) == NULL)
			fatal("reallocarray");
	}
	memmove(cs->due + i + 1, cs->due + i, (cs->n - i) * sizeof(*cs->due));
	cs->due[i] = due_ms;
	cs->n++;
	return claims_prune(cs);
}

static int
claimed(const char *schedule, int64_t due_ms)
{
	struct claims *cs = claims_of(schedule, 0);
	size_t i;

	if (cs == NULL)
		return 0;
	i = claims_find(cs, due_ms);
	return i < cs->n && cs->due[i] == due_ms;
}

/* The schedule as a struct when; -1 if it does not parse (cannot happen
 * for a config that loaded). */
static int
sched_when(const struct schedule_conf *s, struct when *w)
{
	char err[256];

	memset(w, 0, sizeof(*w));
	if (s->cron != NULL) {
		w->is_cron = 1;
		if (cron_parse(s->cron, &w->cron, err, sizeof(err)) == -1)
			return -1;
	} else if (interval_parse(s->interval, &w->every_s, err,
	    sizeof(err)) == -1)
		return -1;
	return zone_parse(s->timezone, w, err, sizeof(err));
}

/* Inject a due time this node claimed: "executed" or "failed". */
static const char *
inject(struct schedule_conf *s, const char *key, char *input_id,
    size_t idsz)
{
	struct input *in = NULL;
	const char *reason = NULL;
	struct evb b;
	int r;

	r = mbox_accept(child_find(s->member), s->message, key, &in, &reason);
	if (r == SEND_REJECTED) {
		evb_begin(&b, 5);
		mp_kstr(&b.pk, "schedule_id", s->id);
		mp_kstr(&b.pk, "claim_key", key);
		mp_kstr(&b.pk, "member_id", s->member);
		mp_kstr(&b.pk, "error_kind", "rejected");
		mp_kstr(&b.pk, "error", reason);
		evb_emit(&b, "module", "scheduler", "runtime.injection.failed");
		log_warnx("schedule %s: %s into %s refused: %s", s->id, key,
		    s->member, reason);
		return "failed";
	}
	snprintf(input_id, idsz, "%s", in->id);
	evb_begin(&b, 5);
	mp_kstr(&b.pk, "schedule_id", s->id);
	mp_kstr(&b.pk, "claim_key", key);
	mp_kstr(&b.pk, "member_id", s->member);
	mp_kstr(&b.pk, "message", s->message);
	mp_kstr(&b.pk, "input_id", in->id);
	evb_emit(&b, "module", "scheduler", "runtime.injection.executed");
	return "executed";
}

/*
 * Fire one due time: claim it, then inject.  Returns "executed",
 * "skipped" (claimed already) or "failed"; fills the tick report.
 */
const char *
schedule_fire(const char *id, int64_t due_ms, char *input_id, size_t idsz)
{
	struct schedule_conf *s = sched_find(id);
	char key[256];

	input_id[0] = '\0';
	snprintf(key, sizeof(key), "%s:%lld", id, (long long)due_ms);
	if (s == NULL)
		return "failed";
	if (claimed(id, due_ms))
		return "skipped";
	store_claim(id, due_ms, claim_note(id, due_ms));
	return inject(s, key, input_id, idsz);
}

/* --- in a cluster: the database's claim first --------------------------- */

/* A tick's report, answered once every claim it asked for is decided. */
struct tick_run {
	uint64_t	 cid;
	int64_t		 at;
	int		 pending, nd;
	msgpack_sbuffer	 db;
	msgpack_packer	 dp;
	struct strlist	 skipped;
};

/* One due time asked of the database (for FIRE, or for a tick). */
struct claiming {
	char		 id[128];
	int64_t		 due;
	struct tick_run	*tick;		/* NULL: the scheduler's FIRE */
};

static void	tick_answer(struct tick_run *);

/* A due time's outcome in a tick's report: dispatched, or skipped. */
static void
tick_note(struct tick_run *t, const struct schedule_conf *s,
    const char *key, const char *status, const char *input)
{
	if (strcmp(status, "skipped") == 0)
		(void)strlist_add(&t->skipped, key);
	else if (strcmp(status, "executed") == 0) {
		msgpack_pack_map(&t->dp, 4);
		mp_kstr(&t->dp, "schedule_id", s->id);
		mp_kstr(&t->dp, "claim_key", key);
		mp_kstr(&t->dp, "member_id", s->member);
		mp_kstr(&t->dp, "input_id", input);
		t->nd++;
	}
}

/* The due time was claimed by another node: noted, not fired here. */
static void
fired_elsewhere(struct schedule_conf *s, int64_t due, const char *key,
    const char *node)
{
	struct evb b;

	(void)claim_note(s->id, due);
	evb_begin(&b, 4);
	mp_kstr(&b.pk, "schedule_id", s->id);
	mp_kstr(&b.pk, "claim_key", key);
	mp_kstr(&b.pk, "member_id", s->member);
	if (*node != '\0')
		mp_kstr(&b.pk, "node_id", node);
	else
		mp_knil(&b.pk, "node_id");
	evb_emit(&b, "module", "scheduler", "runtime.injection.skipped");
	log_debug("schedule %s: %s fired by node %s", s->id, key,
	    *node ? node : "(unknown)");
}

/* FIRED to the scheduler, if it is still there. */
static void
fired_send(const char *id, int64_t due, const char *status)
{
	struct child *c = child_find("scheduler");
	struct msgw w;

	if (c == NULL || c->peer == NULL)
		return;
	msgw_begin(&w, MSG_FIRED);
	msgw_str(&w, K_SCHEDULE_ID, id);
	msgw_int(&w, K_DUE_MS, due);
	msgw_str(&w, K_STATUS, status);
	(void)msgw_send(&w, c->peer, 0);
}

/* mobkit.claim() answered: the node holding the due time (or an error). */
static void
claim_cb(void *arg, const PGresult *res, const char *err)
{
	struct claiming *cl = arg;
	struct schedule_conf *s = sched_find(cl->id);
	const char *status = "failed", *node;
	char key[256], input[INPUT_ID_MAX];

	input[0] = '\0';
	snprintf(key, sizeof(key), "%s:%lld", cl->id, (long long)cl->due);
	if (err != NULL || res == NULL || PQntuples(res) != 1)
		log_warnx("schedule %s: %s could not be claimed: %s", cl->id,
		    key, err ? err : "no answer");
	else if (s == NULL || D->shutting_down)
		;
	else if (claimed(cl->id, cl->due))
		status = "skipped";
	else if (strcmp((node = pgq_val(res, 0, 0)),
	    cluster_node_id()) != 0) {
		fired_elsewhere(s, cl->due, key, node);
		status = "skipped";
	} else {
		store_claim(cl->id, cl->due, claim_note(cl->id, cl->due));
		status = inject(s, key, input, sizeof(input));
	}
	if (cl->tick == NULL)
		fired_send(cl->id, cl->due, status);
	else {
		if (s != NULL)
			tick_note(cl->tick, s, key, status, input);
		if (--cl->tick->pending == 0)
			tick_answer(cl->tick);
	}
	free(cl);
}

/* Ask the database who fires a due time; the answer goes to claim_cb. */
static void
claim_ask(const char *id, int64_t due, struct tick_run *t)
{
	struct claiming *cl;
	char dues[24];
	const char *v[3];

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		fatal("calloc");
	snprintf(cl->id, sizeof(cl->id), "%s", id);
	cl->due = due;
	cl->tick = t;
	snprintf(dues, sizeof(dues), "%lld", (long long)due);
	v[0] = id;
	v[1] = dues;
	v[2] = cluster_node_id();
	pgq_query("SELECT mobkit.claim($1, $2::bigint, $3)", 3, v, claim_cb,
	    cl);
}

/* The schedules and their last claims, to the scheduler. */
void
schedules_push(void)
{
	struct child *c = child_find("scheduler");
	struct msgw w, r;
	int i, n;

	if (c == NULL || c->peer == NULL || !c->hello || D->cfg == NULL)
		return;
	n = D->cfg->nschedules;
	msgw_begin(&w, MSG_SCHEDULES);
	msgw_int(&w, K_NOW_MS, (int64_t)wall_ms());
	msgpack_pack_array(msgw_key(&w, K_SCHEDULES), (size_t)n);
	for (i = 0; i < n; i++) {
		struct schedule_conf *s = D->cfg->schedules[i];
		int64_t last = last_due(s->id);

		msgw_rec(&r, &w.pk, &msg_rec_schedule);
		msgw_str(&r, K_ID, s->id);
		msgw_str(&r, K_KIND, s->cron ? "cron" : "interval");
		msgw_str(&r, K_EXPR, s->cron ? s->cron : s->interval);
		msgw_str(&r, K_TIMEZONE, s->timezone);
		msgw_bool(&r, K_ENABLED, s->enabled);
		msgw_int(&r, K_JITTER_MS, s->jitter_ms);
		msgw_bool(&r, K_CATCH_UP, s->catch_up);
		if (last >= 0)
			msgw_int(&r, K_LAST_DUE_MS, last);
		else
			msgw_nil(&r, K_LAST_DUE_MS);
		(void)msgw_end(&r);
	}
	if (msgw_send(&w, c->peer, 0) == -1)
		log_warnx("scheduler: its queue is full; schedules not sent");
}

/* FIRE from the scheduler: claim, inject, answer FIRED. */
int
schedule_fire_msg(struct child *c, const struct msg_view *m)
{
	char id[128], input[INPUT_ID_MAX];
	const char *status;
	int64_t due = msgv_int(m, K_DUE_MS, -1);
	struct msgw w;

	if (msgv_copy(m, K_SCHEDULE_ID, id, sizeof(id)) == -1)
		return -1;
	if (cluster_enabled() && !D->shutting_down && sched_find(id) != NULL &&
	    !claimed(id, due)) {
		claim_ask(id, due, NULL);	/* FIRED once decided */
		return 0;
	}
	status = D->shutting_down ? "failed" : schedule_fire(id, due, input,
	    sizeof(input));
	msgw_begin(&w, MSG_FIRED);
	msgw_str(&w, K_SCHEDULE_ID, id);
	msgw_int(&w, K_DUE_MS, due);
	msgw_str(&w, K_STATUS, status);
	(void)msgw_send(&w, c->peer, 0);
	return 0;
}

/*
 * The latest due time at or before at_ms, within the last 400 days.  The
 * look-back window doubles from one second until it holds a due time, so
 * this costs a few dozen when_next calls, never one per due time (an
 * every-second schedule has 86400 a day); then it steps to the last one.
 */
static int64_t
due_at_or_before(const struct when *w, int64_t at_ms)
{
	int64_t at = at_ms / 1000, step, d, last;

	for (step = 1; step <= 400LL * 86400; step *= 2) {
		if ((d = when_next(w, at - step)) < 0 || d > at)
			continue;
		do {
			last = d;
		} while ((d = when_next(w, last)) >= 0 && d <= at);
		return last * 1000;
	}
	return -1;
}

static int
v_schedules(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	int i, n = D->cfg->nschedules;
	int64_t now = (int64_t)(wall_ms() / 1000), next, last;
	struct when w;

	(void)cl;
	(void)a;
	msgpack_pack_array(pk, (size_t)n);
	for (i = 0; i < n; i++) {
		struct schedule_conf *s = D->cfg->schedules[i];

		next = sched_when(s, &w) == 0 && s->enabled ? when_next(&w, now) :
		    -1;
		last = last_due(s->id);
		msgpack_pack_map(pk, 11);
		mp_kstr(pk, "schedule_id", s->id);
		mp_kstr(pk, "kind", s->cron ? "cron" : "interval");
		mp_kstr(pk, "expr", s->cron ? s->cron : s->interval);
		mp_kstr(pk, "timezone", s->timezone);
		mp_kbool(pk, "enabled", s->enabled);
		mp_kint(pk, "jitter_ms", s->jitter_ms);
		mp_kbool(pk, "catch_up", s->catch_up);
		mp_kstr(pk, "member", s->member);
		mp_kstr(pk, "message", s->message);
		if (next >= 0)
			mp_kint(pk, "next_due_ms", next * 1000);
		else
			mp_knil(pk, "next_due_ms");
		if (last >= 0)
			mp_kint(pk, "last_claim_due_ms", last);
		else
			mp_knil(pk, "last_claim_due_ms");
	}
	return 0;
}

/* A tick's report: {"tick_ms","dispatched","skipped_claims"}. */
static void
tick_pack(msgpack_packer *pk, struct tick_run *t)
{
	schedules_push();	/* the scheduler learns of the claims */
	msgpack_pack_map(pk, 3);
	mp_kint(pk, "tick_ms", t->at);
	mp_str(pk, "dispatched");
	msgpack_pack_array(pk, (size_t)t->nd);
	msgpack_sbuffer_write(pk->data, t->db.data, t->db.size);
	mp_kstrs(pk, "skipped_claims", t->skipped.v, t->skipped.n);
	msgpack_sbuffer_destroy(&t->db);
	strlist_free(&t->skipped);
}

/* A clustered tick is decided: its report to the requester. */
static void
tick_answer(struct tick_run *t)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	tick_pack(&pk, t);
	reply_ok_packed(t->cid, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	free(t);
}

/* tick [--at EPOCH_MS]: dispatch every enabled schedule's due time at or
 * before that instant, unless it was claimed already (in a cluster: by
 * any node; answered once the database decided each). */
static int
v_tick(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct tick_run *t;
	char input[INPUT_ID_MAX], key[256];
	const char *st;
	struct when w;
	int64_t due;
	int i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal("calloc");
	t->cid = client_id(cl);
	t->at = a->tick.at.set ? a->tick.at.v : (int64_t)wall_ms();
	t->pending = 1;		/* until every claim is asked */
	msgpack_sbuffer_init(&t->db);
	msgpack_packer_init(&t->dp, &t->db, msgpack_sbuffer_write);
	for (i = 0; i < D->cfg->nschedules; i++) {
		struct schedule_conf *s = D->cfg->schedules[i];

		if (!s->enabled || sched_when(s, &w) == -1 ||
		    (due = due_at_or_before(&w, t->at)) < 0)
			continue;
		snprintf(key, sizeof(key), "%s:%lld", s->id, (long long)due);
		if (cluster_enabled() && !claimed(s->id, due)) {
			t->pending++;
			claim_ask(s->id, due, t);
			continue;
		}
		st = schedule_fire(s->id, due, input, sizeof(input));
		tick_note(t, s, key, st, input);
	}
	if (--t->pending > 0)
		return 1;	/* answered by the last claim_cb */
	tick_pack(pk, t);
	free(t);
	return 0;
}

static const struct ctl_handler schedule_verbs[] = {
	{ "schedules", v_schedules },
	{ "tick", v_tick },
};
CTL_VERBS(schedule_verbs)
