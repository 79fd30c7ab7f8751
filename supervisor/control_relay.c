/*
 * control_relay.c: the gateway's requests.  The child named "gateway"
 * sends CTL_REQUEST on its fd 3 with a "rid"; each becomes a client of
 * its own (relay), whose output goes to the
 * gateway's socket with the rid added.  A relay client ends with its
 * reply (or a reply ok=false saying why it was dropped); at most
 * RELAY_MAX are in flight.  A follower's backlog is the gateway socket's,
 * capped in events.c as for any client.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/kind.h"
#include "client.h"
#include "control_int.h"
#include "verbs.h"

#define RELAY_MAX	8192

/* The gateway's socket, if the gateway this client came from is up. */
struct peer *
relay_peer(struct client *cl)
{
	struct child *c = child_find("gateway");

	if (c == NULL || c->peer == NULL || c->pid != cl->relay_pid)
		return NULL;
	return c->peer;
}

/* The map in sb, with "rid" added in front of its keys, to the gateway. */
int
relay_send(struct client *cl, msgpack_sbuffer *sb)
{
	const unsigned char *d = (const unsigned char *)sb->data;
	msgpack_sbuffer out;
	msgpack_packer pk;
	struct peer *p;
	size_t n, skip;
	int r;

	if ((p = relay_peer(cl)) == NULL) {
		errno = EPIPE;
		return -1;
	}
	if (sb->size >= 1 && (d[0] & 0xf0) == 0x80) {
		n = d[0] & 0x0f;
		skip = 1;
	} else if (sb->size >= 3 && d[0] == 0xde) {
		n = ((size_t)d[1] << 8) | d[2];
		skip = 3;
	} else if (sb->size >= 5 && d[0] == 0xdf) {
		n = ((size_t)d[1] << 24) | ((size_t)d[2] << 16) |
		    ((size_t)d[3] << 8) | d[4];
		skip = 5;
	} else {
		errno = EINVAL;
		return -1;
	}
	msgpack_sbuffer_init(&out);
	msgpack_packer_init(&pk, &out, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n + 1);
	mp_kint(&pk, "rid", (int64_t)cl->rid);
	msgpack_sbuffer_write(&out, sb->data + skip, sb->size - skip);
	r = peer_send_flags(p, out.data, out.size, PEER_FORCE);
	msgpack_sbuffer_destroy(&out);
	return r;
}

/* Tell the gateway this request is over (unless it was answered). */
void
relay_end(struct client *cl, const char *why)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (cl->dead)
		return;
	events_unsubscribe(cl);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kint(&pk, "t", MSG_CTL_REPLY);
	mp_kbool(&pk, "ok", 0);
	mp_kstr(&pk, "error", why);
	(void)relay_send(cl, &sb);
	msgpack_sbuffer_destroy(&sb);
	cl->dead = 1;
}

/* The relay client of a gateway request, or NULL. */
static struct client *
relay_find(const struct child *c, uint64_t rid)
{
	struct client *cl;

	TAILQ_FOREACH(cl, &clients, entry)
		if (cl->relay && !cl->dead && cl->rid == rid &&
		    cl->relay_pid == c->pid)
			return cl;
	return NULL;
}

/* How many of the gateway's requests are in flight. */
static int
relay_count(void)
{
	struct client *cl;
	int n = 0;

	TAILQ_FOREACH(cl, &clients, entry)
		if (cl->relay && !cl->dead)
			n++;
	return n;
}

/* The gateway's socket drained: go on with the replays waiting for it. */
static void
relay_drained(struct peer *p, void *arg)
{
	struct client *cl;

	(void)p;
	(void)arg;
	TAILQ_FOREACH(cl, &clients, entry)
		if (cl->relay && !cl->dead && cl->want_drain)
			events_pump(cl);
}

/* A refusal of one gateway request, by rid. */
static void
relay_refuse(struct child *c, uint64_t rid, const char *msg)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	mp_kint(&pk, "t", MSG_CTL_REPLY);
	mp_kint(&pk, "rid", (int64_t)rid);
	mp_kbool(&pk, "ok", 0);
	mp_kstr(&pk, "error", msg);
	(void)peer_send_flags(c->peer, sb.data, sb.size, PEER_FORCE);
	msgpack_sbuffer_destroy(&sb);
}

/* A new relay client for the gateway's request rid. */
static struct client *
relay_new(struct child *c, uint64_t rid)
{
	struct client *cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		fatal("calloc");
	cl->id = next_client_id++;
	cl->relay = 1;
	cl->rid = rid;
	cl->relay_pid = c->pid;
	cl->versioned = 1;
	cl->uid = geteuid();
	TAILQ_INSERT_TAIL(&clients, cl, entry);
	peer_set_drain(c->peer, relay_drained, 64 * 1024);
	return cl;
}

/*
 * CTL_REQUEST {rid, version, verb, args} or CTL_CANCEL {rid} from the
 * gateway.  A bad request is refused by its rid (the gateway lives on);
 * a message without a rid is a broken gateway: -1.
 */
static int
relay_msg(struct child *c, const msgpack_object *m)
{
	const struct ctl_verb *v;
	struct client *cl;
	struct ctl_req req;
	union ctl_args a;
	ctl_verb_fn fn;
	int64_t t, rid;
	char why[300];

	if (mp_get_int(m, "t", &t) == -1 || mp_get_int(m, "rid", &rid) == -1)
		return -1;
	if (t == MSG_CTL_CANCEL) {
		if ((cl = relay_find(c, (uint64_t)rid)) != NULL) {
			events_unsubscribe(cl);
			cl->dead = 1;
		}
		return 0;
	}
	if (t != MSG_CTL_REQUEST)
		return -1;
	if (ctl_req_parse(m, &req, why, sizeof(why)) == -1) {
		relay_refuse(c, (uint64_t)rid, "bad request");
		return 0;
	}
	if (relay_find(c, (uint64_t)rid) != NULL) {
		relay_refuse(c, (uint64_t)rid, "bad request: rid in use");
		return 0;
	}
	if (relay_count() >= RELAY_MAX) {
		relay_refuse(c, (uint64_t)rid, "busy: too many requests in "
		    "flight from the gateway");
		return 0;
	}
	if ((v = ctl_verb_find(req.verb)) == NULL ||
	    (fn = ctl_handler_find(req.verb)) == NULL) {
		snprintf(why, sizeof(why), "bad request: unknown verb \"%s\"",
		    req.verb);
		relay_refuse(c, (uint64_t)rid, why);
		return 0;
	}
	if (ctl_args_decode(v, req.args, &a, why + 13, sizeof(why) - 13) ==
	    -1) {
		memcpy(why, "bad request: ", 13);
		relay_refuse(c, (uint64_t)rid, why);
		return 0;
	}
	cl = relay_new(c, (uint64_t)rid);
	client_run(cl, v, fn, &a);
	ctl_args_free(v, &a);
	return 0;
}

/* Only the child named gateway may send control requests on its fd 3. */
static void __attribute__((constructor))
relay_register(void)
{
	msg_register_raw(MSG_CTL_REQUEST, MSG_CTL_REQUEST, relay_msg,
	    "malformed control request", (struct msg_sender){ KIND_MODULE,
	    "gateway" });
	msg_register_raw(MSG_CTL_CANCEL, MSG_CTL_CANCEL, relay_msg,
	    "malformed control cancel", (struct msg_sender){ KIND_MODULE,
	    "gateway" });
}
