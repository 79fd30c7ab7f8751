/*
 * kind.h: how the engine reaches what a child does without knowing it.
 *
 * - struct kind_ops, one per child kind (module, member), says what to do
 *   at the turns of a child's life: created, HELLO, healthy, gone, freed.
 * - A message-type range -> handler table: a message from a child that
 *   is not the engine's own (HELLO, READY, HEARTBEAT, PONG, EVENT) goes
 *   to the handler registered for its type.
 * - struct domain_ops: what a domain does at the turns of the daemon's
 *   life: a config applied, shutdown stages, and what it reports.
 *
 * Domains register at start-up, before tree_build; every hook may be NULL.
 * The engine calls them in registration order.
 */
#ifndef ENGINE_KIND_H
#define ENGINE_KIND_H

#include <msgpack.h>

#include "config.h"

struct child;
struct config;

#define KIND_COUNT	(KIND_MCP + 1)	/* enum child_kind, config.h */

struct kind_ops {
	void	 (*created)(struct child *);	/* in the table, not started */
	void	 (*hello)(struct child *);	/* HELLO: versions agree */
	void	 (*ready)(struct child *);	/* healthy */
	void	 (*gone)(struct child *);	/* its process is gone */
	void	 (*removing)(struct child *);	/* cannot be found any more */
	void	 (*freed)(struct child *);	/* about to be freed */
	/* reload: the config no longer has it; 1 if the domain takes it */
	int	 (*unlisted)(struct child *);
	void	 (*reconfigured)(struct child *, struct config *);
	/* the profile whose api_key_env it gets, or NULL */
	const char *(*profile)(struct child *);
	/* its role in logs and events (default: the kind's name) */
	const char *(*role)(const struct child *);
};

/* A message of a registered type; -1 if malformed (the child is killed). */
struct msg_view;
typedef int (*msg_handler_fn)(struct child *, int type,
	    const struct msg_view *);

struct domain_ops {
	const char *name;
	void	 (*configure)(struct config *, int reload);
	int	 (*degraded)(void);		/* daemon state "degraded" */
	int	 (*inflight)(void);		/* turns to drain at shutdown */
	void	 (*members_stopped)(void);	/* shutdown: members are down */
	void	 (*shutdown_complete)(void);	/* the report is due */
};

void	 kind_register(int kind, const struct kind_ops *);
/* Who may send a registered type: children of kind, only the one named
 * name if not NULL.  Anyone else sending it violates the protocol. */
struct msg_sender {
	int		 kind;
	const char	*name;
};

void	 msg_register(int lo, int hi, msg_handler_fn, const char *bad,
	    struct msg_sender);
void	 domain_register(const struct domain_ops *);

/* Types with no table (the control types from the gateway): the handler
 * gets the raw map, once the sender is trusted and said HELLO. */
typedef int (*msg_raw_fn)(struct child *, const msgpack_object *);
void	 msg_register_raw(int lo, int hi, msg_raw_fn, const char *bad,
	    struct msg_sender);

#endif
