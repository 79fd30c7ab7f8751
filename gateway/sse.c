/*
 * sse.c: event streams.
 *
 * GET /v1/events: the root's events verb.  As JSON: one array of what the
 * ring holds (after ?since=).  As text/event-stream: the same followed
 * live, each event as "id: SEQ", "event: TYPE", "data: EVENT"; it resumes
 * after Last-Event-ID (or ?since=), so a client that reconnects, to this
 * gateway or to the next one after a crash, misses nothing and sees
 * nothing twice (the seqs are the root's ring's).
 *
 * POST /v1/members/ID/inputs with Accept: text/event-stream: the root's
 * events are followed from now, the input is sent (keyed: its own key or
 * one made here), its text_delta events go out as "delta" events, and the
 * same keyed send with wait gives the one "result" event.
 *
 * One follow of every event (the feed) is held by the gateway for all its
 * streams: a new stream replays what it missed (after its Last-Event-ID)
 * with a one-shot events call, holding the feed's events that come
 * meanwhile, then goes live on the feed after the replay's last_seq.  The
 * root thus sends each event once to the gateway, however many streams,
 * and each stream sees each seq once (its cursor).  A feed the root drops
 * (lagged) follows again after the last seq it had.
 *
 * An event's text is made once, into a chunk shared by every stream it
 * goes to (counted references); a stream holds a queue of chunks, and its
 * own text (errors, deltas, the doors' frames) goes into a chunk of its
 * own at the tail.  A stream given text is not woken at once: it joins the
 * due list, and the due streams are resumed together just before MHD runs
 * next (sse_resume_due; MHD's run is an idle watcher, so it comes after
 * the loop has taken in what the root sent): the events that came
 * meanwhile leave in one write per connection, its reader giving MHD the
 * queued chunks in one go.
 *
 * What a stream holds is bounded (SSE_BUF_MAX): a client that does not
 * read is dropped with a last "dropped" event giving the seq to resume
 * from; it never slows the root, the gateway or other clients.  A
 * ": keep-alive" comment goes to every stream each 15 s.
 */
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"
#include "gateway.h"

#define SSE_BUF_MAX	(1024 * 1024)
#define KEEPALIVE_S	15.0
#define PENDING_MAX	4096	/* deltas held until the input id is known */
#define HELD_MAX	65536	/* feed events held while a stream replays */
#define OWN_MIN		256	/* a stream's own chunk, at first */

/* Text for one or more streams. */
struct chunk {
	unsigned	 refs;
	int		 own;		/* one stream's, at its tail: it grows */
	size_t		 len, cap;
	char		 p[];
};

struct sse {
	LIST_ENTRY(sse)	 entry;
	LIST_ENTRY(sse)	 dentry;	/* on the due list */
	int		 due;
	struct hreq	*r;
	struct chunk	**q;		/* queued: q[qh] .. q[qn - 1] */
	size_t		 qh, qn, qcap;
	size_t		 qoff;		/* read of q[qh] */
	size_t		 queued;	/* bytes not read yet */
	int		 ended;		/* nothing more after the queue */
	char		*name;		/* ?name= filter */
	char		*source, *type;	/* ?source=, ?type= (a trailing *) */
	int		 follows;	/* of the feed (GET /v1/events) */
	int		 live;		/* replayed: the feed's events go out */
	int64_t		 cursor;	/* the last seq handed over or skipped */
	json_t		*held;		/* feed events during the replay */
	/* a streamed input */
	char		*member;
	char		*input_id;
	json_t		*args;		/* of the send */
	json_t		*pending;	/* deltas before input_id was known */
	json_t		*first;		/* the first send's answer */
	char		*text;		/* run_completed's text */
	json_t		*usage;		/* and its usage (tokens), or NULL */
	sse_fmt_fn	 fmt;		/* writes the events itself */
};

static LIST_HEAD(, sse) streams = LIST_HEAD_INITIALIZER(streams);
static LIST_HEAD(, sse) due = LIST_HEAD_INITIALIZER(due);
static ev_timer	 keepalive;

