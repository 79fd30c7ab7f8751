/*
 * pgq.c: the cluster's own connection to the database (pgq.h).
 *
 * One statement in flight, sent with PQsendQueryParams on a non-blocking
 * connection watched by one ev_io; the rest wait in a FIFO.  A lost
 * connection fails the statement in flight (its outcome is unknown: the
 * callers' statements are written so that running one twice is harmless,
 * or they read what happened before they act), keeps the others queued,
 * and a timer makes a new connection (PQconnectStart/Poll in the loop,
 * within a deadline), LISTENs again and tells the on_connect callbacks.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "log.h"
#include "pgq.h"
#include "store_pg.h"

#define CONNECT_S	5.0	/* a new connection's deadline */
#define RETRY_FIRST_S	0.1	/* after a loss, doubled up to */
#define RETRY_MAX_S	1.0
#define MAX_LISTEN	8
#define MAX_ONCONN	8

struct q {
	TAILQ_ENTRY(q)	 entry;
	char		*sql;
	int		 n;
	char		**v;
	pgq_cb		 cb;
	void		*arg;
};

static TAILQ_HEAD(, q)	 queue = TAILQ_HEAD_INITIALIZER(queue);
static struct q		*flight;
static PGconn		*conn;
static ev_io		 io;
static int		 io_events;
static ev_timer		 retry_timer, deadline;
static double		 retry_s = RETRY_FIRST_S;
static int		 connecting, ready, opened;
static struct {
	char		*channel;
	pgq_notify_cb	 fn;
} listens[MAX_LISTEN];
static int		 nlistens;
static void		(*onconn[MAX_ONCONN])(void);
static int		 nonconn;
static int		 relisten;	/* LISTENs to send before the queue */
static PGresult		*keep;		/* the flight's result so far */
static char		*kerr;		/* or its error */

static void	kick(void);

static struct ev_loop *
loop(void)
{
	return store_loop();
}

const char *
pgq_val(const PGresult *res, int row, int col)
{
	if (res == NULL || row >= PQntuples(res) || col >= PQnfields(res) ||
	    PQgetisnull(res, row, col))
		return "";
	return PQgetvalue(res, row, col);
}

long long
pgq_ll(const PGresult *res, int row, int col)
{
	return strtoll(pgq_val(res, row, col), NULL, 10);
}

int
pgq_ready(void)
{
	return conn != NULL && ready;
}

static void
q_free(struct q *q)
{
	int i;

	for (i = 0; i < q->n; i++)
		free(q->v[i]);
	free(q->v);
	free(q->sql);
	free(q);
}

/* Answer one statement and forget it. */
static void
q_answer(struct q *q, const PGresult *res, const char *err)
{
	if (q->cb != NULL)
		q->cb(q->arg, res, err);
	q_free(q);
}

static void
io_want(int events)
{
	int fd = conn != NULL ? PQsocket(conn) : -1;

	if (ev_is_active(&io) && events == io_events && fd == io.fd &&
	    !connecting)
		return;
	ev_io_stop(loop(), &io);
	io_events = events;
	if (events == 0 || fd < 0)
		return;
	ev_io_set(&io, fd, events);
	ev_io_start(loop(), &io);
}

static void
conn_close(void)
{
	io_want(0);
	ev_timer_stop(loop(), &deadline);
	if (conn != NULL)
		PQfinish(conn);
	conn = NULL;
	ready = connecting = 0;
	PQclear(keep);
	free(kerr);
	keep = NULL;
	kerr = NULL;
}

/* Try again later: a new connection when the timer fires. */
static void
retry_later(void)
{
	if (!opened || ev_is_active(&retry_timer))
		return;
	ev_timer_set(&retry_timer, retry_s, 0.);
	ev_timer_start(loop(), &retry_timer);
	retry_s = retry_s * 2 > RETRY_MAX_S ? RETRY_MAX_S : retry_s * 2;
}

