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
static struct pgio	 pq;
static ev_timer		 retry_timer;
static double		 retry_s = RETRY_FIRST_S;
static int		 opened;
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
	return pq.conn != NULL && pq.ready;
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
conn_close(void)
{
	pgio_close(&pq);
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

	why = pg_error("store: connection lost: ", pq.conn != NULL ?
	    PQerrorMessage(pq.conn) : "closed");
	log_debug("%s: cluster connection: %s", pg_desc, why);
	conn_close();
	if ((q = flight) != NULL) {
		flight = NULL;
		q_answer(q, NULL, why);
	}
	free(why);
	retry_later();
}

/* NOTIFYs that came with what was read. */
static void
notifies(void)
{
	PGnotify *n;
	int i;

	while (pq.conn != NULL && (n = PQnotifies(pq.conn)) != NULL) {
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

	while (pq.conn != NULL && flight != NULL && !PQisBusy(pq.conn)) {
		if ((res = PQgetResult(pq.conn)) == NULL) {
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
				    PQerrorMessage(pq.conn));
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
	if (!PQsendQueryParams(pq.conn, q->sql, q->n, NULL,
	    (const char *const *)q->v, NULL, NULL, 0)) {
		TAILQ_INSERT_HEAD(&queue, q, entry);
		conn_lost();
		return;
	}
	flight = q;
	if (pgio_flush(&pq) == -1)
		conn_lost();
}

static void
connected(void)
{
	int i;

	retry_s = RETRY_FIRST_S;
	relisten = 0;
	for (i = 0; i < nonconn; i++)
		onconn[i]();
	kick();
}

static void
io_up(struct pgio *p)
{
	(void)p;
	log_info("%s: cluster connection up", pg_desc);
	connected();
}

static void
io_down(struct pgio *p)
{
	(void)p;
	conn_close();
	retry_later();
}

static void
io_lost(struct pgio *p)
{
	(void)p;
	conn_lost();
}

static void
io_input(struct pgio *p)
{
	(void)p;
	read_results();
}

static void
retry_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	if (pq.conn != NULL || !opened)
		return;
	if (pgio_connect(&pq) == -1)
		retry_later();
}

int
pgq_open(void)
{
	PGconn *c;

	pgio_init(&pq);
	pq.what = "cluster connection: ";
	pq.up = io_up;
	pq.down = io_down;
	pq.lost = io_lost;
	pq.input = io_input;
	ev_init(&retry_timer, retry_cb);
	opened = 1;
	if ((c = pg_connect(0)) == NULL || PQstatus(c) != CONNECTION_OK) {
		log_warnx("%s: cannot open the cluster connection: %s",
		    pg_desc, c != NULL ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		opened = 0;
		return -1;
	}
	if (pgio_adopt(&pq, c) == -1) {
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
	if (pq.conn == NULL)
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
