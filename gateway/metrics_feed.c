/*
 * metrics_feed.c: the metrics the gateway counts from mobkitd's event feed
 * (sse.c hands every event to metrics_count), for what the root keeps no
 * counter of: inputs by member and outcome, deliveries by sink and status,
 * store write failures, and the turn duration histogram (run_started to
 * run_completed or run_failed of the same input).  Counters since the
 * gateway started, as Prometheus allows a counter to reset.
 *
 * Invariant: every table is bounded (labels past the bound are not
 * counted, turns past the bound are not timed), so a feed of any length
 * costs at most a fixed amount of memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "gateway.h"

#define PAIRS_MAX	4096	/* label pairs kept per counter */
#define TURNS_MAX	4096	/* turns being timed */
#define HIST_MAX	1024	/* members with a histogram */

struct pair {
	char		 a[72], b[24];
	uint64_t	 n;
};

struct pairs {
	struct pair	*v;
	size_t		 n;
};

static struct pairs	inputs, deliveries;
static uint64_t		store_failures;

/* Upper bounds of the turn duration buckets, in seconds. */
static const double bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1, 2.5, 5, 10, 30, 60, 120, 300 };
#define NB	(sizeof(bounds) / sizeof(bounds[0]))

struct hist {
	char		 member[72];
	uint64_t	 le[NB];	/* cumulative, as the format wants */
	uint64_t	 count;
	double		 sum;
};

struct timing {
	char		 member[72], input[64];
	int64_t		 at_ms;
};

static struct hist	*hists;
static size_t		 nhists;
static struct timing	 turns[TURNS_MAX];
static size_t		 nturns;

/* Count one more of (a, b). */
static void
pair_add(struct pairs *p, const char *a, const char *b)
{
	struct pair *e;
	size_t i;

	if (strlen(a) >= sizeof(e->a) || strlen(b) >= sizeof(e->b))
		return;
	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].a, a) == 0 && strcmp(p->v[i].b, b) == 0) {
			p->v[i].n++;
			return;
		}
	if (p->n == PAIRS_MAX)
		return;
	if ((e = reallocarray(p->v, p->n + 1, sizeof(*e))) == NULL)
		fatal("reallocarray");
	p->v = e;
	e = &p->v[p->n++];
	snprintf(e->a, sizeof(e->a), "%s", a);
	snprintf(e->b, sizeof(e->b), "%s", b);
	e->n = 1;
}

/* The histogram of member, made on first use; NULL past the bound. */
static struct hist *
hist_of(const char *member)
{
	struct hist *h;
	size_t i;

	for (i = 0; i < nhists; i++)
		if (strcmp(hists[i].member, member) == 0)
			return &hists[i];
	if (nhists == HIST_MAX || strlen(member) >= sizeof(h->member))
		return NULL;
	if ((h = reallocarray(hists, nhists + 1, sizeof(*h))) == NULL)
		fatal("reallocarray");
	hists = h;
	h = &hists[nhists++];
	memset(h, 0, sizeof(*h));
	snprintf(h->member, sizeof(h->member), "%s", member);
	return h;
}

/* A turn began (run_started): remember when, replacing the oldest. */
static void
turn_start(const char *member, const char *input, int64_t at)
{
	struct timing *t;

	if (strlen(member) >= sizeof(t->member) ||
	    strlen(input) >= sizeof(t->input))
		return;
	if (nturns == TURNS_MAX) {
		memmove(turns, turns + 1, (TURNS_MAX - 1) * sizeof(*turns));
		nturns--;
	}
	t = &turns[nturns++];
	snprintf(t->member, sizeof(t->member), "%s", member);
	snprintf(t->input, sizeof(t->input), "%s", input);
	t->at_ms = at;
}

/* A turn ended: its duration into the member's histogram. */
static void
turn_end(const char *member, const char *input, int64_t at)
{
	struct hist *h;
	double s;
	size_t i, k;

	for (i = nturns; i-- > 0; )
		if (strcmp(turns[i].input, input) == 0 &&
		    strcmp(turns[i].member, member) == 0)
			break;
	if (i == (size_t)-1)
		return;
	s = at > turns[i].at_ms ? (double)(at - turns[i].at_ms) / 1000 : 0;
	memmove(turns + i, turns + i + 1, (nturns - i - 1) * sizeof(*turns));
	nturns--;
	if ((h = hist_of(member)) == NULL)
		return;
	for (k = 0; k < NB; k++)
		h->le[k] += s <= bounds[k];
	h->count++;
	h->sum += s;
}