/* A chunk of len bytes (cap at least), no reference yet. */
static struct chunk *
chunk_new(const char *p, size_t len, size_t cap, int own)
{
	struct chunk *c;

	if (cap < len)
		cap = len;
	if ((c = malloc(sizeof(*c) + cap)) == NULL)
		fatal("malloc");
	c->refs = 0;
	c->own = own;
	c->len = len;
	c->cap = cap;
	memcpy(c->p, p, len);
	return c;
}

static void
chunk_unref(struct chunk *c)
{
	if (--c->refs == 0)
		free(c);
}

/* A chunk no stream took. */
static void
chunk_drop(struct chunk *c)
{
	if (c != NULL && c->refs == 0)
		free(c);
}

/* s has text to give: resume it before MHD runs next. */
static void
sse_due(struct sse *s)
{
	if (s->due || s->r->gone)
		return;
	s->due = 1;
	LIST_INSERT_HEAD(&due, s, dentry);
	http_kick();
}

/* Resume every stream that was given text since MHD last ran. */
void
sse_resume_due(void)
{
	struct sse *s;

	while ((s = LIST_FIRST(&due)) != NULL) {
		LIST_REMOVE(s, dentry);
		s->due = 0;
		hreq_wake(s->r);
	}
}

static struct sse *
sse_new(struct hreq *r)
{
	struct sse *s = calloc(1, sizeof(*s));

	if (s == NULL)
		fatal("calloc");
	s->r = r;
	r->sse = s;
	LIST_INSERT_HEAD(&streams, s, entry);
	return s;
}

void
sse_free(struct sse *s)
{
	LIST_REMOVE(s, entry);
	if (s->due)
		LIST_REMOVE(s, dentry);
	for (; s->qh < s->qn; s->qh++)
		chunk_unref(s->q[s->qh]);
	free(s->q);
	free(s->name);
	free(s->source);
	free(s->type);
	json_decref(s->held);
	free(s->member);
	free(s->input_id);
	json_decref(s->args);
	json_decref(s->pending);
	json_decref(s->first);
	free(s->text);
	json_decref(s->usage);
	free(s);
}

/* Queue a chunk (one more reference), even past the bound (the caller
 * checked). */
static void
put_chunk(struct sse *s, struct chunk *c)
{
	struct chunk **nq;
	size_t ncap;

	if (s->qn == s->qcap) {
		if (s->qh > 0) {
			memmove(s->q, s->q + s->qh, (s->qn - s->qh) *
			    sizeof(*s->q));
			s->qn -= s->qh;
			s->qh = 0;
		} else {
			ncap = s->qcap ? s->qcap * 2 : 4;
			if ((nq = reallocarray(s->q, ncap, sizeof(*nq))) ==
			    NULL)
				fatal("reallocarray");
			s->q = nq;
			s->qcap = ncap;
		}
	}
	c->refs++;
	s->q[s->qn++] = c;
	s->queued += c->len;
	sse_due(s);
}

/* Append the stream's own text: to its own chunk at the tail, or a new
 * one; even past the bound (the caller checked). */
static void
put_raw(struct sse *s, const char *p, size_t n)
{
	struct chunk *c, *nc;
	size_t cap;

	if (s->qn > s->qh && (c = s->q[s->qn - 1])->own) {
		if (c->len + n > c->cap) {
			cap = c->cap * 2 > c->len + n ? c->cap * 2 : c->len + n;
			if ((nc = realloc(c, sizeof(*c) + cap)) == NULL)
				fatal("realloc");
			nc->cap = cap;
			s->q[s->qn - 1] = c = nc;
		}
		memcpy(c->p + c->len, p, n);
		c->len += n;
		s->queued += n;
		sse_due(s);
		return;
	}
	put_chunk(s, chunk_new(p, n, n < OWN_MIN ? OWN_MIN : n, 1));
}

/* End the stream once its buffer is out; the root calls are cancelled. */
static void
sse_end(struct sse *s)
{
	s->ended = 1;
	sse_due(s);
	if (s->r->rid != 0) {
		root_cancel(s->r->rid);
		s->r->rid = 0;
	}
	if (s->r->rid2 != 0) {
		root_cancel(s->r->rid2);
		s->r->rid2 = 0;
	}
}

