/*
 * metrics.c: GET /metrics in Prometheus text format 0.0.4, from what the
 * root answers today: status (children, their states and restarts),
 * members (mailboxes), the event ring's last seq, and mobkitd's process
 * (its /proc, by the pid status gives).  Three root calls, one after the
 * other; the text is built once all are in.  Counts the root keeps no
 * counter of (inputs by outcome, store write failures) are counted here
 * from the event feed (sse.c), since the gateway started: a counter that
 * resets when the gateway restarts, as Prometheus allows.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "gateway.h"

static const char *const states[] = { "stopped", "starting", "healthy",
    "failed", "restarting", "exhausted", "stopping" };

#define COUNTS_MAX	4096	/* member x outcome pairs kept */

struct count {
	char		 member[72];
	char		 outcome[24];
	uint64_t	 n;
};

static struct count	*counts;
static size_t		 ncounts;
static uint64_t		 store_failures;

/* An event of the feed: input.* by member and outcome, store failures. */
void
metrics_count(json_t *ev)
{
	const char *t = json_string_value(json_object_get(ev, "event_type"));
	const char *m = json_string_value(json_object_get(ev, "name"));
	struct count *c;
	size_t i;

	if (t == NULL || m == NULL)
		return;
	if (strcmp(t, "store.write_failed") == 0) {
		store_failures++;
		return;
	}
	if (strncmp(t, "input.", 6) != 0 || strlen(m) >= sizeof(c->member) ||
	    strlen(t + 6) >= sizeof(c->outcome))
		return;
	for (i = 0; i < ncounts; i++)
		if (strcmp(counts[i].member, m) == 0 &&
		    strcmp(counts[i].outcome, t + 6) == 0) {
			counts[i].n++;
			return;
		}
	if (ncounts == COUNTS_MAX)
		return;
	if ((c = reallocarray(counts, ncounts + 1, sizeof(*c))) == NULL)
		fatal("reallocarray");
	counts = c;
	c = &counts[ncounts++];
	snprintf(c->member, sizeof(c->member), "%s", m);
	snprintf(c->outcome, sizeof(c->outcome), "%s", t + 6);
	c->n = 1;
}

struct mctx {
	json_t	*status, *members;
	int64_t	 last_seq;
};

static void
mctx_free(void *p)
{
	struct mctx *m = p;

	json_decref(m->status);
	json_decref(m->members);
	free(m);
}

