/*
 * stream.c: send --stream.  A client that sent an input with --stream
 * waits for its result like send --wait (members.c); meanwhile each
 * text_delta event of that input (the member's agent events, watched
 * through an event tap) is queued to it as a stream item {"delta":..}.
 *
 * Invariants: a client gets only its own input's deltas; what it may owe
 * is bounded like a follower's (client_buffer_bytes): past that it gets
 * no more deltas (the result, which holds the whole text, still comes);
 * a streamer goes once its client is gone or its input is finished.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "client.h"
#include "mob/mailbox.h"
#include "mob/stream.h"

struct streamer {
	TAILQ_ENTRY(streamer)	 entry;
	uint64_t		 cid;
	char			 input[INPUT_ID_MAX];
	int			 lagged;
};

static TAILQ_HEAD(, streamer) streamers = TAILQ_HEAD_INITIALIZER(streamers);

/* Forget streamers whose client left or whose input is finished. */
static void
stream_sweep(void)
{
	struct streamer *s, *t;
	struct input *in;

	TAILQ_FOREACH_SAFE(s, &streamers, entry, t) {
		in = input_find(s->input);
		if (client_by_id(s->cid) != NULL && in != NULL &&
		    !input_terminal(in))
			continue;
		TAILQ_REMOVE(&streamers, s, entry);
		free(s);
	}
}

/* Client cid wants the deltas of input input_id. */
void
stream_add(uint64_t cid, const char *input_id)
{
	struct streamer *s;

	stream_sweep();
	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("calloc");
	s->cid = cid;
	snprintf(s->input, sizeof(s->input), "%s", input_id);
	TAILQ_INSERT_TAIL(&streamers, s, entry);
}

/* Queue {t: STREAM, item: {delta}} to a streamer, within its bound. */
static void
stream_delta(struct streamer *s, const msgpack_object *delta)
{
	struct client *cl = client_by_id(s->cid);
	size_t cap = (size_t)D->cfg->client_buffer_bytes;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (cl == NULL || s->lagged)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kint(&pk, "t", MSG_CTL_STREAM);
	mp_str(&pk, "item");
	msgpack_pack_map(&pk, 1);
	mp_str(&pk, "delta");
	msgpack_pack_object(&pk, *delta);
	if (client_queued(cl) + sb.size > cap) {
		s->lagged = 1;
		log_warnx("send --stream of %s: the client is %zu bytes "
		    "behind; no more deltas, the result follows", s->input,
		    client_queued(cl));
	} else
		(void)client_send(cl, &sb);
	msgpack_sbuffer_destroy(&sb);
}

/* The event tap: a member's text_delta goes to whoever streams it. */
static void
stream_tap(const char *source, const char *name, const char *type,
    const char *payload, size_t len)
{
	const msgpack_object *id, *delta;
	struct streamer *s;
	msgpack_unpacked u;

	(void)name;
	if (TAILQ_EMPTY(&streamers) || payload == NULL ||
	    strcmp(source, "agent") != 0 || strcmp(type, "text_delta") != 0)
		return;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, payload, len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS && u.data.type == MSGPACK_OBJECT_MAP &&
	    (id = mp_find(&u.data, "input_id")) != NULL &&
	    id->type == MSGPACK_OBJECT_STR &&
	    (delta = mp_find(&u.data, "delta")) != NULL &&
	    delta->type == MSGPACK_OBJECT_STR)
		TAILQ_FOREACH(s, &streamers, entry)
			if (strlen(s->input) == id->via.str.size &&
			    memcmp(s->input, id->via.str.ptr,
			    id->via.str.size) == 0)
				stream_delta(s, delta);
	msgpack_unpacked_destroy(&u);
}

static void __attribute__((constructor))
stream_register(void)
{
	events_add_tap(stream_tap);
}
