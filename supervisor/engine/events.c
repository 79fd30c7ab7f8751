/*
 * events.c: the event stream, a ring bounded in bytes
 * ([mobkitd] event_buffer_bytes), the transition log, and the readers of
 * the stream.  A reader replays from a cursor into the ring, a batch at a
 * time as its socket drains, then (with --follow) goes live: new events
 * are queued to it as they happen, up to client_buffer_bytes of unsent
 * output.  A reader that falls further behind than that (or out of the
 * ring) gets a last {"error":"lagged"} item and is dropped; it never
 * holds up the daemon or another client.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "engine/events.h"
#include "engine/internal.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"

#define TRANS_CAP	8192
#define PUMP_BATCH	(256 * 1024)	/* a replay queues this much at once */
#define PUMP_LOWAT	(64 * 1024)	/* and more when the queue is this low */

struct event_rec {
	uint64_t	 seq;
	char		*source;
	char		*type;
	char		*name;
	char		*packed;	/* the whole event object */
	size_t		 len;
	size_t		 cost;		/* bytes counted against the bound */
};

struct trans_rec {
	char		*name;
	int		 from;
	int		 to;
	int		 attempt;
	uint64_t	 at_ms;
};

struct sub {
	TAILQ_ENTRY(sub)	 entry;
	struct client		*client;
	char			*source;
	char			*type;
	char			*name;
	uint64_t		 cursor;	/* last seq handed over or skipped */
	int			 follow;
	int			 live;		/* caught up: pushed as they come */
};

static struct event_rec	*ring;
static size_t		 ring_cap, ring_n, ring_head;	/* head: oldest */
static size_t		 ring_bytes;
static uint64_t		 next_seq = 1, last_ts;
static char		 boot_id[24];
static struct trans_rec	 trans[TRANS_CAP];
#define TAPS_MAX	4
static event_tap_fn	 taps[TAPS_MAX];
static size_t		 trans_n, trans_head;
static TAILQ_HEAD(, sub) subs = TAILQ_HEAD_INITIALIZER(subs);
static const struct event_client_ops *cops;	/* how to reach a client */

static void	sub_pump(struct sub *);

/* Allocate the ring with cap slots to start with (it grows as needed). */
void
events_init(size_t cap)
{
	if (cap == 0)
		cap = 64;
	if ((ring = calloc(cap, sizeof(*ring))) == NULL)
		fatal("calloc");
	ring_cap = cap;
	snprintf(boot_id, sizeof(boot_id), "%llx", (unsigned long long)wall_ms());
}

uint64_t
events_last_seq(void)
{
	return next_seq - 1;
}

/* The seq of the oldest event the ring still holds (next_seq if none). */
static uint64_t
oldest_seq(void)
{
	return ring_n > 0 ? ring[ring_head].seq : next_seq;
}

static int
matches(const char *want, const char *have)
{
	size_t n;

	if (want == NULL)
		return 1;
	n = strlen(want);
	if (n > 0 && want[n - 1] == '*')
		return strncmp(want, have, n - 1) == 0;
	return strcmp(want, have) == 0;
}

/* Does a reader want the event? */
static int
sub_wants(const struct sub *s, const struct event_rec *e)
{
	return matches(s->source, e->source) && matches(s->type, e->type) &&
	    matches(s->name, e->name);
}

