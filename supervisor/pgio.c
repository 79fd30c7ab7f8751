/*
 * pgio.c: a libpq connection in the root's loop (pgio.h).
 */
#include <stdio.h>

#include "log.h"
#include "pgio.h"
#include "store_backend.h"
#include "store_pg.h"

#define CONNECT_S	5.0	/* a new connection's deadline */

/* Watch the connection's socket for these events (0: not at all). */
static void
want(struct pgio *p, int events)
{
	int fd = p->conn != NULL ? PQsocket(p->conn) : -1;

	if (ev_is_active(&p->io) && events == p->io_events &&
	    fd == p->io.fd && !p->connecting)
		return;		/* (connecting, the socket may be a new one) */
	ev_io_stop(store_loop(), &p->io);
	p->io_events = events;
	if (events == 0 || fd < 0)
		return;
	ev_io_set(&p->io, fd, events);
	ev_io_start(store_loop(), &p->io);
}

void
pgio_close(struct pgio *p)
{
	want(p, 0);
	ev_timer_stop(store_loop(), &p->deadline);
	if (p->conn != NULL)
		PQfinish(p->conn);
	p->conn = NULL;
	p->ready = p->connecting = 0;
}

int
pgio_flush(struct pgio *p)
{
	switch (PQflush(p->conn)) {
	case 0:
		want(p, EV_READ);
		return 0;
	case 1:
		want(p, EV_READ | EV_WRITE);
		return 0;
	}
	return -1;
}

/* Non-blocking (and pipelined, if asked), watched for reading. */
static int
usable(struct pgio *p)
{
	if (PQsetnonblocking(p->conn, 1) == -1 ||
	    (p->pipeline && PQenterPipelineMode(p->conn) != 1)) {
		log_warnx("%s: %scannot use the connection: %s", pg_desc,
		    p->what, PQerrorMessage(p->conn));
		pgio_close(p);
		return -1;
	}
	p->ready = 1;
	want(p, EV_READ);
	return 0;
}

/* A connection under way took a step: poll it on. */
static void
connect_step(struct pgio *p)
{
	switch (PQconnectPoll(p->conn)) {
	case PGRES_POLLING_READING:
		want(p, EV_READ);
		return;
	case PGRES_POLLING_WRITING:
		want(p, EV_WRITE);
		return;
	case PGRES_POLLING_OK:
		ev_timer_stop(store_loop(), &p->deadline);
		p->connecting = 0;
		if (usable(p) == -1) {
			p->down(p);
			return;
		}
		p->up(p);
		return;
	default:
		log_debug("%s: %scannot connect: %s", pg_desc, p->what,
		    PQerrorMessage(p->conn));
		pgio_close(p);
		p->down(p);
		return;
	}
}

void
pgio_ready(struct pgio *p, int revents)
{
	if (p->connecting) {
		connect_step(p);
		return;
	}
	if ((revents & EV_WRITE) && pgio_flush(p) == -1) {
		p->lost(p);
		return;
	}
	if (revents & EV_READ) {
		if (!PQconsumeInput(p->conn)) {
			p->lost(p);
			return;
		}
		p->input(p);
	}
	if (p->conn != NULL && PQstatus(p->conn) == CONNECTION_BAD)
		p->lost(p);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	pgio_ready(w->data, revents);
}

/* A new connection took too long: given up. */
static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pgio *p = w->data;

	(void)loop;
	(void)revents;
	log_debug("%s: %sno connection within %.0f s", pg_desc, p->what,
	    CONNECT_S);
	pgio_close(p);
	p->down(p);
}

void
pgio_init(struct pgio *p)
{
	ev_init(&p->io, io_cb);
	p->io.data = p;
	ev_init(&p->deadline, deadline_cb);
	p->deadline.data = p;
	p->io_events = 0;
}

int
pgio_adopt(struct pgio *p, PGconn *c)
{
	p->conn = c;
	p->connecting = 0;
	return usable(p);
}

int
pgio_connect(struct pgio *p)
{
	if (p->conn != NULL)
		return 0;
	if ((p->conn = pg_connect(1)) == NULL)
		return -1;
	if (PQstatus(p->conn) == CONNECTION_BAD) {
		log_debug("%s: %scannot connect: %s", pg_desc, p->what,
		    PQerrorMessage(p->conn));
		pgio_close(p);
		return -1;
	}
	p->connecting = 1;
	ev_timer_set(&p->deadline, CONNECT_S, 0.);
	ev_timer_start(store_loop(), &p->deadline);
	want(p, EV_WRITE);
	return 0;
}
