/*
 * store_pg_load.c: the PostgreSQL store's load at start.
 *
 * Before the loop runs, on the connection made at open (blocking): the
 * finished inputs past the retention limits are deleted in one
 * transaction; then, from one snapshot (REPEATABLE READ, read only), the
 * peer graph, delivery records and claims are handed to their domains.
 * Then the connection goes into the loop.  A member's own data (its
 * pending and finished inputs, conversation, usage) is read when this
 * node takes the member's lease (cluster.c), not here: the database may
 * be shared by several nodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_pg.h"
#include "timeutil.h"

/* A value of a row, NULL when NULL. */
static const char *
val(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* A number of a row, 0 when NULL. */
static int64_t
num(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 :
	    strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* A query at load; NULL (said) when it fails. */
static PGresult *
query(const char *sql, int n, const char *const *v, const char *what)
{
	PGresult *res;
	const char *msg;

	res = PQexecParams(pg_io.conn, sql, n, NULL, v, NULL, NULL, 0);
	if (res != NULL && (PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_COMMAND_OK))
		return res;
	msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) :
	    NULL;
	log_warnx("store: %s: %s: %s", pg_desc, what, msg != NULL ? msg :
	    PQerrorMessage(pg_io.conn));
	PQclear(res);
	return NULL;
}

/* A statement at load whose result is not needed; -1 (said). */
static int
command(const char *sql, int n, const char *const *v, const char *what)
{
	PGresult *res;

	if ((res = query(sql, n, v, what)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Forget the finished inputs past the retention limits. */
static int
keep_limits(void)
{
	char cut[24], max[24];
	const char *v[1];
	int64_t ms;
	int n;

	store_retention(&n, &ms);
	snprintf(cut, sizeof(cut), "%lld", ms >= 0 ?
	    (long long)((int64_t)wall_ms() - ms) : (long long)INT64_MIN);
	snprintf(max, sizeof(max), "%d", n);
	if (command("BEGIN", 0, NULL, "forgetting old inputs") == -1)
		return -1;
	v[0] = cut;
	if (command("DELETE FROM mobkit.inputs WHERE fin IS NOT NULL AND fin "
	    "< $1", 1, v, "forgetting old inputs") == -1)
		goto fail;
	v[0] = max;
	if (command("DELETE FROM mobkit.inputs WHERE id IN (SELECT id FROM "
	    "(SELECT id, row_number() OVER (PARTITION BY member ORDER BY fin "
	    "DESC, seq DESC) AS n FROM mobkit.inputs WHERE fin IS NOT NULL) t "
	    "WHERE n > $1)", 1, v, "forgetting old inputs") == -1)
		goto fail;
	return command("COMMIT", 0, NULL, "forgetting old inputs");
fail:
	PQclear(PQexec(pg_io.conn, "ROLLBACK"));
	return -1;
}

/* The peer graph, the delivery records and the claims. */
static int
load_rest(void)
{
	PGresult *res;
	unsigned char *rec;
	size_t len;
	int i;

	if ((res = query("SELECT a, b FROM mobkit.peers", 0, NULL,
	    "reading the peers")) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++)
		store_loaded_peer(val(res, i, 0), val(res, i, 1));
	PQclear(res);
	if ((res = query("SELECT record FROM mobkit.deliveries ORDER BY ord",
	    0, NULL, "reading the deliveries")) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		if ((rec = PQunescapeBytea((const unsigned char *)PQgetvalue(
		    res, i, 0), &len)) == NULL)
			fatal("PQunescapeBytea");
		store_loaded_delivery(rec, len);
		PQfreemem(rec);
	}
	PQclear(res);
	if ((res = query("SELECT schedule, due_ms FROM mobkit.claims ORDER BY "
	    "schedule, due_ms", 0, NULL, "reading the claims")) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++)
		store_loaded_claim(val(res, i, 0), num(res, i, 1));
	PQclear(res);
	return 0;
}

/* Load everything kept, then write from the loop. */
int
pg_load(void)
{
	if (pg_io.conn == NULL)
		return 0;
	if (keep_limits() == -1 || command("BEGIN ISOLATION LEVEL REPEATABLE "
	    "READ READ ONLY", 0, NULL, "reading the store") == -1)
		return -1;
	if (load_rest() == -1) {
		PQclear(PQexec(pg_io.conn, "ROLLBACK"));
		return -1;
	}
	if (command("COMMIT", 0, NULL, "reading the store") == -1)
		return -1;
	pg_start();
	return 0;
}
