/*
 * store_pg_conn.c: the PostgreSQL store's connection in the loop.
 *
 * After the load the connection is non-blocking and in pipeline mode,
 * watched by one ev_io on its socket: a batch is sent whole (ROLLBACK of
 * a failed transaction when there was one; the statements prepared, on a
 * new connection or after a failure, then a sync; BEGIN, its statements,
 * COMMIT, then a sync), flushed as the socket takes it, and its results
 * are read as they come; the COMMIT's answer settles it
 * (store_pg_batch.c).  A connection that breaks fails what is in flight;
 * a new one is made with PQconnectStart/PQconnectPoll on the same watcher,
 * within a deadline, when the retry timer asks for it.  Only at shutdown
 * (commit()) does this file wait, in poll(2), for an answer.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "cluster.h"
#include "store_pg.h"
#include "timeutil.h"

static int		 prepared;	/* the statements, on this connection */

/* Connected, in pipeline mode: a batch may be sent. */
int
pg_conn_ready(void)
{
	return pg_io.conn != NULL && pg_io.ready;
}

/* The connection broke: close it, fail what is in flight. */
static void
conn_lost(void)
{
	char *why;

	why = pg_error("store: connection lost: ", pg_io.conn != NULL ?
	    PQerrorMessage(pg_io.conn) : "closed");
	log_debug("%s: %s", pg_desc, why);
	pgio_close(&pg_io);
	pg_lost(why);
	free(why);
}

/* The results of the batch in flight, as far as they have come. */
static void
read_results(void)
{
	struct pg_batch *b;
	PGresult *res;
	const char *msg;
	int nulls = 0;

	while ((b = pg_flight) != NULL && pg_io.conn != NULL &&
	    !PQisBusy(pg_io.conn)) {
		if ((res = PQgetResult(pg_io.conn)) == NULL) {
			if (++nulls > 1)
				break;		/* nothing more yet */
			continue;		/* the end of one statement */
		}
		nulls = 0;
		switch (PQresultStatus(res)) {
		case PGRES_PIPELINE_SYNC:
			PQclear(res);
			if (--b->syncs > 0)
				continue;	/* the statements prepared */
			prepared = b->err == NULL;
			pg_batch_done(b);
			continue;
		case PGRES_FATAL_ERROR:
			if (b->err == NULL) {
				msg = PQresultErrorField(res,
				    PG_DIAG_MESSAGE_PRIMARY);
				b->err = pg_error("store: ", msg != NULL ? msg :
				    PQerrorMessage(pg_io.conn));
			}
			break;
		case PGRES_PIPELINE_ABORTED:
			break;
		default:
			pg_batch_result(b, b->got, res);
			if (b->got == b->commit_at &&
			    strcmp(PQcmdStatus(res), "COMMIT") == 0)
				b->committed = 1;
			break;
		}
		b->got++;
		PQclear(res);
	}
}

static void
io_up(struct pgio *p)
{
	(void)p;
	log_info("%s: connected again", pg_desc);
	pg_connected();
}