/* An event of the feed. */
void
metrics_count(json_t *ev)
{
	const char *t = json_string_value(json_object_get(ev, "event_type"));
	const char *m = json_string_value(json_object_get(ev, "name"));
	json_t *p = json_object_get(ev, "payload");
	const char *in = json_string_value(json_object_get(p, "input_id"));
	int64_t at = json_integer_value(json_object_get(ev, "timestamp_ms"));

	if (t == NULL || m == NULL)
		return;
	if (strcmp(t, "store.write_failed") == 0)
		store_failures++;
	else if (strncmp(t, "input.", 6) == 0)
		pair_add(&inputs, m, t + 6);
	else if (strncmp(t, "delivery.", 9) == 0 && json_is_string(
	    json_object_get(p, "sink")))
		pair_add(&deliveries, json_string_value(json_object_get(p,
		    "sink")), t + 9);
	else if (in != NULL && strcmp(t, "run_started") == 0)
		turn_start(m, in, at);
	else if (in != NULL && (strcmp(t, "run_completed") == 0 ||
	    strcmp(t, "run_failed") == 0))
		turn_end(m, in, at);
}

/* One counter family of label pairs. */
static void
pairs_render(FILE *fp, const struct pairs *p, const char *name,
    const char *help, const char *la, const char *lb)
{
	size_t i;

	fprintf(fp, "# HELP %s %s (since the gateway started).\n"
	    "# TYPE %s counter\n", name, help, name);
	for (i = 0; i < p->n; i++) {
		fprintf(fp, "%s{%s=\"", name, la);
		metrics_label(fp, p->v[i].a);
		fprintf(fp, "\",%s=\"", lb);
		metrics_label(fp, p->v[i].b);
		fprintf(fp, "\"} %llu\n", (unsigned long long)p->v[i].n);
	}
}

/* The turn duration histogram, per member. */
static void
hists_render(FILE *fp)
{
	size_t i, k;

	fputs("# HELP mobkit_turn_duration_seconds Turns from run_started to "
	    "their end (since the gateway started).\n"
	    "# TYPE mobkit_turn_duration_seconds histogram\n", fp);
	for (i = 0; i < nhists; i++) {
		for (k = 0; k < NB; k++) {
			fputs("mobkit_turn_duration_seconds_bucket{member=\"",
			    fp);
			metrics_label(fp, hists[i].member);
			fprintf(fp, "\",le=\"%g\"} %llu\n", bounds[k],
			    (unsigned long long)hists[i].le[k]);
		}
		fputs("mobkit_turn_duration_seconds_bucket{member=\"", fp);
		metrics_label(fp, hists[i].member);
		fprintf(fp, "\",le=\"+Inf\"} %llu\n",
		    (unsigned long long)hists[i].count);
		fputs("mobkit_turn_duration_seconds_sum{member=\"", fp);
		metrics_label(fp, hists[i].member);
		fprintf(fp, "\"} %.6f\n", hists[i].sum);
		fputs("mobkit_turn_duration_seconds_count{member=\"", fp);
		metrics_label(fp, hists[i].member);
		fprintf(fp, "\"} %llu\n", (unsigned long long)hists[i].count);
	}
}

/* Everything counted from the feed. */
void
metrics_feed_render(FILE *fp)
{
	pairs_render(fp, &inputs, "mobkit_inputs_total",
	    "Inputs by member and outcome", "member", "outcome");
	pairs_render(fp, &deliveries, "mobkit_deliveries_total",
	    "Deliveries by sink and status", "sink", "status");
	fprintf(fp, "# HELP mobkit_store_write_failures_total Failed writes "
	    "of the store (since the gateway started).\n"
	    "# TYPE mobkit_store_write_failures_total counter\n"
	    "mobkit_store_write_failures_total %llu\n",
	    (unsigned long long)store_failures);
	hists_render(fp);
}
