/*
 * roster.c: the members spawned and the routes added at run time, shared
 * by the nodes of a cluster (supervisor/pg/schema/004_roster.sql).
 *
 *   spawn    mobkitctl spawn on any node writes the member's row (id,
 *            profile, node) and NOTIFYs mobkit_roster; every node adds
 *            the member to its tree, where it is remote until adoption
 *            (spread by count) gives it to one of them.
 *   retire   a spawned member retired (or destroyed) on any node loses
 *            its row once it is gone there; every other node retires it
 *            too (the one running it drains its queue first, then lets
 *            its lease go).
 *   routes   route add / route rm of an added route write mobkit.routes;
 *            every node's added routes become the table's.
 *
 * A node reads both tables at start (before it joins), on each NOTIFY
 * and after each reconnection.  Writes go through pgq in order; a read
 * answered while a write of this node is in flight is not applied (it
 * may not have seen the write yet) but made again once the writes are
 * answered.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "engine/engine.h"
#include "mob/discover.h"
#include "mob/mailbox.h"
#include "mob/members.h"
#include "mob/modules.h"
#include "cluster.h"
#include "pgq.h"
#include "roster.h"
#include "store.h"
#include "store_pg.h"

#define SQL_MEMBERS	"SELECT member, profile, created_by FROM " \
			"mobkit.roster ORDER BY created_at, member"
#define SQL_ROUTES	"SELECT id, recipient, channel, sink, target, " \
			"retry_max, backoff_ms, rate_limit FROM mobkit.routes " \
			"ORDER BY added"

static int	 writes;	/* this node's writes in flight */
static int	 reading, reread;
static char	**gone;		/* retired here because the roster lost them */
static int	 ngone;

/* Was id retired here because its row went?  (then it is forgotten) */
static int
gone_take(const char *id)
{
	int i;

	for (i = 0; i < ngone; i++)
		if (strcmp(gone[i], id) == 0) {
			free(gone[i]);
			gone[i] = gone[--ngone];
			return 1;
		}
	return 0;
}

static void
gone_add(const char *id)
{
	char **v;

	(void)gone_take(id);	/* (once) */
	if ((v = reallocarray(gone, ngone + 1, sizeof(*v))) == NULL ||
	    (v[ngone] = strdup(id)) == NULL)
		fatal("reallocarray");
	gone = v;
	ngone++;
}

/* The tree's spawned members become the roster's rows. */
static void
apply_members(const PGresult *res)
{
	struct child *c;
	const char *id, *err;
	char **drop = NULL;
	int i, n = PQntuples(res), ndrop = 0;

	for (i = 0; i < n; i++) {
		id = pgq_val(res, i, 0);
		if (child_find(id) != NULL)
			continue;
		if (member_spawn(id, pgq_val(res, i, 1), 1, &err) == NULL)
			log_warnx("%s: spawned on node %s; cannot add it here: "
			    "%s", id, pgq_val(res, i, 2), err);
		else
			log_info("%s: spawned on node %s; added here", id,
			    pgq_val(res, i, 2));
	}
	TAILQ_FOREACH(c, &D->children, entry) {
		if (c->mbox == NULL || c->removing || !c->dynamic ||
		    c->mbox->retiring || discover_has(c->name))
			continue;
		for (i = 0; i < n; i++)
			if (strcmp(pgq_val(res, i, 0), c->name) == 0)
				break;
		if (i < n)
			continue;
		if ((drop = reallocarray(drop, ndrop + 1, sizeof(*drop))) ==
		    NULL)
			fatal("reallocarray");
		/* (retiring may remove a child at once: names first) */
		if ((drop[ndrop++] = strdup(c->name)) == NULL)
			fatal("strdup");
	}
	for (i = 0; i < ndrop; i++) {
		if ((c = child_find(drop[i])) != NULL && c->mbox != NULL) {
			log_info("%s: retired on another node; retired here",
			    drop[i]);
			gone_add(drop[i]);
			(void)member_retire(c);
		}
		free(drop[i]);
	}
	free(drop);
}

/* The added routes become the table's. */
static void
apply_routes(const PGresult *res)
{
	struct route_row *v;
	int i, n = PQntuples(res);

	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++) {
		v[i].id = pgq_val(res, i, 0);
		v[i].recipient = pgq_val(res, i, 1);
		v[i].channel = pgq_val(res, i, 2);
		v[i].sink = pgq_val(res, i, 3);
		v[i].target = pgq_val(res, i, 4);
		v[i].retry_max = (int)pgq_ll(res, i, 5);
		v[i].backoff_ms = pgq_ll(res, i, 6);
		v[i].rate = (int)pgq_ll(res, i, 7);
	}
	routes_set_added(v, n);
	free(v);
}

static void
members_cb(void *arg, const PGresult *res, const char *err)
{
	(void)arg;
	if (err != NULL)
		log_warnx("cluster: cannot read the roster: %s", err);
	else if (writes > 0)
		reread = 1;
	else if (!D->shutting_down)
		apply_members(res);
}

