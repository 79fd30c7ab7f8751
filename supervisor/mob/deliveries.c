/*
 * deliveries.c: deliver = resolve (router) + send (delivery module).
 *
 * Delivery records and idempotency keys live here, so a kill -9 of
 * mobkit-delivery loses nothing: a delivery still pending when it dies is
 * handed to it again after its restart, with the attempts made so far and
 * the same key (the receiver sees an Idempotency-Key header).  A replay of
 * a key (recipient, sink, key) returns the original record and sends
 * nothing; the same key with another payload is refused.  A token bucket
 * per route and recipient refuses what exceeds rate_limit_per_minute.
 *
 * With state_dir a record is handed to the module, and a requester
 * answered, only once it is committed; a record that could not be
 * written fails its requesters with the store's reason.  Finished records
 * are remembered, with their keys, for delivery_retention_ms and at most
 * delivery_retention_max, oldest forgotten first; a finished record keeps
 * a hash of its payload, not the payload.
 *
 * In a cluster a key is taken in the database too (mobkit.delivery_key(),
 * 003_unique.sql, asked on the cluster's connection): a key another node
 * took first is answered as a replay of that node's record (as last
 * written; "pending" while it is not written yet) and nothing is sent.
 * Every node loads every record (the store's table is shared): a record
 * made by another node (its node_id) is kept for replays and listings,
 * never handed to this node's module nor deleted by this node.
 */
#include <sys/queue.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <uthash.h>

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
#include "mob/modules.h"
#include "mob/deliveries.h"
#include "mob/hash.h"
#include "store.h"
#include "verbs.h"

enum { DL_PENDING, DL_SENT, DL_FAILED };
static const char *const dl_status[] = { "pending", "sent", "failed" };

struct attempt {
	int		 n;
	char		*status;
	char		*error;
	int64_t		 at_ms;
};

struct dwaiter {
	uint64_t	 cid;
	int		 replay;
};

struct delivery {
	char		 id[48];
	char		*route_id, *route, *recipient, *channel, *sink;
	char		*target, *key, *payload, *idem;
	int		 retry_max;
	int64_t		 backoff_ms;
	int		 status;
	struct attempt	*att;
	int		 natt;
	struct dwaiter	*w;
	int		 nw;
	int		 sent_to_module;
	int		 durable;	/* committed at least once */
	int		 foreign;	/* made by another node of a cluster */
	uint64_t	 gen;		/* saves made: the last one decides */
	uint64_t	 fin_ms;	/* wall ms, finished */
	uint64_t	 phash;		/* of the payload, once finished */
	size_t		 plen;
	TAILQ_ENTRY(delivery) entry;
	TAILQ_ENTRY(delivery) fentry;	/* finished, oldest first */
	UT_hash_handle	 hh;		/* by id */
	UT_hash_handle	 hidem;		/* by (recipient, sink, key) */
};

struct bucket {
	char		*key;
	double		 tokens;
	uint64_t	 at;		/* mono ms of the last refill */
	UT_hash_handle	 hh;
};

static struct delivery	*by_id, *by_idem;
static TAILQ_HEAD(dlq, delivery) all = TAILQ_HEAD_INITIALIZER(all);
static TAILQ_HEAD(, delivery) finished = TAILQ_HEAD_INITIALIZER(finished);
static int		 nall, nfinished;
static struct bucket	*buckets;
static uint64_t		 next_delivery;
static char		 delivery_boot[24];

/* Pack the record deliver answers with. */
static void
pack_delivery(msgpack_packer *pk, const struct delivery *d, int replay)
{
	int i;

	msgpack_pack_map(pk, 10);
	mp_kstr(pk, "delivery_id", d->id);
	mp_kstr(pk, "route_id", d->route_id);
	mp_kstr_or_nil(pk, "route", d->route);
	mp_kstr(pk, "status", dl_status[d->status]);
	mp_kstr(pk, "sink", d->sink);
	mp_kstr(pk, "recipient", d->recipient);
	mp_kstr(pk, "target", d->target);
	mp_kstr_or_nil(pk, "key", d->key);
	mp_kbool(pk, "replayed", replay);
	mp_str(pk, "attempts");
	msgpack_pack_array(pk, (size_t)d->natt);
	for (i = 0; i < d->natt; i++) {
		msgpack_pack_map(pk, 4);
		mp_kint(pk, "attempt", d->att[i].n);
		mp_kstr(pk, "status", d->att[i].status);
		mp_kstr_or_nil(pk, "error", d->att[i].error);
		mp_kint(pk, "at_ms", d->att[i].at_ms);
	}
}