static void	put_event(struct sse *, int64_t, const char *, json_t *);

/* An error event in the error shape: {"error":{"code","message"}}. */
static void
put_error(struct sse *s, const char *type, unsigned status, const char *msg)
{
	json_t *e = error_body(error_code(status), msg);

	put_event(s, 0, type, e);
	json_decref(e);
}

/* The text of one event, "id:" (seq > 0), "event:", "data:" (one line),
 * in a new chunk. */
static struct chunk *
frame_chunk(int64_t seq, const char *type, json_t *data)
{
	struct chunk *c;
	char *d, head[64];
	size_t dlen, hlen, tlen = strlen(type);
	int n;

	d = json_text(data, &dlen);
	if (seq > 0)
		n = snprintf(head, sizeof(head), "id: %lld\n", (long long)seq);
	else
		n = 0;
	hlen = (size_t)n;
	c = chunk_new(head, hlen, hlen + 7 + tlen + 7 + dlen + 2, 0);
	memcpy(c->p + c->len, "event: ", 7);
	memcpy(c->p + c->len + 7, type, tlen);
	memcpy(c->p + c->len + 7 + tlen, "\ndata: ", 7);
	memcpy(c->p + c->len + 7 + tlen + 7, d, dlen);
	memcpy(c->p + c->len + 7 + tlen + 7 + dlen, "\n\n", 2);
	c->len = c->cap;
	free(d);
	return c;
}

/* An event's chunk to a stream; past the bound, the stream is dropped. */
static void
put_frame(struct sse *s, int64_t seq, struct chunk *c)
{
	char *msg;

	if (s->ended)
		return;
	if (s->queued + c->len > SSE_BUF_MAX) {
		if (asprintf(&msg, "event: dropped\ndata: {\"error\":"
		    "\"slow_client\",\"message\":\"the client did not read "
		    "fast enough\",\"resume_from_seq\":%lld}\n\n",
		    (long long)seq) == -1)
			fatal("asprintf");
		log_warnx("dropping a slow event-stream client (%zu bytes "
		    "unread)", s->queued);
		put_raw(s, msg, strlen(msg));
		free(msg);
		sse_end(s);
		return;
	}
	put_chunk(s, c);
}

/* One event to one stream. */
static void
put_event(struct sse *s, int64_t seq, const char *type, json_t *data)
{
	struct chunk *c;

	if (s->ended)
		return;
	if (s->fmt != NULL) {
		s->fmt(s->r, type, data);
		return;
	}
	c = frame_chunk(seq, type, data);
	put_frame(s, seq, c);
	chunk_drop(c);
}

/* What the stream has for MHD, its queued chunks in one go: bytes, 0
 * (nothing yet), -1 (the end). */
ssize_t
sse_read(struct hreq *r, char *buf, size_t max)
{
	struct sse *s = r->sse;
	struct chunk *c;
	size_t n, done = 0;

	if (s == NULL)
		return -1;
	while (done < max && s->qh < s->qn) {
		c = s->q[s->qh];
		n = c->len - s->qoff;
		if (n > max - done)
			n = max - done;
		memcpy(buf + done, c->p + s->qoff, n);
		done += n;
		s->qoff += n;
		if (s->qoff == c->len) {
			chunk_unref(c);
			s->qoff = 0;
			if (++s->qh == s->qn)
				s->qh = s->qn = 0;
		}
	}
	s->queued -= done;
	if (done == 0)
		return s->ended ? -1 : 0;
	return (ssize_t)done;
}

/* Does an event pass the ?name= filter? */
static int
name_ok(const char *want, json_t *ev)
{
	const char *n = json_string_value(json_object_get(ev, "name"));

	return want == NULL || (n != NULL && strcmp(n, want) == 0);
}

/* --- GET /v1/events ------------------------------------------------- */

