/*
 * pgio.h: a libpq connection in the root's loop, never waited on.
 *
 * The store's connection (store_pg_conn.c, pipelined) and the cluster's
 * (pgq.c, one statement at a time) share this part: one ev_io on the
 * connection's socket, its flushing, and new connections made with
 * PQconnectStart/PQconnectPoll within a deadline.  What is sent, and
 * what the results mean, is their own: pgio tells them through the
 * callbacks.
 */
#ifndef PGIO_H
#define PGIO_H

#include <ev.h>
#include <libpq-fe.h>

struct pgio {
	PGconn		*conn;
	int		 ready;		/* connected (in pipeline mode if asked) */
	int		 connecting;	/* PQconnectPoll under way */
	int		 pipeline;	/* enter pipeline mode once connected */
	const char	*what;		/* "" or "cluster connection: " for logs */
	ev_io		 io;
	int		 io_events;
	ev_timer	 deadline;
	/* a new connection is up */
	void		(*up)(struct pgio *);
	/* a new connection could not be made (it is closed) */
	void		(*down)(struct pgio *);
	/* the connection broke (conn still open: its error message) */
	void		(*lost)(struct pgio *);
	/* input was read: results (or notifications) to take */
	void		(*input)(struct pgio *);
};

void	 pgio_init(struct pgio *);
/* A connection made blocking (at start) goes into the loop; -1 when it
 * cannot be made non-blocking (or pipelined): then it is closed. */
int	 pgio_adopt(struct pgio *, PGconn *);
/* Start a new connection unless one is up or under way; -1 when it
 * cannot even be started (then down() was not called). */
int	 pgio_connect(struct pgio *);
void	 pgio_close(struct pgio *);
/* The socket is ready (EV_READ, EV_WRITE): what the watcher does, for a
 * caller that polls it itself (at shutdown). */
void	 pgio_ready(struct pgio *, int revents);
/* Send what libpq holds, watching for writing while some is left; -1
 * when the connection broke (the caller calls its lost path). */
int	 pgio_flush(struct pgio *);

#endif