/* A label value, escaped as the format wants. */
static void
label(FILE *fp, const char *s)
{
	for (; s != NULL && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', fp);
		if (*s == '\n') {
			fputs("\\n", fp);
			continue;
		}
		fputc(*s, fp);
	}
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static void
children_metrics(FILE *fp, json_t *status)
{
	json_t *ch = json_object_get(status, "children"), *c;
	size_t i, k;
	int n;

	fputs("# HELP mobkit_child_up Whether the child is healthy.\n"
	    "# TYPE mobkit_child_up gauge\n", fp);
	json_array_foreach(ch, i, c) {
		fputs("mobkit_child_up{name=\"", fp);
		label(fp, jstr(c, "name"));
		fputs("\",kind=\"", fp);
		label(fp, jstr(c, "kind"));
		fprintf(fp, "\"} %d\n", strcmp(jstr(c, "state"), "healthy") ==
		    0);
	}
	fputs("# HELP mobkit_child_restarts_total Restarts of the child.\n"
	    "# TYPE mobkit_child_restarts_total counter\n", fp);
	json_array_foreach(ch, i, c) {
		fputs("mobkit_child_restarts_total{name=\"", fp);
		label(fp, jstr(c, "name"));
		fputs("\",kind=\"", fp);
		label(fp, jstr(c, "kind"));
		fprintf(fp, "\"} %lld\n", (long long)json_integer_value(
		    json_object_get(c, "restarts")));
	}
	fputs("# HELP mobkit_children Children by state.\n"
	    "# TYPE mobkit_children gauge\n", fp);
	for (k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		n = 0;
		json_array_foreach(ch, i, c)
			n += strcmp(jstr(c, "state"), states[k]) == 0;
		fprintf(fp, "mobkit_children{state=\"%s\"} %d\n", states[k],
		    n);
	}
}

static void
members_metrics(FILE *fp, json_t *members)
{
	json_t *m;
	size_t i;

	fputs("# HELP mobkit_mailbox_queued Inputs waiting in the member's "
	    "mailbox.\n# TYPE mobkit_mailbox_queued gauge\n", fp);
	json_array_foreach(members, i, m) {
		fputs("mobkit_mailbox_queued{member=\"", fp);
		label(fp, jstr(m, "id"));
		fprintf(fp, "\"} %lld\n", (long long)json_integer_value(
		    json_object_get(m, "queued")));
	}
}

/* What the feed counted. */
static void
counted_metrics(FILE *fp)
{
	size_t i;

	fputs("# HELP mobkit_inputs_total Inputs by member and outcome (since "
	    "the gateway started).\n# TYPE mobkit_inputs_total counter\n", fp);
	for (i = 0; i < ncounts; i++) {
		fputs("mobkit_inputs_total{member=\"", fp);
		label(fp, counts[i].member);
		fprintf(fp, "\",outcome=\"%s\"} %llu\n", counts[i].outcome,
		    (unsigned long long)counts[i].n);
	}
	fprintf(fp, "# HELP mobkit_store_write_failures_total Failed writes "
	    "of the store (since the gateway started).\n"
	    "# TYPE mobkit_store_write_failures_total counter\n"
	    "mobkit_store_write_failures_total %llu\n",
	    (unsigned long long)store_failures);
}

/* process_* of mobkitd, from its /proc. */
static void
process_metrics(FILE *fp, long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0, rss = 0;
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	double boot = 0;
	struct dirent *de;
	FILE *f;
	DIR *d;
	int nfd = 0, i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (pid <= 0 || (f = fopen(path, "r")) == NULL)
		return;
	if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) !=
	    NULL) {
		/* fields after the command: state is 3; starttime 22, rss 24 */
		for (i = 3, p += 2; i < 22 && (p = strchr(p, ' ')) != NULL; i++)
			p++;
		if (p != NULL)
			sscanf(p, "%llu %*u %llu", &start, &rss);
	}
	fclose(f);
	if ((f = fopen("/proc/stat", "r")) != NULL) {
		while (fgets(buf, sizeof(buf), f) != NULL)
			if (sscanf(buf, "btime %lf", &boot) == 1)
				break;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL)
			nfd += de->d_name[0] != '.';
		closedir(d);
	}
	fprintf(fp, "# HELP process_resident_memory_bytes Resident memory "
	    "of mobkitd.\n# TYPE process_resident_memory_bytes gauge\n"
	    "process_resident_memory_bytes %llu\n", rss * (unsigned long long)
	    page);
	fprintf(fp, "# HELP process_open_fds Open file descriptors of "
	    "mobkitd.\n# TYPE process_open_fds gauge\nprocess_open_fds %d\n",
	    nfd);
	fprintf(fp, "# HELP process_start_time_seconds Start time of mobkitd "
	    "since the epoch.\n# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds %.2f\n", boot + (double)start /
	    (double)ticks);
}

/* All three answers are in: the text. */
static void
metrics_render(struct hreq *r, struct mctx *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		fatal("open_memstream");
	children_metrics(fp, m->status);
	members_metrics(fp, m->members);
	counted_metrics(fp);
	fprintf(fp, "# HELP mobkit_events_total Events recorded by mobkitd.\n"
	    "# TYPE mobkit_events_total counter\nmobkit_events_total %lld\n",
	    (long long)m->last_seq);
	process_metrics(fp, (long)json_integer_value(json_object_get(
	    json_object_get(m->status, "daemon"), "pid")));
	fclose(fp);
	hreq_answer(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf,
	    len);
}

static void
seq_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct mctx *m = r->ctx;

	r->rid = 0;
	if (!ok) {
		hreq_error(r, 503, error);
		return;
	}
	m->last_seq = json_integer_value(json_object_get(res, "last_seq"));
	metrics_render(r, m);
}

static void
members_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct mctx *m = r->ctx;
	json_t *q;

	r->rid = 0;
	if (!ok) {
		hreq_error(r, 503, error);
		return;
	}
	m->members = json_incref(res);
	q = json_pack("{s:s}", "type", "gateway.none");
	r->rid = root_call(r, "events", q, NULL, seq_done);
	json_decref(q);
	if (r->rid == 0)
		hreq_error(r, 503, "mobkitd is unreachable");
}

static void
status_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct mctx *m = r->ctx;

	r->rid = 0;
	if (!ok) {
		hreq_error(r, 503, error);
		return;
	}
	m->status = json_incref(res);
	if ((r->rid = root_call(r, "members", NULL, NULL, members_done)) == 0)
		hreq_error(r, 503, "mobkitd is unreachable");
}

void
metrics_serve(struct hreq *r)
{
	struct mctx *m = calloc(1, sizeof(*m));

	if (m == NULL)
		fatal("calloc");
	r->ctx = m;
	r->ctx_free = mctx_free;
	if ((r->rid = root_call(r, "status", NULL, NULL, status_done)) == 0)
		hreq_error(r, 503, "mobkitd is unreachable");
}