/* Queue one stream item (already packed) to a client. */
static int
send_item(struct client *cl, const char *item, size_t len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int r;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kint(&pk, "t", MSG_CTL_STREAM);
	mp_str(&pk, "item");
	msgpack_sbuffer_write(&sb, item, len);
	r = cops->send(cl, &sb);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

/* Forget a reader. */
static void
sub_free(struct sub *s)
{
	TAILQ_REMOVE(&subs, s, entry);
	free(s->source);
	free(s->type);
	free(s->name);
	free(s);
}

/* The reader fell behind: tell it where to resume, then drop it. */
static void
sub_lagged(struct sub *s, uint64_t resume)
{
	struct client *cl = s->client;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	log_warnx("dropping an event follower %zu bytes behind (lagged; "
	    "resume_from_seq %llu)", cops->queued(cl),
	    (unsigned long long)resume);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kstr(&pk, "error", "lagged");
	mp_kint(&pk, "resume_from_seq", (int64_t)resume);
	(void)send_item(cl, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	cops->close(cl, "event reader lagged");	/* frees s */
}

/* Drop the oldest event. */
static void
ring_evict(void)
{
	struct event_rec *e = &ring[ring_head];

	ring_bytes -= e->cost;
	free(e->source);
	free(e->type);
	free(e->name);
	free(e->packed);
	memset(e, 0, sizeof(*e));
	ring_head = (ring_head + 1) % ring_cap;
	ring_n--;
}

/* Room for one more slot: double the ring, oldest first. */
static void
ring_grow(void)
{
	struct event_rec *nr;
	size_t i, ncap = ring_cap * 2;

	if ((nr = calloc(ncap, sizeof(*nr))) == NULL)
		fatal("calloc");
	for (i = 0; i < ring_n; i++)
		nr[i] = ring[(ring_head + i) % ring_cap];
	free(ring);
	ring = nr;
	ring_cap = ncap;
	ring_head = 0;
}

/* Keep the ring within event_buffer_bytes once `cost` more is added. */
static void
ring_make_room(size_t cost)
{
	size_t limit = D->cfg != NULL && D->cfg->event_buffer_bytes > 0 ?
	    (size_t)D->cfg->event_buffer_bytes : 0;

	while (ring_n > 0 && ring_bytes + cost > limit)
		ring_evict();
	if (ring_n == ring_cap)
		ring_grow();
}

/* Hand a new event to every reader: live ones get it, others may lag. */
static void
subs_offer(const struct event_rec *e)
{
	uint64_t oldest = oldest_seq();
	struct sub *s, *t;
	size_t cap, q;

	if (TAILQ_EMPTY(&subs))
		return;
	cap = (size_t)D->cfg->client_buffer_bytes;
	TAILQ_FOREACH_SAFE(s, &subs, entry, t) {
		if (!s->live) {
			if (s->cursor + 1 < oldest)
				sub_lagged(s, s->cursor + 1);
			continue;
		}
		s->cursor = e->seq;
		if (!sub_wants(s, e))
			continue;
		q = cops->queued(s->client);
		if (q > 0 && q + e->len > cap)
			sub_lagged(s, e->seq);
		else if (send_item(s->client, e->packed, e->len) == -1)
			sub_lagged(s, e->seq);
	}
}

/* Append an event to the ring and hand it to the readers. */
/* Tell the taps of an event just recorded. */
static void
events_tap(const char *source, const char *name, const char *type,
    const char *payload, size_t len)
{
	size_t i;

	for (i = 0; i < TAPS_MAX && taps[i] != NULL; i++)
		taps[i](source, name, type, payload, len);
}

void
event_emit_raw(const char *source, const char *name, const char *type,
    const char *payload, size_t len)
{
	struct event_rec *e;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char id[64];
	uint64_t ts = wall_ms(), seq = next_seq++;

	if (ts < last_ts)
		ts = last_ts;	/* never backwards */
	last_ts = ts;
	snprintf(id, sizeof(id), "%s-%llu", boot_id, (unsigned long long)seq);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 7);
	mp_kint(&pk, "seq", (int64_t)seq);
	mp_kstr(&pk, "event_id", id);
	mp_kstr(&pk, "source", source);
	mp_kint(&pk, "timestamp_ms", (int64_t)ts);
	mp_kstr(&pk, "name", name);
	mp_kstr(&pk, "event_type", type);
	mp_str(&pk, "payload");
	if (payload != NULL && len > 0)
		msgpack_sbuffer_write(&sb, payload, len);
	else
		msgpack_pack_map(&pk, 0);
	ring_make_room(sizeof(*e) + sb.size + strlen(source) + strlen(type) +
	    strlen(name));
	e = &ring[(ring_head + ring_n) % ring_cap];
	ring_n++;
	e->seq = seq;
	/* an sbuffer starts at 8 KiB: keep only what the event holds */
	if ((e->packed = realloc(sb.data, sb.size)) == NULL)
		e->packed = sb.data;
	e->len = sb.size;
	if ((e->source = strdup(source)) == NULL ||
	    (e->type = strdup(type)) == NULL ||
	    (e->name = strdup(name)) == NULL)
		fatal("strdup");
	e->cost = sizeof(*e) + e->len + strlen(source) + strlen(type) +
	    strlen(name);
	ring_bytes += e->cost;
	subs_offer(e);
	events_tap(source, name, type, payload, len);
}

void
evb_begin(struct evb *b, int npairs)
{
	msgpack_sbuffer_init(&b->sb);
	msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
	msgpack_pack_map(&b->pk, (size_t)npairs);
}

void
evb_emit(struct evb *b, const char *source, const char *name,
    const char *type)
{
	event_emit_raw(source, name, type, b->sb.data, b->sb.size);
	msgpack_sbuffer_destroy(&b->sb);
}

/* A domain that watches events as they come (send --stream). */
void
events_add_tap(event_tap_fn fn)
{
	size_t i;

	for (i = 0; i < TAPS_MAX; i++)
		if (taps[i] == NULL) {
			taps[i] = fn;
			return;
		}
	fatalx("events_add_tap: more than %d taps", TAPS_MAX);
}

void
event_simple(const char *source, const char *name, const char *type)
{
	event_emit_raw(source, name, type, NULL, 0);
}

/* The replay reached the newest event: go live, or answer and finish. */
static void
sub_caught_up(struct sub *s)
{
	struct client *cl = s->client;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (s->follow) {
		s->live = 1;
		return;
	}
	sub_free(s);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kint(&pk, "last_seq", (int64_t)events_last_seq());
	cops->reply_ok(cops->id(cl), sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

/* Replay from the cursor until the client's queue holds a batch. */
static void
sub_pump(struct sub *s)
{
	struct client *cl = s->client;
	struct event_rec *e;
	uint64_t oldest = oldest_seq();

	while (!s->live) {
		if (s->cursor + 1 < oldest) {
			sub_lagged(s, s->cursor + 1);
			return;
		}
		if (s->cursor + 1 >= next_seq) {
			sub_caught_up(s);
			return;
		}
		if (cops->queued(cl) >= PUMP_BATCH)
			return;		/* more when it drains */
		e = &ring[(ring_head + (size_t)(s->cursor + 1 - oldest)) %
		    ring_cap];
		s->cursor = e->seq;
		if (sub_wants(s, e) && send_item(cl, e->packed, e->len) == -1) {
			cops->drop(cl, "event reader gone");
			return;
		}
	}
}

/*
 * The cursor that leaves the last `last` events the reader wants (of
 * those after `from`) to replay: walk back from the newest.
 */
static uint64_t
cursor_for_last(const struct sub *s, uint64_t from, int64_t last)
{
	const struct event_rec *e;
	size_t i;
	int64_t k = 0;

	if (last == 0)
		return next_seq - 1 > from ? next_seq - 1 : from;
	for (i = ring_n; i > 0; i--) {
		e = &ring[(ring_head + i - 1) % ring_cap];
		if (e->seq <= from)
			break;
		if (sub_wants(s, e) && ++k == last)
			return e->seq - 1;
	}
	return from;		/* fewer than `last`: all of them */
}

/*
 * events [--since SEQ] [-n N] [--follow]: replay what the ring holds
 * after `since` (after a gap item when --since reaches further back than
 * the ring), or only the last N of those that match, a batch at a time,
 * then follow or answer {last_seq}.
 */
void
events_start(struct client *cl, uint64_t since, int since_given,
    const struct event_filter *f, int64_t last, int follow)
{
	uint64_t oldest = oldest_seq();
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct sub *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("calloc");
	s->client = cl;
	if ((f->source != NULL && (s->source = strdup(f->source)) == NULL) ||
	    (f->type != NULL && (s->type = strdup(f->type)) == NULL) ||
	    (f->name != NULL && (s->name = strdup(f->name)) == NULL))
		fatal("strdup");
	s->cursor = since + 1 < oldest ? oldest - 1 : since;
	if (last >= 0)
		s->cursor = cursor_for_last(s, s->cursor, last);
	s->follow = follow;
	/* the replay reaches back past what the ring still holds */
	if (since_given && since + 1 < oldest && s->cursor + 1 == oldest) {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 1);
		mp_str(&pk, "gap");
		msgpack_pack_map(&pk, 2);
		mp_kint(&pk, "from_seq", (int64_t)since + 1);
		mp_kint(&pk, "to_seq", (int64_t)oldest - 1);
		(void)send_item(cl, sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
	}
	TAILQ_INSERT_TAIL(&subs, s, entry);
	cops->watch_drain(cl, PUMP_LOWAT);
	sub_pump(s);
}

/* Reach followers through ops (the control socket's). */
void
events_set_client_ops(const struct event_client_ops *ops)
{
	cops = ops;
}

/* The client's queue drained: go on with its replay, if any. */
void
events_pump(struct client *cl)
{
	struct sub *s;

	TAILQ_FOREACH(s, &subs, entry)
		if (s->client == cl) {
			if (!s->live)
				sub_pump(s);
			return;
		}
}

void
events_unsubscribe(struct client *cl)
{
	struct sub *s, *t;

	TAILQ_FOREACH_SAFE(s, &subs, entry, t)
		if (s->client == cl)
			sub_free(s);
}

/* Record a state change, and emit it as an event too. */
void
transition_record(struct child *c, int from, int to)
{
	struct trans_rec *r;
	struct evb b;

	if (trans_n == TRANS_CAP) {
		free(trans[trans_head].name);
		trans_head = (trans_head + 1) % TRANS_CAP;
		trans_n--;
	}
	r = &trans[(trans_head + trans_n) % TRANS_CAP];
	trans_n++;
	if ((r->name = strdup(c->name)) == NULL)
		fatal("strdup");
	r->from = from;
	r->to = to;
	r->attempt = c->spawned;
	r->at_ms = wall_ms();
	evb_begin(&b, 4);
	mp_kstr_or_nil(&b.pk, "from", from < 0 ? NULL : cstate_names[from]);
	mp_kstr(&b.pk, "to", cstate_names[to]);
	mp_kint(&b.pk, "attempt", c->spawned);
	mp_kint(&b.pk, "pid", c->pid);
	evb_emit(&b, "supervisor", c->name, "child.transition");
}

/* Pack the transition log, or one child's part of it, as an array. */
int
transitions_pack(msgpack_packer *pk, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < trans_n; i++)
		if (name == NULL ||
		    strcmp(trans[(trans_head + i) % TRANS_CAP].name, name) == 0)
			n++;
	msgpack_pack_array(pk, n);
	for (i = 0; i < trans_n; i++) {
		struct trans_rec *r = &trans[(trans_head + i) % TRANS_CAP];

		if (name != NULL && strcmp(r->name, name) != 0)
			continue;
		msgpack_pack_map(pk, 5);
		mp_kstr(pk, "name", r->name);
		mp_kstr_or_nil(pk, "from", r->from < 0 ? NULL :
		    cstate_names[r->from]);
		mp_kstr(pk, "to", cstate_names[r->to]);
		mp_kint(pk, "attempt", r->attempt);
		mp_kint(pk, "at_ms", (int64_t)r->at_ms);
	}
	return 0;
}