/* An item of the events verb, to the stream. */
static void
events_item(struct hreq *r, json_t *item)
{
	struct sse *s = r->sse;
	json_t *e;

	if ((e = json_object_get(item, "error")) != NULL) {
		put_event(s, 0, "dropped", item);
		sse_end(s);
		return;
	}
	if (json_object_get(item, "gap") != NULL) {
		put_event(s, 0, "gap", json_object_get(item, "gap"));
		return;
	}
	if (!name_ok(s->name, item))
		return;
	put_event(s, json_integer_value(json_object_get(item, "seq")),
	    json_string_value(json_object_get(item, "event_type")) ?
	    json_string_value(json_object_get(item, "event_type")) : "event",
	    item);
}

static void
events_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct sse *s = r->sse;

	(void)res;
	r->rid = 0;
	if (!ok)
		put_error(s, "error", 503, error);
	sse_end(s);
}

/* JSON mode: the items gathered in ctx. */
static void
events_json_item(struct hreq *r, json_t *item)
{
	const char *name = hreq_query(r, "name");

	if (json_object_get(item, "seq") != NULL && !name_ok(name, item))
		return;
	json_array_append(r->ctx, item);
}

static void
events_json_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	(void)res;
	r->rid = 0;
	if (!ok) {
		hreq_error(r, root_error_status(error), error);
		return;
	}
	hreq_json(r, 200, json_incref(r->ctx));
}

static void
ctx_json_free(void *p)
{
	json_decref(p);
}

/* since=, source=, type= of the events verb; SSE resumes after
 * Last-Event-ID. */
static json_t *
events_args(struct hreq *r, int follow)
{
	const char *since = hreq_header(r, "Last-Event-ID");
	const char *src = hreq_query(r, "source"), *type = hreq_query(r,
	    "type");
	json_t *a = json_object();

	if (since == NULL || !follow)
		since = hreq_query(r, "since");
	if (since != NULL && *since >= '0' && *since <= '9')
		json_object_set_new(a, "since", json_integer(strtoll(since,
		    NULL, 10)));
	if (src != NULL)
		json_object_set_new(a, "source", json_string(src));
	if (type != NULL)
		json_object_set_new(a, "type", json_string(type));
	if (follow)
		json_object_set_new(a, "follow", json_true());
	return a;
}

/* --- the feed: one follow for every stream ---------------------------- */

static struct {
	uint64_t	 rid;
	int64_t		 last;		/* the last seq it gave */
	int		 started;
} feed;
static ev_timer	 feed_retry;

static void	feed_follow(void);

/* A root filter: exact, or a prefix ending in '*'. */
static int
filter_ok(const char *want, const char *have)
{
	size_t n;

	if (want == NULL)
		return 1;
	if (have == NULL)
		return 0;
	n = strlen(want);
	if (n > 0 && want[n - 1] == '*')
		return strncmp(want, have, n - 1) == 0;
	return strcmp(want, have) == 0;
}

/* A feed event, looked at once for all the streams. */
struct fev {
	json_t		*item;
	int64_t		 seq;
	const char	*type, *source;
	struct chunk	*c;		/* its text, made for the first taker */
};

static void
fev_init(struct fev *fe, json_t *item)
{
	fe->item = item;
	fe->seq = json_integer_value(json_object_get(item, "seq"));
	fe->type = json_string_value(json_object_get(item, "event_type"));
	fe->source = json_string_value(json_object_get(item, "source"));
	fe->c = NULL;
}

/*
 * A feed event to a live stream: once (its cursor), if it passes the
 * stream's filters.
 */
static void
stream_offer(struct sse *s, struct fev *fe)
{
	if (s->ended || fe->seq <= s->cursor)
		return;
	s->cursor = fe->seq;
	if (!filter_ok(s->source, fe->source) || !filter_ok(s->type,
	    fe->type) || !name_ok(s->name, fe->item))
		return;
	if (fe->c == NULL)
		fe->c = frame_chunk(fe->seq, fe->type ? fe->type : "event",
		    fe->item);
	put_frame(s, fe->seq, fe->c);
}

