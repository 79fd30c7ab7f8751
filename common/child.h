/*
 * child.h: the child's side of the root protocol, for the mobkit-*
 * binaries: HELLO and READY on fd 3, STOP from the root, PING answered
 * with PONG (the watchdog), events up.
 */
#ifndef MOBKIT_CHILD_H
#define MOBKIT_CHILD_H

#include <ev.h>
#include <msgpack.h>

#include "frame.h"

struct mkchild {
	struct ev_loop	*loop;
	struct peer	*peer;
	const char	*name;
	void		(*on_stop)(void *);
	void		*arg;		/* for on_stop */
	void		*user;		/* for mkchild_serve's handler */
	/* the control types (CTL_REPLY, CTL_STREAM: no table), raw */
	int		(*raw)(const msgpack_object *, void *);
	void		*raw_arg;
	ev_signal	 sterm, sint;
};

int	mkchild_init(struct mkchild *, struct ev_loop *, const char *role,
	    void (*on_stop)(void *), void *arg);
int	mkchild_ready(struct mkchild *);
int	mkchild_event(struct mkchild *, const char *type,
	    const msgpack_sbuffer *payload);
int	mkchild_version(const char *role, int argc, char *argv[]);
/* A message from the root, checked against its table (msgtab.h). */
struct msg_view;
typedef int (*mkchild_msg_cb)(const struct msg_view *, void *arg);
int	mkchild_serve(struct mkchild *, struct ev_loop *, const char *role,
	    mkchild_msg_cb, void *arg, int ready_now);

#endif
