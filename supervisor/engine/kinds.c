/*
 * kinds.c: the tables domains fill at start-up (kind.h) and the engine
 * walks: per-kind operations, message-type ranges to handlers, and the
 * domains' hooks, called in the order they were registered.
 */
#include <stddef.h>
#include <string.h>

#include "log.h"
#include "engine/internal.h"

#define MSG_HANDLERS	16
#define DOMAINS		16

static const struct kind_ops	 no_ops;
static const struct kind_ops	*kinds[KIND_COUNT];

static struct {
	int		 lo, hi;
	msg_handler_fn	 fn;
	msg_raw_fn	 raw;
	const char	*bad;
	struct msg_sender sender;
} handlers[MSG_HANDLERS];
static int			 nhandlers;

static const struct domain_ops	*domains[DOMAINS];
static int			 ndomains;

/* The operations of one kind of child. */
void
kind_register(int kind, const struct kind_ops *ops)
{
	if (kind < 0 || kind >= KIND_COUNT)
		fatalx("kind_register: kind %d", kind);
	kinds[kind] = ops;
}

/*
 * Types lo..hi go to fn, from sender only; bad names a message fn
 * refuses, in the log.
 */
void
msg_register(int lo, int hi, msg_handler_fn fn, const char *bad,
    struct msg_sender sender)
{
	if (nhandlers == MSG_HANDLERS)
		fatalx("msg_register: too many handlers");
	handlers[nhandlers].lo = lo;
	handlers[nhandlers].hi = hi;
	handlers[nhandlers].fn = fn;
	handlers[nhandlers].bad = bad;
	handlers[nhandlers].sender = sender;
	nhandlers++;
}

/* Types lo..hi go raw (no table) to fn, from sender only. */
void
msg_register_raw(int lo, int hi, msg_raw_fn fn, const char *bad,
    struct msg_sender sender)
{
	msg_register(lo, hi, NULL, bad, sender);
	handlers[nhandlers - 1].raw = fn;
}

/* A domain's hooks; called in registration order. */
void
domain_register(const struct domain_ops *ops)
{
	if (ndomains == DOMAINS)
		fatalx("domain_register: too many domains");
	domains[ndomains++] = ops;
}

/* The operations of c's kind; an empty table when none registered. */
const struct kind_ops *
kind_of(const struct child *c)
{
	int k = c->conf->kind;

	return k >= 0 && k < KIND_COUNT && kinds[k] != NULL ? kinds[k] : &no_ops;
}

/* The handler registered for a type, or -1. */
static int
msg_find(int type)
{
	int i;

	for (i = 0; i < nhandlers; i++)
		if (type >= handlers[i].lo && type <= handlers[i].hi)
			return i;
	return -1;
}

/* May c send this registered type? */
int
msg_sender_ok(const struct child *c, int type)
{
	int i = msg_find(type);

	return i != -1 && c->conf->kind == handlers[i].sender.kind &&
	    (handlers[i].sender.name == NULL ||
	    strcmp(c->name, handlers[i].sender.name) == 0);
}

/*
 * A message of a type that is not the engine's: to its handler once the
 * child said HELLO.  -1 with *bad set when there is none, or it refuses.
 */
int
msg_dispatch(struct child *c, int type, const struct msg_view *m,
    const char **bad)
{
	int i;

	*bad = "unexpected message type";
	if ((i = msg_find(type)) == -1)
		return -1;
	*bad = handlers[i].bad;
	if (!c->hello)
		return -1;
	return handlers[i].fn(c, type, m);
}

/*
 * A type registered raw: 1, with *r 0 or -1 (*bad set) from its handler;
 * 0 when the type is not raw (msg_dispatch reads it against its table).
 */
int
msg_dispatch_raw(struct child *c, int type, const msgpack_object *m,
    const char **bad, int *r)
{
	int i;

	if ((i = msg_find(type)) == -1 || handlers[i].raw == NULL)
		return 0;
	*bad = handlers[i].bad;
	*r = c->hello ? handlers[i].raw(c, m) : -1;
	return 1;
}

/* A config is applied (at start, or reload = 1). */
void
domains_configure(struct config *cfg, int reload)
{
	int i;

	for (i = 0; i < ndomains; i++)
		if (domains[i]->configure != NULL)
			domains[i]->configure(cfg, reload);
}

/* Does any domain say the daemon is degraded? */
int
domains_degraded(void)
{
	int i;

	for (i = 0; i < ndomains; i++)
		if (domains[i]->degraded != NULL && domains[i]->degraded())
			return 1;
	return 0;
}

/* In-flight work to drain at shutdown, over every domain. */
int
domains_inflight(void)
{
	int i, n = 0;

	for (i = 0; i < ndomains; i++)
		if (domains[i]->inflight != NULL)
			n += domains[i]->inflight();
	return n;
}

/* Call the hook at offset off of struct domain_ops in every domain. */
static void
domains_notify(size_t off)
{
	void (*fn)(void);
	int i;

	for (i = 0; i < ndomains; i++) {
		memcpy(&fn, (const char *)domains[i] + off, sizeof(fn));
		if (fn != NULL)
			fn();
	}
}

/* Shutdown: every member is down. */
void
domains_members_stopped(void)
{
	domains_notify(offsetof(struct domain_ops, members_stopped));
}

/* Shutdown: complete; the report is due. */
void
domains_shutdown_complete(void)
{
	domains_notify(offsetof(struct domain_ops, shutdown_complete));
}
