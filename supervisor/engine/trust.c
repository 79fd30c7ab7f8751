/*
 * trust.c: trust by origin.  A child is known by its socket, never by what
 * its messages claim.  The table below says which kind of child may send
 * which message type; trust_check() applies it to every message from a
 * child before anything acts on it.  The well-known modules are known by
 * their configured names, as everywhere in mobkitd: "router", "delivery"
 * and "scheduler".  A type its sender may not send is a protocol
 * violation: the child is killed (its policy restarts it) and the event
 * protocol.violation names it and the type.
 */
#include <signal.h>
#include <string.h>

#include "log.h"
#include "engine/events.h"
#include "engine/internal.h"
#include "mpack.h"
#include "proto.h"

enum {
	R_MEMBER = 1 << 0,	/* a mob member (mobkit-worker) */
	R_MODULE = 1 << 1,	/* any module */
	R_ROUTER = 1 << 2,
	R_DELIVERY = 1 << 3,
	R_SCHEDULER = 1 << 4,
};
#define R_ANY	(R_MEMBER | R_MODULE)

static const struct {
	int	type;
	int	senders;
} trust[] = {
	{ MSG_HELLO, R_ANY },
	{ MSG_READY, R_ANY },
	{ MSG_HEARTBEAT, R_ANY },
	{ MSG_EVENT, R_ANY },
	{ MSG_PONG, R_ANY },
	{ MSG_RUN_DONE, R_MEMBER },
	{ MSG_TOOL_SEND, R_MEMBER },
	{ MSG_MOD_RESULT, R_MODULE },	/* matched to a call to that module */
	{ MSG_FIRE, R_SCHEDULER },
	{ MSG_ATTEMPT, R_DELIVERY },
	/* every other type goes from the root to a child, never back */
};

static const struct {
	const char	*name;
	int		 role;
} well_known[] = {
	{ "router", R_ROUTER },
	{ "delivery", R_DELIVERY },
	{ "scheduler", R_SCHEDULER },
};

/* What a child is, as a set of R_* bits. */
static int
roles_of(const struct child *c)
{
	size_t i;

	if (c->conf->kind == KIND_MEMBER)
		return R_MEMBER;
	for (i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++)
		if (strcmp(c->name, well_known[i].name) == 0)
			return R_MODULE | well_known[i].role;
	return R_MODULE;
}

/* The role of a child, for logs and events. */
const char *
child_role(const struct child *c)
{
	size_t i;

	if (c->conf->kind == KIND_MEMBER)
		return "member";
	for (i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++)
		if (strcmp(c->name, well_known[i].name) == 0)
			return well_known[i].name;
	return "module";
}

/* May this child send this type? */
static int
may_send(const struct child *c, int64_t type)
{
	size_t i;

	for (i = 0; i < sizeof(trust) / sizeof(trust[0]); i++)
		if (trust[i].type == type)
			return (trust[i].senders & roles_of(c)) != 0;
	return 0;
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
