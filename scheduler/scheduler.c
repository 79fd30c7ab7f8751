/*
 * mobkit-scheduler: fires interval and cron schedules.
 *
 * mobkitd sends the schedules with the last claimed due time of each
 * (SCHEDULES); the scheduler sleeps on one wall-clock timer (ev_periodic)
 * until the earliest due time plus that schedule's jitter, and asks the
 * root to fire it (FIRE).  The root claims "schedule_id:due_ms", injects
 * the message, and answers (FIRED); only then does the schedule move on,
 * so a claim fires once whatever dies when.  Nothing polls: between due
 * times the process sleeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "child.h"
#include "cron.h"
#include "frame.h"
#include "log.h"
#include "msgtab.h"
#include "proto.h"
#include "timeutil.h"

struct sched {
	char		*id;
	struct when	 w;
	int		 enabled;
	int		 catch_up;
	int64_t		 jitter_ms;	/* this schedule's, fixed */
	int64_t		 next_ms;	/* the next due time, -1 none */
	int		 inflight;	/* a FIRE awaits its FIRED */
};

static struct {
	struct ev_loop	*loop;
	struct mkchild	 mk;
	struct sched	*v;
	int		 n;
	ev_periodic	 timer;
} S;

/* The due time after t (ms), -1 if none. */
static int64_t
next_after(const struct sched *s, int64_t t_ms)
{
	int64_t t = when_next(&s->w, t_ms >= 0 ? t_ms / 1000 : -1);

	return t < 0 ? -1 : t * 1000;
}

/* Deterministic per schedule: FNV-1a of its id, within [0, jitter]. */
static int64_t
jitter_of(const char *id, int64_t jitter)
{
	uint32_t h = 2166136261u;

	if (jitter <= 0)
		return 0;
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return (int64_t)(h % (uint64_t)(jitter + 1));
}

/* Sleep until the earliest due time. */
static void
rearm(void)
{
	int64_t best = -1;
	int i;

	ev_periodic_stop(S.loop, &S.timer);
	for (i = 0; i < S.n; i++) {
		struct sched *s = &S.v[i];
		int64_t at;

		if (!s->enabled || s->inflight || s->next_ms < 0)
			continue;
		at = s->next_ms + s->jitter_ms;
		if (best < 0 || at < best)
			best = at;
	}
	if (best < 0)
		return;
	ev_periodic_set(&S.timer, (double)best / 1000.0, 0., NULL);
	ev_periodic_start(S.loop, &S.timer);
}

static void
fire(struct sched *s)
{
	struct msgw w;

	msgw_begin(&w, MSG_FIRE);
	msgw_str(&w, K_SCHEDULE_ID, s->id);
	msgw_int(&w, K_DUE_MS, s->next_ms);
	if (msgw_send(&w, S.mk.peer, 0) == 0)
		s->inflight = 1;
}

static void
timer_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
	int64_t now = (int64_t)wall_ms();
	int i;

	(void)loop;
	(void)w;
	(void)revents;
	for (i = 0; i < S.n; i++) {
		struct sched *s = &S.v[i];

		if (s->enabled && !s->inflight && s->next_ms >= 0 &&
		    s->next_ms + s->jitter_ms <= now)
			fire(s);
	}
	rearm();
}

static void
table_free(void)
{
	int i;

	for (i = 0; i < S.n; i++)
		free(S.v[i].id);
	free(S.v);
	S.v = NULL;
	S.n = 0;
}

/*
 * The latest due time in [from, now], from being one.  The look-back from
 * now doubles from a second until its window holds a due time, so a long
 * pause of a frequent schedule costs a few dozen when_next calls, not one
 * per missed due time.
 */
static int64_t
latest_due(const struct sched *s, int64_t from, int64_t now)
{
	int64_t step, d, last = from;

	for (step = 1000; now - step > from; step *= 2)
		if ((d = next_after(s, now - step)) >= 0 && d <= now) {
			last = d;
			break;
		}
	while ((d = next_after(s, last)) >= 0 && d <= now)
		last = d;
	return last;
}

/*
 * Where a schedule stands: after its last claim; a due time missed while
 * we were down fires once (the latest) with catch_up, else is skipped.
 */
