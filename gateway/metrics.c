/*
 * metrics.c: GET /metrics in Prometheus text format 0.0.4, from what the
 * root answers: status (children, their states and restarts), members
 * (mailboxes), usage (tokens per member), the event ring's last seq, and
 * mobkitd's process (its /proc, by the pid status gives).  Four root
 * calls, one after the other; the text is built once all are in.  What
 * the root keeps no counter of is counted from the event feed
 * (metrics_feed.c).
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

struct mctx {
	json_t	*status, *members, *usage;
	int64_t	 last_seq;
};

static void
mctx_free(void *p)
{
	struct mctx *m = p;

	json_decref(m->status);
	json_decref(m->members);
	json_decref(m->usage);
	free(m);
}

/* A label value, escaped as the format wants. */
void
metrics_label(FILE *fp, const char *s)
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
		metrics_label(fp, jstr(c, "name"));
		fputs("\",kind=\"", fp);
		metrics_label(fp, jstr(c, "kind"));
		fprintf(fp, "\"} %d\n", strcmp(jstr(c, "state"), "healthy") ==
		    0);
	}
	fputs("# HELP mobkit_child_restarts_total Restarts of the child.\n"
	    "# TYPE mobkit_child_restarts_total counter\n", fp);
	json_array_foreach(ch, i, c) {
		fputs("mobkit_child_restarts_total{name=\"", fp);
		metrics_label(fp, jstr(c, "name"));
		fputs("\",kind=\"", fp);
		metrics_label(fp, jstr(c, "kind"));
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
		metrics_label(fp, jstr(m, "id"));
		fprintf(fp, "\"} %lld\n", (long long)json_integer_value(
		    json_object_get(m, "queued")));
	}
}

/* Tokens the providers reported, per member (the root's usage). */
static void
usage_metrics(FILE *fp, json_t *usage)
{
	static const char *const dir[][2] = { { "input", "input_tokens" },
	    { "output", "output_tokens" } };
	json_t *u;
	size_t i, k;

	fputs("# HELP mobkit_llm_tokens_total Tokens the LLM servers reported, "
	    "per member and direction.\n"
	    "# TYPE mobkit_llm_tokens_total counter\n", fp);
	json_array_foreach(usage, i, u)
		for (k = 0; k < 2; k++) {
			fputs("mobkit_llm_tokens_total{member=\"", fp);
			metrics_label(fp, jstr(u, "id"));
			fprintf(fp, "\",direction=\"%s\"} %lld\n", dir[k][0],
			    (long long)json_integer_value(json_object_get(u,
			    dir[k][1])));
		}
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
	usage_metrics(fp, m->usage);
	metrics_feed_render(fp);
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
usage_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct mctx *m = r->ctx;
	json_t *q;

	r->rid = 0;
	if (!ok) {
		hreq_error(r, 503, error);
		return;
	}
	m->usage = json_incref(res);
	q = json_pack("{s:s}", "type", "gateway.none");
	r->rid = root_call(r, "events", q, NULL, seq_done);
	json_decref(q);
	if (r->rid == 0)
		hreq_error(r, 503, "mobkitd is unreachable");
}

static void
members_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct mctx *m = r->ctx;

	r->rid = 0;
	if (!ok) {
		hreq_error(r, 503, error);
		return;
	}
	m->members = json_incref(res);
	if ((r->rid = root_call(r, "usage", NULL, NULL, usage_done)) == 0)
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