/* The connection broke: what was in flight fails, the rest waits. */
static void
conn_lost(void)
{
	char *why;
	struct q *q;

	why = pg_error("store: connection lost: ", conn != NULL ?
	    PQerrorMessage(conn) : "closed");
	log_debug("%s: cluster connection: %s", pg_desc, why);
	conn_close();
	if ((q = flight) != NULL) {
		flight = NULL;
		q_answer(q, NULL, why);
	}
	free(why);
	retry_later();
}

static int
flush(void)
{
	switch (PQflush(conn)) {
	case 0:
		io_want(EV_READ);
		return 0;
	case 1:
		io_want(EV_READ | EV_WRITE);
		return 0;
	}
	return -1;
}

/* NOTIFYs that came with what was read. */
static void
notifies(void)
{
	PGnotify *n;
	int i;

	while (conn != NULL && (n = PQnotifies(conn)) != NULL) {
		for (i = 0; i < nlistens; i++)
			if (strcmp(listens[i].channel, n->relname) == 0)
				listens[i].fn(n->relname, n->extra);
		PQfreemem(n);
	}
}

/* The answer of the statement in flight, once it is whole. */
static void
read_results(void)
{
	PGresult *res;
	const char *msg;
	struct q *q;

	while (conn != NULL && flight != NULL && !PQisBusy(conn)) {
		if ((res = PQgetResult(conn)) == NULL) {
			q = flight;
			flight = NULL;
			if (kerr == NULL && keep == NULL &&
			    (kerr = strdup("store: no result")) == NULL)
				fatal("strdup");
			q_answer(q, kerr == NULL ? keep : NULL, kerr);
			PQclear(keep);
			free(kerr);
			keep = NULL;
			kerr = NULL;
			kick();
			continue;
		}
		switch (PQresultStatus(res)) {
		case PGRES_TUPLES_OK:
		case PGRES_COMMAND_OK:
			PQclear(keep);
			keep = res;
			break;
		default:
			if (kerr == NULL) {
				msg = PQresultErrorField(res,
				    PG_DIAG_MESSAGE_PRIMARY);
				kerr = pg_error("store: ", msg != NULL ? msg :
				    PQerrorMessage(conn));
			}
			PQclear(res);
			break;
		}
	}
	notifies();	/* (a statement not whole yet keeps keep/kerr) */
}

/* Send the next statement, when connected and none is in flight. */
static void
kick(void)
{
	struct q *q;
	char sql[256];

	if (!pgq_ready() || flight != NULL)
		return;
	if (relisten < nlistens) {
		/* channels are identifiers of ours, never user text */
		snprintf(sql, sizeof(sql), "LISTEN %s",
		    listens[relisten].channel);
		relisten++;
		if ((q = calloc(1, sizeof(*q))) == NULL ||
		    (q->sql = strdup(sql)) == NULL)
			fatal("calloc");
	} else if ((q = TAILQ_FIRST(&queue)) != NULL)
		TAILQ_REMOVE(&queue, q, entry);
	else
		return;
	if (!PQsendQueryParams(conn, q->sql, q->n, NULL,
	    (const char *const *)q->v, NULL, NULL, 0)) {
		TAILQ_INSERT_HEAD(&queue, q, entry);
		conn_lost();
		return;
	}
	flight = q;
	if (flush() == -1)
		conn_lost();
}

static void
connected(void)
{
	int i;

	ready = 1;
	retry_s = RETRY_FIRST_S;
	relisten = 0;
	io_want(EV_READ);
	for (i = 0; i < nonconn; i++)
		onconn[i]();
	kick();
}

static void
connect_step(void)
{
	switch (PQconnectPoll(conn)) {
	case PGRES_POLLING_READING:
		io_want(EV_READ);
		return;
	case PGRES_POLLING_WRITING:
		io_want(EV_WRITE);
		return;
	case PGRES_POLLING_OK:
		ev_timer_stop(loop(), &deadline);
		connecting = 0;
		if (PQsetnonblocking(conn, 1) == -1) {
			conn_close();
			retry_later();
			return;
		}
		log_info("%s: cluster connection up", pg_desc);
		connected();
		return;
	default:
		log_debug("%s: cluster connection: %s", pg_desc,
		    PQerrorMessage(conn));
		conn_close();
		retry_later();
		return;
	}
}