static void
feed_item(struct hreq *r, json_t *item)
{
	struct fev fe;
	struct sse *s;

	(void)r;
	if (json_object_get(item, "error") != NULL)
		return;		/* lagged: the end follows, then again */
	if (json_object_get(item, "gap") != NULL) {
		LIST_FOREACH(s, &streams, entry)
			if (s->follows && s->live && !s->ended)
				put_event(s, 0, "gap", json_object_get(item,
				    "gap"));
		return;
	}
	fev_init(&fe, item);
	feed.last = fe.seq;
	metrics_count(item);
	LIST_FOREACH(s, &streams, entry) {
		if (!s->follows || s->ended)
			continue;
		if (s->live)
			stream_offer(s, &fe);
		else if (json_array_size(s->held) < HELD_MAX)
			json_array_append(s->held, item);
		else {
			put_error(s, "dropped", 503, "too many events while "
			    "replaying");
			sse_end(s);
		}
	}
	chunk_drop(fe.c);
}

/* The root ended the feed (it lagged, or the root stops): again. */
static void
feed_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	(void)r;
	(void)res;
	feed.rid = 0;
	if (!gw_stopping) {
		log_info("event feed ended (%s): following again after seq "
		    "%lld", ok ? "done" : error, (long long)feed.last);
		ev_timer_start(gw_loop, &feed_retry);
	}
}

static void
feed_follow(void)
{
	json_t *a = json_pack("{s:I,s:b}", "since", (json_int_t)feed.last,
	    "follow", 1);

	feed.rid = root_call(NULL, "events", a, feed_item, feed_done);
	json_decref(a);
}

/* The newest seq at start: the feed follows from it. */
static void
feed_first(struct hreq *r, int ok, json_t *res, const char *error)
{
	(void)r;
	if (!ok) {
		log_warnx("event feed: %s", error);
		if (!gw_stopping)
			ev_timer_start(gw_loop, &feed_retry);
		return;
	}
	feed.last = json_integer_value(json_object_get(res, "last_seq"));
	feed.started = 1;
	feed_follow();
}

static void
feed_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	json_t *q;

	(void)loop;
	(void)w;
	(void)revents;
	if (feed.started) {
		feed_follow();
		return;
	}
	q = json_pack("{s:s}", "type", "gateway.none");
	(void)root_call(NULL, "events", q, NULL, feed_first);
	json_decref(q);
}

/* Follow every event, for the streams (at start, once the root is up). */
void
sse_feed_start(void)
{
	ev_timer_init(&feed_retry, feed_retry_cb, 0.1, 0.);
	feed_retry_cb(gw_loop, &feed_retry, 0);
}

/* A stream's replay is over (last_seq): live from there. */
static void
replay_done(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct sse *s = r->sse;
	int64_t last;
	json_t *e;
	size_t i;

	r->rid = 0;
	if (!ok) {
		put_error(s, "error", 503, error);
		sse_end(s);
		return;
	}
	last = json_integer_value(json_object_get(res, "last_seq"));
	if (last > s->cursor)
		s->cursor = last;
	s->live = 1;
	json_array_foreach(s->held, i, e) {
		struct fev fe;

		fev_init(&fe, e);
		stream_offer(s, &fe);
		chunk_drop(fe.c);
	}
	json_array_clear(s->held);
}

/* A replayed event: it moves the cursor too. */
static void
replay_item(struct hreq *r, json_t *item)
{
	struct sse *s = r->sse;
	int64_t seq = json_integer_value(json_object_get(item, "seq"));

	if (seq > s->cursor)
		s->cursor = seq;
	events_item(r, item);
}

/* ?x= into a new string, or NULL. */
static char *
query_dup(struct hreq *r, const char *name)
{
	const char *v = hreq_query(r, name);
	char *d;

	if (v == NULL)
		return NULL;
	if ((d = strdup(v)) == NULL)
		fatal("strdup");
	return d;
}