static void
io_down(struct pgio *p)
{
	(void)p;		/* (the retry timer asks again) */
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

/* Start a new connection, unless one is up or under way. */
void
pg_reconnect(void)
{
	(void)pgio_connect(&pg_io);
}

/* At shutdown: a new connection, blocking; -1 when there is none. */
int
pg_reconnect_blocking(void)
{
	PGconn *c;

	pgio_close(&pg_io);
	if ((c = pg_connect(0)) == NULL)
		return -1;
	if (PQstatus(c) != CONNECTION_OK) {
		log_warnx("%s: cannot connect at exit: %s", pg_desc,
		    PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	return pgio_adopt(&pg_io, c);
}

/* The connection made at open goes into the loop (after the load). */
void
pg_conn_start(void)
{
	pgio_init(&pg_io);
	pg_io.pipeline = 1;
	pg_io.what = "";
	pg_io.up = io_up;
	pg_io.down = io_down;
	pg_io.lost = io_lost;
	pg_io.input = io_input;
	(void)pgio_adopt(&pg_io, pg_io.conn);
}

/* Close the connection for good. */
void
pg_conn_stop(void)
{
	pgio_close(&pg_io);
}

/* --- sending a batch --------------------------------------------------- */

/*
 * The statements a batch is made of, prepared once per connection (by
 * the first batch sent on it, in a unit of its own before the
 * transaction): parsing them for each row cost the server more than
 * running them.
 */
enum { ST_INPUT, ST_FINAL, ST_APPEND, ST_CLEAR, ST_CLAIM, ST_UNCLAIM,
    ST_DELIVERY, ST_UNDELIVERY, ST_USAGE, ST_FORGET, ST_NOPEERS, ST_PEER,
    ST_SEEN, ST_ACCEPT, ST_COUNT };
static const struct {
	const char	*name;
	int		 nparams;
	const char	*sql;
} stmts[ST_COUNT] = {
	{ "mk_input", 10, "INSERT INTO mobkit.inputs (id, member, seq, key, "
	    "text, state, attempts, accepted_ms, result, error) VALUES ($1, $2, "
	    "$3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO UPDATE SET "
	    "seq = excluded.seq, state = excluded.state, attempts = excluded.attempts, result = "
	    "excluded.result, error = excluded.error WHERE mobkit.inputs.fin IS "
	    "NULL" },
	{ "mk_final", 11, "INSERT INTO mobkit.inputs (id, member, seq, key, "
	    "text, state, attempts, accepted_ms, result, error, fin) VALUES ($1, "
	    "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO "
	    "UPDATE SET seq = excluded.seq, state = excluded.state, attempts = "
	    "excluded.attempts, result = excluded.result, error = "
	    "excluded.error, fin = "
	    "excluded.fin WHERE mobkit.inputs.fin IS NULL" },
	{ "mk_append", 3, "INSERT INTO mobkit.messages (tid, member, data) "
	    "VALUES ($1, $2, $3) ON CONFLICT (tid) DO NOTHING" },
	{ "mk_clear", 1, "DELETE FROM mobkit.messages WHERE member = $1" },
	{ "mk_claim", 2, "INSERT INTO mobkit.claims (schedule, due_ms) VALUES "
	    "($1, $2) ON CONFLICT DO NOTHING" },
	{ "mk_unclaim", 2, "DELETE FROM mobkit.claims WHERE schedule = $1 AND "
	    "due_ms < $2" },
	{ "mk_delivery", 3, "INSERT INTO mobkit.deliveries (id, record, "
	    "node_id) VALUES ($1, $2::bytea, $3) ON CONFLICT (id) DO UPDATE "
	    "SET record = excluded.record, node_id = excluded.node_id, "
	    "ord = nextval('mobkit.deliveries_ord')" },
	{ "mk_undelivery", 1, "DELETE FROM mobkit.deliveries WHERE id = $1" },
	{ "mk_usage", 4, "INSERT INTO mobkit.usage (member, input_tokens, "
	    "output_tokens, turns) VALUES ($1, $2, $3, $4) ON CONFLICT (member) "
	    "DO UPDATE SET input_tokens = excluded.input_tokens, output_tokens = "
	    "excluded.output_tokens, turns = excluded.turns" },
	{ "mk_forget", 1, "DELETE FROM mobkit.inputs WHERE id = $1" },
	{ "mk_nopeers", 0, "DELETE FROM mobkit.peers" },
	{ "mk_peer", 2, "INSERT INTO mobkit.peers (a, b) VALUES ($1, $2) ON "
	    "CONFLICT DO NOTHING" },
	{ "mk_seen", 1, "UPDATE mobkit.nodes SET last_seen = now() WHERE "
	    "node_id = $1" },
	{ "mk_accept", 10, "SELECT mobkit.accept($1, $2, $3, $4, $5, "
	    "$6::smallint, $7, $8, $9, $10)" },
};

/* A statement given as text into the pipeline; -1 when refused. */
static int
put_sql(struct pg_batch *b, const char *sql, int n, const char *const *v)
{
	if (!PQsendQueryParams(pg_io.conn, sql, n, NULL, v, NULL, NULL, 0))
		return -1;
	b->sent++;
	return 0;
}

/* A prepared statement into the pipeline; -1 when libpq refuses it. */
static int
put(struct pg_batch *b, int st, const char *const *v, const int *len,
    const int *fmt)
{
	if (!PQsendQueryPrepared(pg_io.conn, stmts[st].name, stmts[st].nparams,
	    v, len, fmt, 0))
		return -1;
	b->sent++;
	return 0;
}

/* The statements prepared, in a unit (and sync) of their own. */
static int
put_prepare(struct pg_batch *b)
{
	int i;

	if (put_sql(b, "DEALLOCATE ALL", 0, NULL) == -1)
		return -1;
	for (i = 0; i < ST_COUNT; i++) {
		if (!PQsendPrepare(pg_io.conn, stmts[i].name, stmts[i].sql,
		    stmts[i].nparams, NULL))
			return -1;
		b->sent++;
	}
	if (PQpipelineSync(pg_io.conn) != 1)
		return -1;
	b->syncs++;
	return 0;
}

/* A number as text, for a parameter. */
#define NUM(buf, v)	(snprintf((buf), sizeof(buf), "%lld", (long long)(v)), \
	(buf))

/* An input's row: inserted, or updated while not finished. */
static int
put_input(struct pg_batch *b, const struct pg_row *r)
{
	char seq[24], state[24], att[24], acc[24], fin[24];
	const char *v[11];

	v[0] = r->id;
	v[1] = r->member;
	v[2] = NUM(seq, r->seq);
	v[3] = r->key;
	v[4] = r->text;
	v[5] = NUM(state, r->state);
	v[6] = NUM(att, r->attempts);
	v[7] = NUM(acc, r->accepted);
	v[8] = r->result;
	v[9] = r->error;
	v[10] = NUM(fin, r->fin);
	return put(b, r->fin != 0 ? ST_FINAL : ST_INPUT, v, NULL, NULL);
}

/*
 * A new input through mobkit.accept(): its key checked against every
 * node's inputs; fwd: written for the node that runs its member (seq 0,
 * that node told).  Its answer is read (pg_batch_result).
 */
static int
put_accept(struct pg_batch *b, struct pg_row *r, int fwd)
{
	char seq[24], state[24], att[24], acc[24], since[24];
	const char *v[10];
	int64_t ms;
	int max;

	store_retention(&max, &ms);
	v[0] = r->id;
	v[1] = r->member;
	v[2] = NUM(seq, fwd ? 0 : r->seq);
	v[3] = r->key;
	v[4] = r->text;
	v[5] = NUM(state, r->state);
	v[6] = NUM(att, r->attempts);
	v[7] = NUM(acc, r->accepted);
	v[8] = NUM(since, ms >= 0 ? (int64_t)wall_ms() - ms : INT64_MIN);
	v[9] = fwd ? "t" : "f";
	r->res_at = b->sent;
	return put(b, ST_ACCEPT, v, NULL, NULL);
}

/* A claim, and the claims of that schedule it makes too old to keep. */
static int
put_claim(struct pg_batch *b, const struct pg_row *r)
{
	char due[24], before[24];
	const char *v[2] = { r->member, NUM(due, r->seq) };

	if (put(b, ST_CLAIM, v, NULL, NULL) == -1)
		return -1;
	if (r->fin == 0)
		return 0;
	v[1] = NUM(before, r->fin);
	return put(b, ST_UNCLAIM, v, NULL, NULL);
}

/* A member's usage, replaced. */
static int
put_usage(struct pg_batch *b, const struct pg_row *r)
{
	char in[24], out[24], turns[24];
	const char *v[4] = { r->member, NUM(in, r->seq), NUM(out, r->accepted),
	    NUM(turns, r->fin) };

	return put(b, ST_USAGE, v, NULL, NULL);
}

/*
 * In a cluster, what a row becomes: a member's own rows are written only
 * by the node that holds it (under the fence checked first), a new
 * input for a member run elsewhere is written for that node, and the
 * rest of a member no longer held here is not written at all.
 */
static int
row_way(const struct pg_row *r)
{
	int held;

	if (!cluster_enabled())
		return W_PLAIN;
	switch (r->kind) {
	case P_INPUT:
		held = cluster_holds(r->member, NULL);
		if (r->fresh && (r->seq == 0 || !held))
			return W_FORWARD;
		if (!held)
			return W_SKIP;
		return r->fresh && r->key != NULL ? W_ACCEPT : W_FENCED;
	case P_APPEND:
	case P_CLEAR:
	case P_USAGE:
		return cluster_holds(r->member, NULL) ? W_FENCED : W_SKIP;
	}
	return W_PLAIN;
}

/* The fencing check: every member this batch writes for, with its fence. */
static int
put_hold(struct pg_batch *b)
{
	const char **m, **f;
	char (*fences)[24], *am, *af;
	const char *v[3];
	size_t i;
	int n = 0, k, r, w;
	int64_t fence;

	if ((m = calloc(b->n + 1, sizeof(*m))) == NULL ||
	    (f = calloc(b->n + 1, sizeof(*f))) == NULL ||
	    (fences = calloc(b->n + 1, sizeof(*fences))) == NULL)
		fatal("calloc");
	for (i = 0; i < b->n; i++) {
		w = b->rows[i].skip;
		if (w != W_FENCED && w != W_ACCEPT)
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(m[k], b->rows[i].member) == 0)
				break;
		if (k < n || !cluster_holds(b->rows[i].member, &fence))
			continue;
		m[n] = b->rows[i].member;
		snprintf(fences[n], sizeof(fences[n]), "%lld",
		    (long long)fence);
		f[n] = fences[n];
		n++;
	}
	r = 0;
	if (n > 0) {
		am = cluster_pg_array(m, n);
		af = cluster_pg_array(f, n);
		v[0] = store_node_id();
		v[1] = am;
		v[2] = af;
		r = put_sql(b, "SELECT mobkit.hold($1, $2::text[], "
		    "$3::bigint[])", 3, v);
		free(am);
		free(af);
	}
	free(m);
	free(f);
	free(fences);
	return r;
}

/* One row of a batch. */
static int
put_row(struct pg_batch *b, struct pg_row *r)
{
	const char *v[3];
	int len[3] = { 0, 0, 0 }, fmt[3] = { 0, 1, 0 };

	r->res_at = -1;
	switch (r->skip) {
	case W_SKIP:
		return 0;
	case W_FORWARD:
		return put_accept(b, r, 1);
	case W_ACCEPT:
		return put_accept(b, r, 0);
	}
	switch (r->kind) {
	case P_INPUT:
		return put_input(b, r);
	case P_APPEND:
		v[0] = r->id;
		v[1] = r->member;
		v[2] = r->text;
		return put(b, ST_APPEND, v, NULL, NULL);
	case P_CLEAR:
		v[0] = r->member;
		return put(b, ST_CLEAR, v, NULL, NULL);
	case P_CLAIM:
		return put_claim(b, r);
	case P_DELIVERY:
		v[0] = r->id;
		v[1] = r->text;
		len[1] = (int)r->len;
		v[2] = store_node_id();	/* the node that sends it */
		return put(b, ST_DELIVERY, v, len, fmt);
	case P_DELIVERY_FORGET:
		v[0] = r->id;
		return put(b, ST_UNDELIVERY, v, NULL, NULL);
	case P_USAGE:
		return put_usage(b, r);
	case P_FORGET:
		v[0] = r->id;
		return put(b, ST_FORGET, v, NULL, NULL);
	}
	return 0;
}

/* The peer table, rewritten whole. */
static int
put_peers(struct pg_batch *b)
{
	const char *v[2];
	char *tab;
	int i, r = 0;

	if (put(b, ST_NOPEERS, NULL, NULL, NULL) == -1)
		return -1;
	for (i = 0; r == 0 && i < b->edges.n; i++) {
		tab = strchr(b->edges.v[i], '\t');
		*tab = '\0';
		v[0] = b->edges.v[i];
		v[1] = tab + 1;
		r = put(b, ST_PEER, v, NULL, NULL);
		*tab = '\t';
	}
	return r;
}

/* The statements of a batch, between BEGIN and COMMIT. */
static int
put_batch(struct pg_batch *b, int need_lock)
{
	const char *v[1];
	size_t i;

	/* (the way of each row is decided once, here, and kept: the
	 * answer is read by it) */
	for (i = 0; i < b->n; i++)
		b->rows[i].skip = row_way(&b->rows[i]);
	b->wcur = 0;
	v[0] = store_node_id();
	if (put_sql(b, "BEGIN", 0, NULL) == -1 || (need_lock &&
	    put_sql(b, "SELECT mobkit.relock($1, " PG_LOCK_KEY ")", 1,
	    v) == -1) || put_hold(b) == -1)
		return -1;
	for (i = 0; i < b->n; i++)
		if (put_row(b, &b->rows[i]) == -1)
			return -1;
	if (b->peers && put_peers(b) == -1)
		return -1;
	v[0] = store_node_id();
	if ((b->retry || need_lock) && put(b, ST_SEEN, v, NULL, NULL) == -1)
		return -1;
	b->commit_at = b->sent;
	return put_sql(b, "COMMIT", 0, NULL);
}

/*
 * Send a batch (pg_flight) as one transaction, in the pipeline; its
 * answer is read as it comes.  -1 when the connection broke (the batch
 * has failed then).
 */
int
pg_send(struct pg_batch *b, int need_lock, int need_rollback)
{
	b->sent = b->got = b->syncs = 0;
	if (need_lock)
		prepared = 0;
	if ((need_rollback && put_sql(b, "ROLLBACK", 0, NULL) == -1) ||
	    (!prepared && put_prepare(b) == -1) ||
	    put_batch(b, need_lock) == -1 || PQpipelineSync(pg_io.conn) != 1 ||
	    pgio_flush(&pg_io) == -1) {
		conn_lost();
		return -1;
	}
	b->syncs++;
	return 0;
}

/* At shutdown: wait up to timeout_ms for the batch in flight. */
int
pg_wait(int timeout_ms)
{
	uint64_t end = mono_ms() + (uint64_t)timeout_ms, now;
	struct pollfd p;
	int r;

	while (pg_flight != NULL && pg_conn_ready()) {
		if ((now = mono_ms()) >= end)
			return -1;
		p.fd = PQsocket(pg_io.conn);
		p.events = POLLIN | (pg_io.io_events & EV_WRITE ? POLLOUT :
		    0);
		p.revents = 0;
		if ((r = poll(&p, 1, (int)(end - now))) == -1)
			continue;
		if (r == 0)
			return -1;
		pgio_ready(&pg_io, (p.revents & (POLLIN | POLLERR | POLLHUP) ?
		    EV_READ : 0) | (p.revents & POLLOUT ? EV_WRITE : 0));
	}
	return pg_flight == NULL ? 0 : -1;
}
