/*
 * schedules.c: the root's side of scheduling.  A due time of a schedule
 * becomes a claim "schedule_id:due_ms", recorded here (durably with
 * state_dir) before the message goes into the member's mailbox, with the
 * claim as its idempotency key: a claim fires once, across scheduler
 * restarts and mobkitd restarts.  mobkit-scheduler owns the timers; tick
 * dispatches as if it were a given time.
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

/*
 * Fire one due time: claim it, then inject.  Returns "executed",
 * "skipped" (claimed already) or "failed"; fills the tick report.
 */
const char *
schedule_fire(const char *id, int64_t due_ms, char *input_id, size_t idsz)
{
	struct schedule_conf *s = sched_find(id);
	struct input *in = NULL;
	const char *reason = NULL;
	struct evb b;
	char key[256];
	int r;

	input_id[0] = '\0';
	snprintf(key, sizeof(key), "%s:%lld", id, (long long)due_ms);
	if (s == NULL)
		return "failed";
	if (claimed(id, due_ms))
		return "skipped";
	store_claim(id, due_ms, claim_note(id, due_ms));
	r = mbox_accept(child_find(s->member), s->message, key, &in, &reason);
	if (r == SEND_REJECTED) {
		evb_begin(&b, 5);
		mp_kstr(&b.pk, "schedule_id", id);
		mp_kstr(&b.pk, "claim_key", key);
		mp_kstr(&b.pk, "member_id", s->member);
		mp_kstr(&b.pk, "error_kind", "rejected");
		mp_kstr(&b.pk, "error", reason);
		evb_emit(&b, "module", "scheduler", "runtime.injection.failed");
		log_warnx("schedule %s: %s into %s refused: %s", id, key,
		    s->member, reason);
		return "failed";
	}
	snprintf(input_id, idsz, "%s", in->id);
	evb_begin(&b, 5);
	mp_kstr(&b.pk, "schedule_id", id);
	mp_kstr(&b.pk, "claim_key", key);
	mp_kstr(&b.pk, "member_id", s->member);
	mp_kstr(&b.pk, "message", s->message);
	mp_kstr(&b.pk, "input_id", in->id);
	evb_emit(&b, "module", "scheduler", "runtime.injection.executed");
	return "executed";
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

/* tick [--at EPOCH_MS]: dispatch every enabled schedule's due time at or
 * before that instant, unless it was claimed already. */
static int
v_tick(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct strlist skipped = { 0 };
	msgpack_sbuffer db;
	msgpack_packer dp;
	int64_t at = a->tick.at.set ? a->tick.at.v : (int64_t)wall_ms(), due;
	char input[INPUT_ID_MAX], key[256];
	const char *st;
	struct when w;
	int i, nd = 0;

	(void)cl;
	msgpack_sbuffer_init(&db);
	msgpack_packer_init(&dp, &db, msgpack_sbuffer_write);
	for (i = 0; i < D->cfg->nschedules; i++) {
		struct schedule_conf *s = D->cfg->schedules[i];

		if (!s->enabled || sched_when(s, &w) == -1 ||
		    (due = due_at_or_before(&w, at)) < 0)
			continue;
		snprintf(key, sizeof(key), "%s:%lld", s->id, (long long)due);
		st = schedule_fire(s->id, due, input, sizeof(input));
		if (strcmp(st, "skipped") == 0) {
			(void)strlist_add(&skipped, key);
			continue;
		}
		if (strcmp(st, "executed") != 0)
			continue;
		msgpack_pack_map(&dp, 4);
		mp_kstr(&dp, "schedule_id", s->id);
		mp_kstr(&dp, "claim_key", key);
		mp_kstr(&dp, "member_id", s->member);
		mp_kstr(&dp, "input_id", input);
		nd++;
	}
	schedules_push();	/* the scheduler learns of the claims */
	msgpack_pack_map(pk, 3);
	mp_kint(pk, "tick_ms", at);
	mp_str(pk, "dispatched");
	msgpack_pack_array(pk, (size_t)nd);
	msgpack_sbuffer_write(pk->data, db.data, db.size);
	mp_kstrs(pk, "skipped_claims", skipped.v, skipped.n);
	msgpack_sbuffer_destroy(&db);
	strlist_free(&skipped);
	return 0;
}

static const struct ctl_handler schedule_verbs[] = {
	{ "schedules", v_schedules },
	{ "tick", v_tick },
};
CTL_VERBS(schedule_verbs)
