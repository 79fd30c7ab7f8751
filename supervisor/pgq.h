/*
 * pgq.h: the cluster's own connection to the store's database.
 *
 * With store = postgresql://..., the store (store_pg*.c) writes through
 * one pipelined connection, one transaction at a time.  What the cluster
 * asks of the database -- leases, adoption, sends to a member another
 * node runs, unique claims and keys, LISTEN/NOTIFY -- goes through a
 * second connection of its own, so that a lease renewal never waits
 * behind a large batch:
 *
 *   - statements are queued and sent one at a time, in order, each
 *     answered to its callback exactly once: with its result (tuples or
 *     command OK), or with res NULL and err "store: <why>" (the database
 *     said no, the connection broke, or pgq_close() came first);
 *   - the connection is non-blocking, watched by the loop, never waited
 *     on (only pgq_open() at start connects blocking); after a loss it
 *     reconnects on its own with backoff, LISTENs again to every channel
 *     and tells the pgq_on_connect() callbacks;
 *   - a statement is one round trip: several steps that must be atomic go
 *     into one statement (a CTE) or one function of the schema.
 *
 * Loop thread only.  Parameters are text; the callback may queue more.
 */
#ifndef PGQ_H
#define PGQ_H

#include <libpq-fe.h>

/* res is freed by pgq after the callback returns. */
typedef void (*pgq_cb)(void *arg, const PGresult *res, const char *err);
typedef void (*pgq_notify_cb)(const char *channel, const char *payload);

int	 pgq_open(void);	/* after store_open(): 0, -1 (logged) */
void	 pgq_close(void);	/* every queued callback hears an err */
int	 pgq_ready(void);	/* connected now */

/* Queue a statement (nparams text parameters, copied). */
void	 pgq_query(const char *sql, int nparams, const char *const *params,
	    pgq_cb, void *arg);

/* LISTEN on a channel (kept across reconnections); NOTIFYs go to fn. */
void	 pgq_listen(const char *channel, pgq_notify_cb fn);

/* Told after each (re)connection, once LISTENs are renewed. */
void	 pgq_on_connect(void (*fn)(void));

/* Helpers for callbacks: the value at (row, col), "" when NULL. */
const char *pgq_val(const PGresult *, int row, int col);
long long pgq_ll(const PGresult *, int row, int col);

#endif
