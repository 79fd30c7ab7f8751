/*
 * control_int.h: what control.c (the socket and its clients) shares with
 * control_relay.c (the gateway's requests, each a client of its own), and
 * nothing else includes.
 */
#ifndef CONTROL_INT_H
#define CONTROL_INT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <ev.h>
#include <msgpack.h>
#include <stdint.h>

#include "ctlverbs.h"
#include "verbs.h"

struct client {
	TAILQ_ENTRY(client)	 entry;
	uint64_t		 id;
	struct peer		*peer;
	uid_t			 uid;
	int			 dead;
	int			 following;
	int			 busy;		/* a deferred reply is due */
	int			 wants_report;
	int			 versioned;	/* its protocol version is known */
	int			 closing;	/* dropped once its queue is out */
	int			 relay;		/* a request of the gateway's */
	uint64_t		 rid;		/* its id there */
	pid_t			 relay_pid;	/* the gateway it came from */
	int			 want_drain;	/* events_pump when it drains */
	ev_timer		 linger;
	char			 why[64];
};

TAILQ_HEAD(clientq, client);
extern struct clientq	 clients;
extern uint64_t		 next_client_id;

void	 client_run(struct client *, const struct ctl_verb *, ctl_verb_fn,
	    const union ctl_args *);

/* control_relay.c */
struct peer *relay_peer(struct client *);
int	 relay_send(struct client *, msgpack_sbuffer *);
void	 relay_end(struct client *, const char *why);

#endif