static void
routes_cb(void *arg, const PGresult *res, const char *err)
{
	(void)arg;
	reading = 0;
	if (err != NULL)
		log_warnx("cluster: cannot read the routes: %s", err);
	else if (writes > 0)
		reread = 1;
	else
		apply_routes(res);
	if (reread && writes == 0)
		roster_read();
}

void
roster_read(void)
{
	if (!cluster_enabled())
		return;
	if (reading) {
		reread = 1;
		return;
	}
	reading = 1;
	reread = 0;
	pgq_query(SQL_MEMBERS, 0, NULL, members_cb, NULL);
	pgq_query(SQL_ROUTES, 0, NULL, routes_cb, NULL);
}

static void
on_roster(const char *channel, const char *payload)
{
	(void)channel;
	(void)payload;
	roster_read();
}

static void
write_cb(void *arg, const PGresult *res, const char *err)
{
	char *what = arg;

	(void)res;
	writes--;
	if (err != NULL)
		log_warnx("cluster: %s: not shared with the other nodes: %s",
		    what, err);
	free(what);
	if (writes == 0 && reread && !reading)
		roster_read();
}

static void
db_write(const char *what, const char *sql, int n, const char *const *v)
{
	char *s;

	if ((s = strdup(what)) == NULL)
		fatal("strdup");
	writes++;
	pgq_query(sql, n, v, write_cb, s);
}

void
roster_spawned(const char *id, const char *profile)
{
	const char *v[3] = { id, profile, cluster_node_id() };
	char what[256];

	if (!cluster_enabled())
		return;
	snprintf(what, sizeof(what), "spawn %s", id);
	db_write(what, "WITH i AS (INSERT INTO mobkit.roster (member, profile, "
	    "created_by) VALUES ($1, $2, $3) ON CONFLICT (member) DO UPDATE "
	    "SET profile = excluded.profile RETURNING 1) SELECT "
	    "pg_notify('mobkit_roster', 'spawn') FROM i", 3, v);
}

void
roster_retired(const char *id)
{
	const char *v[1] = { id };
	char what[256];

	if (!cluster_enabled())
		return;
	if (gone_take(id)) {
		/* (its row went; spawned again meanwhile? read it in) */
		roster_read();
		return;
	}
	snprintf(what, sizeof(what), "retire %s", id);
	db_write(what, "WITH d AS (DELETE FROM mobkit.roster WHERE member = $1 "
	    "RETURNING 1) SELECT pg_notify('mobkit_roster', 'retire') FROM d",
	    1, v);
}

void
roster_route_added(const struct route_row *r)
{
	char retry[16], backoff[24], rate[16], what[256];
	const char *v[9] = { r->id, r->recipient, r->channel, r->sink,
	    r->target, retry, backoff, rate, cluster_node_id() };

	if (!cluster_enabled())
		return;
	snprintf(retry, sizeof(retry), "%d", r->retry_max);
	snprintf(backoff, sizeof(backoff), "%lld", (long long)r->backoff_ms);
	snprintf(rate, sizeof(rate), "%d", r->rate);
	snprintf(what, sizeof(what), "route add %s", r->id);
	db_write(what, "WITH i AS (INSERT INTO mobkit.routes (id, recipient, "
	    "channel, sink, target, retry_max, backoff_ms, rate_limit, "
	    "created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
	    "ON CONFLICT (id) DO UPDATE SET recipient = excluded.recipient, "
	    "channel = excluded.channel, sink = excluded.sink, target = "
	    "excluded.target, retry_max = excluded.retry_max, backoff_ms = "
	    "excluded.backoff_ms, rate_limit = excluded.rate_limit, "
	    "created_by = excluded.created_by RETURNING 1) SELECT "
	    "pg_notify('mobkit_roster', 'route') FROM i", 9, v);
}

void
roster_route_removed(const char *id)
{
	const char *v[1] = { id };
	char what[256];

	if (!cluster_enabled())
		return;
	snprintf(what, sizeof(what), "route rm %s", id);
	db_write(what, "WITH d AS (DELETE FROM mobkit.routes WHERE id = $1 "
	    "RETURNING 1) SELECT pg_notify('mobkit_roster', 'route') FROM d",
	    1, v);
}

/* At start, before the node joins: both tables read (blocking, as the
 * start may be), the spawned members put in the tree. */
int
roster_start(void)
{
	PGconn *c;
	PGresult *m = NULL, *r = NULL;
	int rc = -1;

	if ((c = pg_connect(0)) == NULL || PQstatus(c) != CONNECTION_OK) {
		log_warnx("cluster: cannot read the roster: %s", c != NULL ?
		    PQerrorMessage(c) : "no connection");
		goto out;
	}
	m = PQexec(c, SQL_MEMBERS);
	r = PQexec(c, SQL_ROUTES);
	if (PQresultStatus(m) != PGRES_TUPLES_OK ||
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_warnx("cluster: cannot read the roster: %s",
		    PQerrorMessage(c));
		goto out;
	}
	apply_members(m);
	apply_routes(r);
	pgq_listen("mobkit_roster", on_roster);
	pgq_on_connect(roster_read);
	rc = 0;
out:
	PQclear(m);
	PQclear(r);
	PQfinish(c);
	return rc;
}
