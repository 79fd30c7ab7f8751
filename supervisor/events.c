/*
 * events.c: the event stream and the transition log, both bounded rings,
 * and the --follow subscribers.  A subscriber that cannot keep up is
 * dropped; it never blocks the daemon.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mobkitd.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"

#define TRANS_CAP	8192
#define SUB_HWM		(1024 * 1024)	/* a follower this far behind is dropped */

struct event_rec {
	uint64_t	 seq;
	char		*source;
	char		*type;
	char		*packed;	/* the whole event object */
	size_t		 len;
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
};

static struct event_rec	*ring;
static size_t		 ring_cap, ring_n, ring_head;	/* head: oldest */
static uint64_t		 next_seq = 1, last_ts;
static char		 boot_id[24];
static struct trans_rec	 trans[TRANS_CAP];
static size_t		 trans_n, trans_head;
static TAILQ_HEAD(, sub) subs = TAILQ_HEAD_INITIALIZER(subs);

void
events_init(size_t cap)
{
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

/* Send one packed event to a client as a stream item. */
static int
send_event(struct client *cl, const struct event_rec *e)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int r;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kint(&pk, "t", MSG_CTL_STREAM);
	mp_str(&pk, "item");
	msgpack_sbuffer_write(&sb, e->packed, e->len);
	r = client_send(cl, &sb);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

/* Append an event to the ring and hand it to the subscribers. */
void
event_emit_raw(const char *source, const char *name, const char *type,
    const char *payload, size_t len)
{
	struct event_rec *e;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char id[64];
	uint64_t ts = wall_ms();
	struct sub *s, *t;

	if (ts < last_ts)
		ts = last_ts;	/* never backwards */
	last_ts = ts;
	if (ring_n == ring_cap) {
		e = &ring[ring_head];
		free(e->source);
		free(e->type);
		free(e->packed);
		ring_head = (ring_head + 1) % ring_cap;
		ring_n--;
	}
	e = &ring[(ring_head + ring_n) % ring_cap];
	ring_n++;
	e->seq = next_seq++;
	snprintf(id, sizeof(id), "%s-%llu", boot_id, (unsigned long long)e->seq);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 7);
	mp_kint(&pk, "seq", (int64_t)e->seq);
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
	e->packed = sb.data;
	e->len = sb.size;
	if ((e->source = strdup(source)) == NULL ||
	    (e->type = strdup(type)) == NULL)
		fatal("strdup");
	TAILQ_FOREACH_SAFE(s, &subs, entry, t) {
		if (!matches(s->source, e->source) || !matches(s->type, e->type))
			continue;
		if (client_queued(s->client) > SUB_HWM ||
		    send_event(s->client, e) == -1) {
			log_warnx("dropping an event follower %zu bytes behind",
			    client_queued(s->client));
			client_drop(s->client, "event subscriber too slow");
		}
	}
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

void
event_simple(const char *source, const char *name, const char *type)
{
	event_emit_raw(source, name, type, NULL, 0);
}

/* Replay what the ring holds after `since` to a client. */
void
events_replay(struct client *cl, uint64_t since, const char *source,
    const char *type)
{
	size_t i;

	for (i = 0; i < ring_n; i++) {
		struct event_rec *e = &ring[(ring_head + i) % ring_cap];

		if (e->seq <= since || !matches(source, e->source) ||
		    !matches(type, e->type))
			continue;
		if (send_event(cl, e) == -1) {
			client_drop(cl, "event reader too slow");
			return;
		}
	}
}

void
events_subscribe(struct client *cl, const char *source, const char *type)
{
	struct sub *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("calloc");
	s->client = cl;
	s->source = source ? strdup(source) : NULL;
	s->type = type ? strdup(type) : NULL;
	TAILQ_INSERT_TAIL(&subs, s, entry);
}

void
events_unsubscribe(struct client *cl)
{
	struct sub *s, *t;

	TAILQ_FOREACH_SAFE(s, &subs, entry, t) {
		if (s->client != cl)
			continue;
		TAILQ_REMOVE(&subs, s, entry);
		free(s->source);
		free(s->type);
		free(s);
	}
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