static void
io_cb(struct ev_loop *l, ev_io *w, int revents)
{
	(void)l;
	(void)w;
	if (connecting) {
		connect_step();
		return;
	}
	if ((revents & EV_WRITE) && flush() == -1) {
		conn_lost();
		return;
	}
	if (revents & EV_READ) {
		if (!PQconsumeInput(conn)) {
			conn_lost();
			return;
		}
		read_results();
	}
	if (conn != NULL && PQstatus(conn) == CONNECTION_BAD)
		conn_lost();
}

static void
deadline_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	log_debug("%s: cluster connection: none within %.0f s", pg_desc,
	    CONNECT_S);
	conn_close();
	retry_later();
}

static void
retry_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	if (conn != NULL || !opened)
		return;
	if ((conn = pg_connect(1)) == NULL) {
		retry_later();
		return;
	}
	if (PQstatus(conn) == CONNECTION_BAD) {
		log_debug("%s: cluster connection: %s", pg_desc,
		    PQerrorMessage(conn));
		conn_close();
		retry_later();
		return;
	}
	connecting = 1;
	ev_timer_set(&deadline, CONNECT_S, 0.);
	ev_timer_start(loop(), &deadline);
	io_want(EV_WRITE);
}

int
pgq_open(void)
{
	ev_init(&io, io_cb);
	ev_init(&retry_timer, retry_cb);
	ev_init(&deadline, deadline_cb);
	io_events = 0;
	opened = 1;
	if ((conn = pg_connect(0)) == NULL ||
	    PQstatus(conn) != CONNECTION_OK ||
	    PQsetnonblocking(conn, 1) == -1) {
		log_warnx("%s: cannot open the cluster connection: %s",
		    pg_desc, conn != NULL ? PQerrorMessage(conn) :
		    "out of memory");
		conn_close();
		opened = 0;
		return -1;
	}
	connected();
	return 0;
}

void
pgq_close(void)
{
	struct q *q;

	opened = 0;
	ev_timer_stop(loop(), &retry_timer);
	conn_close();
	if ((q = flight) != NULL) {
		flight = NULL;
		q_answer(q, NULL, "store: closed");
	}
	while ((q = TAILQ_FIRST(&queue)) != NULL) {
		TAILQ_REMOVE(&queue, q, entry);
		q_answer(q, NULL, "store: closed");
	}
}

void
pgq_query(const char *sql, int n, const char *const *v, pgq_cb cb,
    void *arg)
{
	struct q *q;
	int i;

	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->sql = strdup(sql)) == NULL ||
	    (n > 0 && (q->v = calloc(n, sizeof(*q->v))) == NULL))
		fatal("calloc");
	q->n = n;
	for (i = 0; i < n; i++)
		if (v[i] != NULL && (q->v[i] = strdup(v[i])) == NULL)
			fatal("strdup");
	q->cb = cb;
	q->arg = arg;
	if (!opened) {
		q_answer(q, NULL, "store: closed");
		return;
	}
	TAILQ_INSERT_TAIL(&queue, q, entry);
	if (conn == NULL)
		retry_later();
	kick();
}

void
pgq_listen(const char *channel, pgq_notify_cb fn)
{
	if (nlistens == MAX_LISTEN)
		fatalx("pgq: too many channels");
	if ((listens[nlistens].channel = strdup(channel)) == NULL)
		fatal("strdup");
	listens[nlistens++].fn = fn;
	kick();
}

void
pgq_on_connect(void (*fn)(void))
{
	if (nonconn == MAX_ONCONN)
		fatalx("pgq: too many callbacks");
	onconn[nonconn++] = fn;
}