void
sse_events(struct hreq *r)
{
	const char *acc = hreq_header(r, "Accept");
	json_t *args;
	struct sse *s;

	if (acc == NULL || strstr(acc, "text/event-stream") == NULL) {
		r->ctx = json_array();
		r->ctx_free = ctx_json_free;
		args = events_args(r, 0);
		r->rid = root_call(r, "events", args, events_json_item,
		    events_json_done);
		json_decref(args);
		if (r->rid == 0)
			hreq_error(r, 503, "mobkitd is unreachable");
		return;
	}
	if (!root_up()) {
		hreq_error(r, 503, "mobkitd is unreachable");
		return;
	}
	s = sse_new(r);
	s->name = query_dup(r, "name");
	s->source = query_dup(r, "source");
	s->type = query_dup(r, "type");
	s->follows = 1;
	s->held = json_array();
	args = events_args(r, 1);
	json_object_del(args, "follow");
	r->rid = root_call(r, "events", args, replay_item, replay_done);
	json_decref(args);
	put_raw(s, ": events\n\n", 10);
	if (r->rid == 0)
		replay_done(r, 0, NULL, "mobkitd is unreachable");
}

/* --- POST /v1/members/ID/inputs, streamed --------------------------- */

/* A delta of our input, to the stream. */
static void
delta_put(struct sse *s, json_t *payload)
{
	json_t *d = json_pack("{s:O,s:O}", "input_id", json_object_get(payload,
	    "input_id"), "delta", json_object_get(payload, "delta"));

	put_event(s, 0, "delta", d);
	json_decref(d);
}

/* An event while the input runs: its text_delta are ours to pass on. */
static void
input_item(struct hreq *r, json_t *item)
{
	struct sse *s = r->sse;
	json_t *p = json_object_get(item, "payload");
	const char *t = json_string_value(json_object_get(item, "event_type"));
	const char *id = json_string_value(json_object_get(p, "input_id"));

	if (json_object_get(item, "error") != NULL) {
		put_event(s, 0, "dropped", item);
		sse_end(s);
		return;
	}
	if (t != NULL && strcmp(t, "run_completed") == 0 && id != NULL &&
	    s->input_id != NULL && strcmp(id, s->input_id) == 0 &&
	    name_ok(s->member, item)) {
		free(s->text);
		s->text = json_string_value(json_object_get(p, "text")) ?
		    strdup(json_string_value(json_object_get(p, "text"))) :
		    NULL;
		json_decref(s->usage);
		s->usage = json_is_object(json_object_get(p, "usage")) ?
		    json_incref(json_object_get(p, "usage")) : NULL;
		return;
	}
	if (t == NULL || strcmp(t, "text_delta") != 0 || id == NULL ||
	    !name_ok(s->member, item))
		return;
	if (s->input_id == NULL) {
		if (json_array_size(s->pending) < PENDING_MAX)
			json_array_append(s->pending, p);
		return;
	}
	if (strcmp(id, s->input_id) == 0)
		delta_put(s, p);
}

/* The waited send answered: the one result, and the end. */
static void
input_result(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct sse *s = r->sse;

	r->rid2 = 0;
	if (ok && s->first != NULL && json_is_object(res)) {
		/* as the first send answered; the text as the turn ended */
		res = json_deep_copy(res);
		json_object_set(res, "outcome", json_object_get(s->first,
		    "outcome"));
		json_object_set(res, "existing_input_id", json_object_get(
		    s->first, "existing_input_id"));
		if (s->text != NULL && json_is_object(json_object_get(res,
		    "result")) && json_is_null(json_object_get(
		    json_object_get(res, "result"), "text")))
			json_object_set_new(json_object_get(res, "result"),
			    "text", json_string(s->text));
		put_event(s, 0, "result", res);
		json_decref(res);
	} else if (ok)
		put_event(s, 0, "result", res);
	else
		put_error(s, "result", root_error_status(error), error);
	sse_end(s);
}

