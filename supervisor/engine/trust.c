/*
 * trust.c: trust by origin.  A child is known by its socket, never by what
 * its messages claim.  Any child may send the engine's own types (HELLO,
 * READY, HEARTBEAT, EVENT, PONG); any other type only the sender its
 * handler was registered for (a kind, and a name for the well-known
 * modules: kind.h).  trust_check() applies this to every message from a
 * child before anything acts on it.  A type its sender may not send is a
 * protocol violation: the child is killed (its policy restarts it) and the
 * event protocol.violation names it and the type.
 */
#include <signal.h>
#include <string.h>

#include "log.h"
#include "engine/events.h"
#include "engine/internal.h"
#include "mpack.h"
#include "proto.h"

/* May this child send this type?  The engine's own, any child; the
 * rest, the sender its handler was registered for (kind.h). */
static int
may_send(const struct child *c, int64_t type)
{
	switch (type) {
	case MSG_HELLO:
	case MSG_READY:
	case MSG_HEARTBEAT:
	case MSG_EVENT:
	case MSG_PONG:
		return 1;
	}
	return type == (int)type && msg_sender_ok(c, (int)type);
}

/* The role of a child, for logs and events: its kind's say, or the kind. */
const char *
child_role(const struct child *c)
{
	const struct kind_ops *k = kind_of(c);

	return k->role != NULL ? k->role(c) : kind_names[c->conf->kind];
}

/*
 * Every message from a child passes here first: 0 to go on, -1 to drop it
 * (a child being killed is not heard; a violation kills its sender).
 */
int
trust_check(struct child *c, int64_t type)
{
	const char *name;
	struct evb b;

	if (c->condemned)
		return -1;
	if (may_send(c, type))
		return 0;
	name = type == (int)type ? msg_type_name((int)type) : "unknown";
	log_warnx("%s: protocol violation: a %s may not send %s (type %lld): "
	    "killing it", c->name, child_role(c), name, (long long)type);
	evb_begin(&b, 3);
	mp_kstr(&b.pk, "type", name);
	mp_kint(&b.pk, "code", type);
	mp_kstr(&b.pk, "role", child_role(c));
	evb_emit(&b, "supervisor", c->name, "protocol.violation");
	child_condemn(c, "protocol_violation", SIGKILL);
	return -1;
}