/* A finished record keeps what a replay needs: a hash of the payload. */
static void
compact(struct delivery *d)
{
	if (d->payload == NULL)
		return;
	d->phash = str_fnv1a(d->payload);
	d->plen = strlen(d->payload);
	free(d->payload);
	d->payload = NULL;
}

/* Is this the payload the record was made with? */
static int
same_payload(const struct delivery *d, const char *payload)
{
	if (d->payload != NULL)
		return strcmp(d->payload, payload) == 0;
	return d->plen == strlen(payload) && d->phash == str_fnv1a(payload);
}

/* Everything needed to go on after a restart, as one msgpack map. */
static void
save(const struct delivery *d)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int i;

	if (!store_enabled())
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, (d->payload != NULL ? 15 : 16) +
	    (cluster_enabled() ? 1 : 0));
	mp_kstr(&pk, "id", d->id);
	if (cluster_enabled())
		mp_kstr(&pk, "node_id", cluster_node_id());
	mp_kstr(&pk, "route_id", d->route_id);
	mp_kstr_or_nil(&pk, "route", d->route);
	mp_kstr(&pk, "recipient", d->recipient);
	mp_kstr_or_nil(&pk, "channel", d->channel);
	mp_kstr(&pk, "sink", d->sink);
	mp_kstr(&pk, "target", d->target);
	mp_kstr_or_nil(&pk, "key", d->key);
	if (d->payload != NULL)
		mp_kstr(&pk, "payload", d->payload);
	else {
		mp_kint(&pk, "payload_hash", (int64_t)d->phash);
		mp_kint(&pk, "payload_len", (int64_t)d->plen);
	}
	mp_kstr_or_nil(&pk, "idem", d->idem);
	mp_kint(&pk, "retry_max", d->retry_max);
	mp_kint(&pk, "backoff_ms", d->backoff_ms);
	mp_kint(&pk, "status", d->status);
	mp_kint(&pk, "fin_ms", (int64_t)d->fin_ms);
	mp_str(&pk, "attempts");
	msgpack_pack_array(&pk, (size_t)d->natt);
	for (i = 0; i < d->natt; i++) {
		msgpack_pack_map(&pk, 4);
		mp_kint(&pk, "attempt", d->att[i].n);
		mp_kstr(&pk, "status", d->att[i].status);
		mp_kstr_or_nil(&pk, "error", d->att[i].error);
		mp_kint(&pk, "at_ms", d->att[i].at_ms);
	}
	store_delivery(d->id, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

/* The record, to one requester. */
static void
answer(uint64_t cid, const struct delivery *d, int replay)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_delivery(&pk, d, replay);
	reply_ok_packed(cid, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

/* Free the fields of a record not (yet) in any index. */
static void
delivery_free_partial(struct delivery *d)
{
	int i;

	for (i = 0; i < d->natt; i++) {
		free(d->att[i].status);
		free(d->att[i].error);
	}
	free(d->att);
	free(d->w);
	free(d->route_id);
	free(d->route);
	free(d->recipient);
	free(d->channel);
	free(d->sink);
	free(d->target);
	free(d->key);
	free(d->payload);
	free(d->idem);
	free(d);
}

/* Out of both indexes, then freed. */
static void
delivery_free(struct delivery *d)
{
	HASH_DELETE(hh, by_id, d);
	if (d->idem != NULL)
		HASH_DELETE(hidem, by_idem, d);
	delivery_free_partial(d);
}

/* Out of memory (and off the disk, when it was written). */
static void
forget(struct delivery *d)
{
	TAILQ_REMOVE(&all, d, entry);
	nall--;
	if (d->status != DL_PENDING) {
		TAILQ_REMOVE(&finished, d, fentry);
		nfinished--;
	}
	if (d->durable && !d->foreign)
		store_delivery_forget(d->id);
	if (d->idem != NULL && cluster_enabled() && !d->foreign) {
		const char *v[1] = { d->id };

		pgq_query("DELETE FROM mobkit.delivery_keys WHERE id = $1", 1,
		    v, NULL, NULL);
	}
	delivery_free(d);
}

/* Forget finished records past the retention limits, oldest first. */
static void
keep_trim(void)
{
	int64_t since = (int64_t)wall_ms() - D->cfg->delivery_retention_ms;
	struct delivery *d, *t;

	TAILQ_FOREACH_SAFE(d, &finished, fentry, t) {
		if (nfinished <= D->cfg->delivery_retention_max &&
		    (int64_t)d->fin_ms >= since)
			break;
		if (d->nw == 0 && d->durable)	/* else: not answered yet */
			forget(d);
	}
}

/* Answer everyone waiting on a finished record. */
static void
answer_all(struct delivery *d)
{
	int i;

	for (i = 0; i < d->nw; i++)
		answer(d->w[i].cid, d, d->w[i].replay);
	free(d->w);
	d->w = NULL;
	d->nw = 0;
}

static void	persisted(void *, const char *);

struct saved {
	uint64_t	 gen;
	char		 id[48];
};

/* Write the record; what waits on it goes on once it is committed. */
static void
persist(struct delivery *d)
{
	struct saved *s;

	save(d);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("calloc");
	s->gen = ++d->gen;
	snprintf(s->id, sizeof(s->id), "%s", d->id);
	store_after_commit(persisted, s);
}

/* A record never written: its requesters hear why, it is dropped. */
static void
unsaved(struct delivery *d, const char *err)
{
	int i;

	log_warnx("delivery %s was not saved: %s", d->id, err);
	for (i = 0; i < d->nw; i++)
		reply_error(d->w[i].cid, err);
	d->nw = 0;
	forget(d);
}

static void	send_to_module(struct delivery *);

/*
 * The commit holding a save is over.  Only the last save of a record
 * acts: on success a pending record goes to the module and a finished
 * one is answered; on failure a record already on disk is written again
 * (with the retry), one never written fails its requesters.
 */
static void
persisted(void *arg, const char *err)
{
	struct saved *s = arg;
	struct delivery *d;

	HASH_FIND(hh, by_id, s->id, strlen(s->id), d);
	if (d != NULL && err == NULL)
		d->durable = 1;
	if (d == NULL || s->gen != d->gen) {
		free(s);
		return;
	}
	free(s);
	if (err != NULL) {
		if (d->durable)
			persist(d);
		else
			unsaved(d, err);
		return;
	}
	if (d->status == DL_PENDING) {
		if (strcmp(d->sink, "mob_member") != 0)
			send_to_module(d);
		return;
	}
	answer_all(d);
	keep_trim();
}

/* A delivery is done: record it, then answer everyone waiting. */
static void
finish(struct delivery *d, int status)
{
	struct evb b;

	d->status = status;
	d->fin_ms = wall_ms();
	TAILQ_INSERT_TAIL(&finished, d, fentry);
	nfinished++;
	compact(d);
	evb_begin(&b, 4);
	mp_kstr(&b.pk, "delivery_id", d->id);
	mp_kstr(&b.pk, "sink", d->sink);
	mp_kstr(&b.pk, "status", dl_status[status]);
	mp_kint(&b.pk, "attempts", d->natt);
	evb_emit(&b, "module", "delivery", status == DL_SENT ?
	    "delivery.sent" : "delivery.failed");
	persist(d);	/* answers once on disk (at once without a store) */
}

/* Record one attempt. */
static void
add_attempt(struct delivery *d, int n, const char *status, const char *err,
    int64_t at)
{
	struct attempt *na;

	if ((na = reallocarray(d->att, (size_t)d->natt + 1, sizeof(*na))) ==
	    NULL)
		fatal("reallocarray");
	d->att = na;
	na[d->natt].n = n;
	na[d->natt].status = strdup(status);
	na[d->natt].error = err ? strdup(err) : NULL;
	na[d->natt].at_ms = at;
	d->natt++;
}

/* Hand a pending delivery to the module (now, or when it is healthy). */
static void
send_to_module(struct delivery *d)
{
	struct child *c = child_find("delivery");
	struct msgw w;

	if (d->sent_to_module || d->foreign || c == NULL || c->peer == NULL ||
	    c->state != CS_HEALTHY)
		return;
	msgw_begin(&w, MSG_DELIVER);
	msgw_str(&w, K_DELIVERY_ID, d->id);
	msgw_str(&w, K_SINK, d->sink);
	msgw_str(&w, K_TARGET, d->target);
	msgw_str(&w, K_PAYLOAD, d->payload);
	msgw_str(&w, K_KEY, d->key ? d->key : d->id);
	msgw_int(&w, K_RETRY_MAX, d->retry_max);
	msgw_int(&w, K_BACKOFF_MS, d->backoff_ms);
	msgw_int(&w, K_ATTEMPTS_DONE, d->natt);
	msgw_str(&w, K_SMTP_URL, D->cfg->smtp_url);
	msgw_str(&w, K_MAIL_FROM, D->cfg->mail_from);
	if (msgw_send(&w, c->peer, 0) == 0)
		d->sent_to_module = 1;
}

/* A record as saved, decoded (NULL: unreadable, logged); fin_ms set. */
static struct delivery *
record_decode(const void *blob, size_t len)
{
	const msgpack_object *a;
	msgpack_unpacked u;
	struct delivery *d;
	const char *err;
	char *node;
	int64_t v;
	uint32_t i;

	msgpack_unpacked_init(&u);
	if (frame_decode(blob, len, &u, &err) == -1) {
		log_warnx("store: a delivery record is unreadable: %s", err);
		msgpack_unpacked_destroy(&u);
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("calloc");
	d->payload = mp_strdup(&u.data, "payload");
	if (d->payload == NULL && mp_get_int(&u.data, "payload_hash", &v) == 0)
		d->phash = (uint64_t)v;
	if (d->payload == NULL && mp_get_int(&u.data, "payload_len", &v) == 0)
		d->plen = (size_t)v;
	if (mp_copy_str(&u.data, "id", d->id, sizeof(d->id)) == -1 ||
	    (d->recipient = mp_strdup(&u.data, "recipient")) == NULL ||
	    (d->sink = mp_strdup(&u.data, "sink")) == NULL ||
	    (d->target = mp_strdup(&u.data, "target")) == NULL ||
	    (d->payload == NULL && mp_find(&u.data, "payload_hash") == NULL)) {
		log_warnx("store: a delivery record is incomplete");
		delivery_free_partial(d);
		msgpack_unpacked_destroy(&u);
		return NULL;
	}
	if ((node = mp_strdup(&u.data, "node_id")) != NULL) {
		d->foreign = strcmp(node, cluster_node_id()) != 0;
		free(node);
	}
	d->route_id = mp_strdup(&u.data, "route_id");
	d->route = mp_strdup(&u.data, "route");
	d->channel = mp_strdup(&u.data, "channel");
	d->key = mp_strdup(&u.data, "key");
	d->idem = mp_strdup(&u.data, "idem");
	d->retry_max = mp_get_int(&u.data, "retry_max", &v) == 0 ? (int)v : 1;
	d->backoff_ms = mp_get_int(&u.data, "backoff_ms", &v) == 0 ? v : 250;
	d->status = mp_get_int(&u.data, "status", &v) == 0 ? (int)v : 0;
	if ((a = mp_find(&u.data, "attempts")) != NULL &&
	    a->type == MSGPACK_OBJECT_ARRAY)
		for (i = 0; i < a->via.array.size; i++) {
			const msgpack_object *o = &a->via.array.ptr[i];
			char *st = mp_strdup(o, "status"), *er = mp_strdup(o,
			    "error");
			int64_t n = 0, at = 0;

			(void)mp_get_int(o, "attempt", &n);
			(void)mp_get_int(o, "at_ms", &at);
			add_attempt(d, (int)n, st ? st : "failed", er, at);
			free(st);
			free(er);
		}
	if (d->route_id == NULL)
		d->route_id = strdup("");
	if (d->status != DL_PENDING) {
		if (mp_get_int(&u.data, "fin_ms", &v) == 0 && v > 0)
			d->fin_ms = (uint64_t)v;
		else
			d->fin_ms = d->natt > 0 ? (uint64_t)d->att[d->natt -
			    1].at_ms : wall_ms();
	}
	msgpack_unpacked_destroy(&u);
	return d;
}

/* A record from the store (start-up): as it was, pending ones resume. */
void
delivery_restore(const void *blob, size_t len)
{
	struct delivery *d;

	if ((d = record_decode(blob, len)) == NULL)
		return;
	d->durable = 1;
	HASH_ADD(hh, by_id, id, strlen(d->id), d);
	if (d->idem != NULL)
		HASH_ADD_KEYPTR(hidem, by_idem, d->idem, strlen(d->idem), d);
	TAILQ_INSERT_TAIL(&all, d, entry);
	nall++;
	if (d->status != DL_PENDING) {
		compact(d);
		TAILQ_INSERT_TAIL(&finished, d, fentry);
		nfinished++;
		keep_trim();
	}
}

/*
 * A record the database gave this node (its node's lease ran out): it is
 * this node's from now on, and a pending one is sent from here, once
 * written again as this node's.
 */
void
delivery_adopt(const void *blob, size_t len)
{
	struct delivery *d, *r;
	char id[sizeof(r->id)];

	if ((r = record_decode(blob, len)) == NULL)
		return;
	snprintf(id, sizeof(id), "%s", r->id);
	delivery_free_partial(r);
	HASH_FIND(hh, by_id, id, strlen(id), d);
	if (d != NULL && !d->foreign)
		return;			/* this node's already */
	if (d != NULL)		/* taken again as the database has it */
		forget(d);	/* (another's: its row and key stay) */
	delivery_restore(blob, len);
	HASH_FIND(hh, by_id, id, strlen(id), d);
	if (d == NULL)
		return;
	d->foreign = 0;
	if (d->status != DL_PENDING)
		return;
	log_info("delivery %s: taken over from a node that is gone", d->id);
	persist(d);
}

/* The delivery module is healthy (again): pending deliveries go to it. */
void
deliveries_ready(struct child *c)
{
	struct delivery *d;

	if (strcmp(c->name, "delivery") != 0)
		return;
	TAILQ_FOREACH(d, &all, entry)
		if (d->status == DL_PENDING && d->durable &&
		    strcmp(d->sink, "mob_member"))
			send_to_module(d);
}

/* The delivery module is gone: pending records go again later. */
void
deliveries_gone(struct child *c)
{
	struct delivery *d;

	if (strcmp(c->name, "delivery") != 0)
		return;
	TAILQ_FOREACH(d, &all, entry)
		d->sent_to_module = 0;
}

/* ATTEMPT from the module. */
int
delivery_attempt_msg(struct child *c, const struct msg_view *m)
{
	char id[48], status[16], *err;
	struct delivery *d;
	int64_t n = msgv_int(m, K_ATTEMPT, 0), at = msgv_int(m, K_AT_MS, 0);
	int final = msgv_bool(m, K_FINAL, 0);

	(void)c;
	if (msgv_copy(m, K_DELIVERY_ID, id, sizeof(id)) == -1 ||
	    msgv_copy(m, K_STATUS, status, sizeof(status)) == -1)
		return -1;
	HASH_FIND(hh, by_id, id, strlen(id), d);
	if (d == NULL || d->status != DL_PENDING || n <= d->natt)
		return 0;	/* late, or a repeat after a restart */
	err = msgv_strdup(m, K_ERROR);
	add_attempt(d, (int)n, status, err, at);
	free(err);
	if (!final)
		persist(d);
	if (final)
		finish(d, strcmp(status, "sent") == 0 ? DL_SENT : DL_FAILED);
	return 0;
}

/* Take a token from the route's bucket for this recipient. */
static int
rate_take(const char *route, const char *recipient, int per_minute,
    int64_t *retry_ms)
{
	struct bucket *b;
	char key[600];
	uint64_t now = mono_ms();
	double rate = (double)per_minute / 60000.0;

	snprintf(key, sizeof(key), "%s\t%s", route, recipient);
	HASH_FIND_STR(buckets, key, b);
	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL ||
		    (b->key = strdup(key)) == NULL)
			fatal("calloc");
		b->tokens = per_minute;
		b->at = now;
		HASH_ADD_KEYPTR(hh, buckets, b->key, strlen(b->key), b);
	}
	b->tokens += (double)(now - b->at) * rate;
	if (b->tokens > per_minute)
		b->tokens = per_minute;
	b->at = now;
	if (b->tokens < 1.0) {
		*retry_ms = (int64_t)ceil((1.0 - b->tokens) / rate);
		return -1;
	}
	b->tokens -= 1.0;
	return 0;
}

/* A replay of a key this node holds: its record, once it is final. */
static void
replay(struct delivery *d, uint64_t cid, const char *payload)
{
	if (!same_payload(d, payload)) {
		reply_error(cid, "idempotency key reused with a different "
		    "payload");
		return;
	}
	if (d->status != DL_PENDING && d->durable)
		answer(cid, d, 1);
	else {
		if ((d->w = reallocarray(d->w, (size_t)d->nw + 1,
		    sizeof(*d->w))) == NULL)
			fatal("reallocarray");
		d->w[d->nw].cid = cid;
		d->w[d->nw++].replay = 1;
	}
}

/* A new delivery is made: written, then sent (or into a mailbox). */
static void
admit(struct delivery *d, uint64_t cid)
{
	struct input *in;
	const char *reason;

	HASH_ADD(hh, by_id, id, strlen(d->id), d);
	if (d->idem != NULL)
		HASH_ADD_KEYPTR(hidem, by_idem, d->idem, strlen(d->idem), d);
	TAILQ_INSERT_TAIL(&all, d, entry);
	nall++;
	if ((d->w = calloc(1, sizeof(*d->w))) == NULL)
		fatal("calloc");
	d->w[0].cid = cid;
	d->nw = 1;
	d->durable = !store_enabled();
	persist(d);		/* on disk before anything is sent */
	if (strcmp(d->sink, "mob_member") == 0) {
		/* into the member's mailbox, with the delivery's key; a JSON
		 * string arrives as its text */
		json_t *j = json_loads(d->payload, JSON_DECODE_ANY, NULL);
		const char *text = json_is_string(j) ? json_string_value(j) :
		    d->payload;
		int rr = mbox_accept(child_find(d->target), text,
		    d->key ? d->key : d->id, &in, &reason);

		json_decref(j);
		add_attempt(d, 1, rr == SEND_REJECTED ? "failed" : "sent",
		    rr == SEND_REJECTED ? reason : NULL, (int64_t)wall_ms());
		finish(d, rr == SEND_REJECTED ? DL_FAILED : DL_SENT);
	}
}

/* A delivery waiting for the database to say who holds its key. */
struct key_ask {
	struct delivery	*d;
	uint64_t	 cid;
};

/*
 * mobkit.delivery_key() answered: the key is this delivery's (admitted),
 * or another's: a replay of that one (here, or as the other node last
 * wrote it; "pending" with its id while not written yet), nothing sent.
 */
static void
key_cb(void *arg, const PGresult *res, const char *err)
{
	struct key_ask *k = arg;
	struct delivery *d = k->d, *h, *rec;
	const char *held;
	unsigned char *raw;
	size_t len;

	if (err != NULL || res == NULL || PQntuples(res) != 1) {
		reply_error(k->cid, err ? err : "store: the delivery key was "
		    "not answered");
		delivery_free_partial(d);
		goto out;
	}
	held = pgq_val(res, 0, 0);
	if (strcmp(held, d->id) == 0) {
		HASH_FIND(hidem, by_idem, d->idem, strlen(d->idem), h);
		if (h != NULL && h->foreign)	/* its key was forgotten */
			forget(h);
		else if (h != NULL) {	/* taken here meanwhile */
			replay(h, k->cid, d->payload);
			delivery_free_partial(d);
			goto out;
		}
		admit(d, k->cid);
		goto out;
	}
	if (strcmp(pgq_val(res, 0, 2), "t") != 0) {
		reply_error(k->cid, "idempotency key reused with a different "
		    "payload");
		delivery_free_partial(d);
		goto out;
	}
	HASH_FIND(hh, by_id, held, strlen(held), h);
	if (h != NULL && !h->foreign) {	/* another request here took it */
		replay(h, k->cid, d->payload);
		delivery_free_partial(d);
		goto out;
	}
	log_debug("delivery key %s: held by %s of node %s", d->key, held,
	    pgq_val(res, 0, 1));
	rec = NULL;
	if (!PQgetisnull(res, 0, 3) && (raw = PQunescapeBytea((const
	    unsigned char *)PQgetvalue(res, 0, 3), &len)) != NULL) {
		rec = record_decode(raw, len);
		PQfreemem(raw);
	}
	if (rec != NULL) {
		answer(k->cid, rec, 1);
		delivery_free_partial(rec);
	} else {			/* not written yet: what is known */
		snprintf(d->id, sizeof(d->id), "%s", held);
		answer(k->cid, d, 1);
	}
	delivery_free_partial(d);
out:
	free(k);
}

/* Take a delivery's key in the database first (a cluster). */
static void
key_ask(struct delivery *d, uint64_t cid)
{
	struct key_ask *k;
	char hash[24], len[24];
	const char *v[5];

	if ((k = calloc(1, sizeof(*k))) == NULL)
		fatal("calloc");
	k->d = d;
	k->cid = cid;
	snprintf(hash, sizeof(hash), "%lld",
	    (long long)(int64_t)str_fnv1a(d->payload));
	snprintf(len, sizeof(len), "%zu", strlen(d->payload));
	v[0] = d->idem;
	v[1] = d->id;
	v[2] = cluster_node_id();
	v[3] = hash;
	v[4] = len;
	pgq_query("SELECT * FROM mobkit.delivery_key($1, $2, $3, "
	    "$4::bigint, $5::bigint)", 5, v, key_cb, k);
}

struct pending_deliver {
	uint64_t	 cid;
	char		*payload;
	char		*key;
};

/* A string field of the router's answer, copied. */
static char *
str_of(const msgpack_object *m, const char *k)
{
	char *s = mp_strdup(m, k);

	return s;
}

/* The router answered: make the delivery. */
static void
resolved(void *arg, const msgpack_object *r, const char *err)
{
	struct pending_deliver *p = arg;
	struct delivery *d = NULL;
	char idem[1200], msg[256], *recipient = NULL, *sink = NULL;
	int64_t v, retry;
	int rate = 60;

	if (r == NULL) {
		reply_error(p->cid, err ? err : "resolve failed");
		goto out;
	}
	recipient = str_of(r, "recipient");
	sink = str_of(r, "sink");
	if (recipient == NULL || sink == NULL) {
		reply_error(p->cid, "the router's answer is malformed");
		goto out;
	}
	if (p->key != NULL) {
		snprintf(idem, sizeof(idem), "%s\t%s\t%s", recipient, sink,
		    p->key);
		keep_trim();
		HASH_FIND(hidem, by_idem, idem, strlen(idem), d);
		if (d != NULL && !d->foreign) {
			replay(d, p->cid, p->payload);
			goto out;
		}
		d = NULL;	/* another node's: the database says */
	}
	if (mp_get_int(r, "rate_limit_per_minute", &v) == 0)
		rate = (int)v;
	{
		char *route = str_of(r, "route");
		int64_t wait;
		int limited = rate_take(route ? route : sink, recipient, rate,
		    &wait);

		free(route);
		if (limited) {
			snprintf(msg, sizeof(msg), "rate_limited: %d per minute "
			    "to %s; try again in %lld ms", rate, recipient,
			    (long long)wait);
			reply_error(p->cid, msg);
			goto out;
		}
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("calloc");
	if (delivery_boot[0] == '\0') {
		/* unique across restarts (the monotonic clock starts again
		 * at boot) and across nodes sharing a database: the time and
		 * 32 random bits */
		uint32_t rnd = (uint32_t)getpid();

		if (getentropy(&rnd, sizeof(rnd)) == -1)
			rnd ^= (uint32_t)wall_ms();
		snprintf(delivery_boot, sizeof(delivery_boot), "%llx%08x",
		    (unsigned long long)wall_ms(), rnd);
	}
	snprintf(d->id, sizeof(d->id), "dl-%s-%llu", delivery_boot,
	    (unsigned long long)++next_delivery);
	d->route_id = str_of(r, "route_id");
	d->route = str_of(r, "route");
	d->recipient = recipient;
	d->sink = sink;
	recipient = sink = NULL;
	d->channel = str_of(r, "channel");
	d->target = str_of(r, "target");
	d->payload = p->payload;
	p->payload = NULL;
	d->key = p->key;
	p->key = NULL;
	d->retry_max = mp_get_int(r, "retry_max", &retry) == 0 ? (int)retry : 1;
	d->backoff_ms = mp_get_int(r, "backoff_ms", &v) == 0 ? v : 250;
	if (d->route_id == NULL)
		d->route_id = strdup("");
	if (d->target == NULL)
		d->target = strdup(d->recipient);
	if (d->key != NULL && (d->idem = strdup(idem)) == NULL)
		fatal("strdup");
	if (d->key != NULL && cluster_enabled())
		key_ask(d, p->cid);	/* admitted once the key is ours */
	else
		admit(d, p->cid);
out:
	free(recipient);
	free(sink);
	free(p->payload);
	free(p->key);
	free(p);
}

/* deliver RECIPIENT --payload JSON [--key KEY] [resolve options] */
static int
v_deliver(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	const struct ctl_deliver_args *da = &a->deliver;
	struct pending_deliver *p;
	msgpack_sbuffer sb;
	msgpack_packer ap;
	json_error_t jerr;
	json_t *j;

	(void)pk;
	if ((j = json_loads(da->payload, JSON_DECODE_ANY, &jerr)) == NULL)
		return ctl_fail("--payload: not JSON (%s at column %d)",
		    jerr.text, jerr.column);
	json_decref(j);
	if (da->key != NULL && *da->key == '\0')
		return ctl_fail("--key: empty");
	if (D->shutting_down)
		return ctl_fail("mobkitd is shutting down");
	if (store_failure() != NULL)
		return ctl_fail("%s", store_failure());
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&ap, &sb, msgpack_sbuffer_write);
	resolve_args_pack(&ap, da);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	p->cid = client_id(cl);
	p->payload = strdup(da->payload);
	p->key = da->key ? strdup(da->key) : NULL;
	if (module_call_cb("router", "resolve", &sb, resolved, p) == -1) {
		msgpack_sbuffer_destroy(&sb);
		free(p->payload);
		free(p->key);
		free(p);
		return -1;
	}
	msgpack_sbuffer_destroy(&sb);
	return 1;
}

/* deliveries: the records remembered, newest first. */
static int
v_deliveries(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct delivery *d;

	(void)cl;
	(void)a;
	keep_trim();
	msgpack_pack_array(pk, (size_t)nall);
	TAILQ_FOREACH_REVERSE(d, &all, dlq, entry)
		pack_delivery(pk, d, 0);
	return 0;
}

static const struct ctl_handler delivery_verbs[] = {
	{ "deliver", v_deliver },
	{ "deliveries", v_deliveries },
};
CTL_VERBS(delivery_verbs)