/* The first send answered: its input id; then wait for its end. */
static void
input_accepted(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct sse *s = r->sse;
	const char *id = json_string_value(json_object_get(res, "input_id"));
	json_t *p;
	size_t i;

	r->rid2 = 0;
	if (!ok || id == NULL || json_is_object(json_object_get(res,
	    "result"))) {	/* refused, rejected, or over already */
		input_result(r, ok, res, error);
		return;
	}
	if ((s->input_id = strdup(id)) == NULL)
		fatal("strdup");
	s->first = json_incref(res);
	json_array_foreach(s->pending, i, p)
		if (strcmp(json_string_value(json_object_get(p, "input_id")),
		    id) == 0)
			delta_put(s, p);
	json_array_clear(s->pending);
	json_object_set_new(s->args, "wait", json_true());
	if ((r->rid2 = root_call(r, "send", s->args, NULL, input_result)) == 0)
		input_result(r, 0, NULL, "mobkitd is unreachable");
}

/* Following from last_seq: now send the input. */
static void
input_follow(struct hreq *r, int ok, json_t *res, const char *error)
{
	struct sse *s = r->sse;
	json_t *a;

	r->rid = 0;
	if (!ok) {
		input_result(r, 0, NULL, error);
		return;
	}
	a = json_pack("{s:I,s:b}", "since", json_integer_value(
	    json_object_get(res, "last_seq")), "follow", 1);
	r->rid = root_call(r, "events", a, input_item, events_done);
	json_decref(a);
	a = json_deep_copy(s->args);
	json_object_del(a, "wait");
	json_object_del(a, "timeout_ms");
	r->rid2 = root_call(r, "send", a, NULL, input_accepted);
	json_decref(a);
	if (r->rid == 0 || r->rid2 == 0)
		input_result(r, 0, NULL, "mobkitd is unreachable");
}

/* Stream the reply to an input: follow, send, wait (see above). */
void
sse_send_stream(struct hreq *r, const char *member, json_t *body)
{
	static unsigned long n;
	struct sse *s;
	json_t *q;
	char key[96];

	if (!root_up()) {
		hreq_error(r, 503, "mobkitd is unreachable");
		return;
	}
	s = sse_new(r);
	s->pending = json_array();
	if ((s->member = strdup(member)) == NULL)
		fatal("strdup");
	s->args = json_deep_copy(body);
	if (!json_is_string(json_object_get(s->args, "key"))) {
		snprintf(key, sizeof(key), "gateway-%d-%llu-%lu", (int)getpid(),
		    (unsigned long long)wall_ms(), ++n);
		json_object_set_new(s->args, "key", json_string(key));
	}
	/* the newest seq now: no event matches this type */
	q = json_pack("{s:s}", "type", "gateway.none");
	r->rid = root_call(r, "events", q, NULL, input_follow);
	json_decref(q);
	put_raw(s, ": input\n\n", 9);
}

/* Hand r's stream's events to fmt, which writes them with sse_put. */
void
sse_set_format(struct hreq *r, sse_fmt_fn fmt)
{
	if (r->sse != NULL)
		r->sse->fmt = fmt;
}

/* The usage (tokens) of r's streamed input, once its turn completed:
 * {"input_tokens","output_tokens","total_tokens"}, or NULL. */
json_t *
sse_usage(struct hreq *r)
{
	return r->sse != NULL ? r->sse->usage : NULL;
}

/* Raw text to r's stream; a client that does not read is dropped. */
void
sse_put(struct hreq *r, const char *p, size_t n)
{
	struct sse *s = r->sse;

	if (s == NULL || s->ended)
		return;
	if (s->queued + n > SSE_BUF_MAX) {
		log_warnx("dropping a slow event-stream client (%zu bytes "
		    "unread)", s->queued);
		sse_end(s);
		return;
	}
	put_raw(s, p, n);
}

/* --- keep-alives ----------------------------------------------------- */

static void
keepalive_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct chunk *c = chunk_new(": keep-alive\n\n", 14, 14, 0);
	struct sse *s;

	(void)loop;
	(void)w;
	(void)revents;
	LIST_FOREACH(s, &streams, entry)
		if (!s->ended && s->queued < SSE_BUF_MAX)
			put_chunk(s, c);
	chunk_drop(c);
}

void
sse_keepalive_start(void)
{
	ev_timer_init(&keepalive, keepalive_cb, KEEPALIVE_S, KEEPALIVE_S);
	ev_timer_start(gw_loop, &keepalive);
}