static int64_t
first_due(struct sched *s, int64_t last, int64_t now)
{
	int64_t d;

	if (last < 0)
		return next_after(s, now);
	d = next_after(s, last);
	if (d < 0 || d > now)
		return d;
	if (!s->catch_up)
		return next_after(s, now);
	d = latest_due(s, d, now);
	log_info("schedule %s: catching up with %lld", s->id, (long long)d);
	return d;
}

/* SCHEDULES: the whole set, with the last claim of each. */
static void
on_schedules(const struct msg_view *m)
{
	const msgpack_object *a = msgv_obj(m, K_SCHEDULES);
	int64_t now = (int64_t)wall_ms(), last;
	char kind[16], expr[256], tz[64], err[256];
	struct msg_view o;
	uint32_t i;

	table_free();
	if ((S.v = calloc(a->via.array.size + 1, sizeof(*S.v))) == NULL)
		fatal("calloc");
	for (i = 0; i < a->via.array.size; i++) {
		struct sched *s = &S.v[S.n];
		int r;

		memset(s, 0, sizeof(*s));
		/* msg_read has checked each against its record's table */
		if (msg_read_rec(&a->via.array.ptr[i], &msg_rec_schedule, &o,
		    err, sizeof(err)) == -1) {
			log_warnx("schedule %u: %s: skipped", i, err);
			continue;
		}
		s->id = msgv_strdup(&o, K_ID);
		(void)msgv_copy(&o, K_KIND, kind, sizeof(kind));
		(void)msgv_copy(&o, K_EXPR, expr, sizeof(expr));
		(void)msgv_copy(&o, K_TIMEZONE, tz, sizeof(tz));
		s->w.is_cron = strcmp(kind, "cron") == 0;
		r = s->w.is_cron ? cron_parse(expr, &s->w.cron, err,
		    sizeof(err)) : interval_parse(expr, &s->w.every_s, err,
		    sizeof(err));
		if (r == -1 || zone_parse(tz, &s->w, err, sizeof(err)) == -1) {
			log_warnx("schedule %s: %s", s->id, err);
			free(s->id);
			continue;
		}
		s->enabled = msgv_bool(&o, K_ENABLED, 1);
		s->catch_up = msgv_bool(&o, K_CATCH_UP, 0);
		s->jitter_ms = jitter_of(s->id, msgv_int(&o, K_JITTER_MS, 0));
		last = msgv_int(&o, K_LAST_DUE_MS, -1);
		s->next_ms = first_due(s, last, now);
		S.n++;
	}
	log_debug("%d schedule(s)", S.n);
	rearm();
	timer_cb(S.loop, &S.timer, 0);	/* anything due now fires now */
}

/* FIRED: the root has claimed (or skipped) it; move on. */
static void
on_fired(const struct msg_view *m)
{
	char id[128], status[16];
	int64_t due = msgv_int(m, K_DUE_MS, -1), now = (int64_t)wall_ms();
	int i;

	if (msgv_copy(m, K_SCHEDULE_ID, id, sizeof(id)) == -1 ||
	    msgv_copy(m, K_STATUS, status, sizeof(status)) == -1)
		return;		/* not after msg_read */
	for (i = 0; i < S.n; i++) {
		struct sched *s = &S.v[i];

		if (strcmp(s->id, id) != 0)
			continue;
		s->inflight = 0;
		if (s->next_ms != due)
			break;		/* the table changed meanwhile */
		s->next_ms = next_after(s, due);
		if (s->next_ms >= 0 && s->next_ms <= now && !s->catch_up)
			s->next_ms = next_after(s, now);
		log_debug("schedule %s: %lld %s", id, (long long)due, status);
	}
	rearm();
}

static int
on_msg(const struct msg_view *m, void *arg)
{
	(void)arg;
	if (m->type == MSG_SCHEDULES)
		on_schedules(m);
	else if (m->type == MSG_FIRED)
		on_fired(m);
	else
		log_debug("ignored %s", msg_type_name((int)m->type));
	return 0;
}

int
main(int argc, char *argv[])
{
	int r;

	if (mkchild_version("mobkit-scheduler", argc, argv))
		return 0;
	S.loop = ev_default_loop(0);
	ev_periodic_init(&S.timer, timer_cb, 0., 0., NULL);
	r = mkchild_serve(&S.mk, S.loop, "mobkit-scheduler", on_msg, NULL, 1);
	table_free();
	return r;
}
