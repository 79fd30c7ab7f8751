/*
 * members.c: the member verbs of the control socket (SPEC section 5),
 * the waiters of send --wait, and the peer graph (undirected edges).
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "timeutil.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "client.h"
#include "mob/discover.h"
#include "mob/mailbox.h"
#include "mob/members.h"
#include "mob/modules.h"
#include "mob/stream.h"
#include "store.h"
#include "cluster.h"
#include "roster.h"
#include "verbs.h"

#define INPUT_ENVELOPE	(64 * 1024)	/* a RUN message besides its text */

static struct strlist	 edges;		/* "a\tb" with a < b */

/* --- the peer graph ------------------------------------------------ */

static void
edge_key(char *buf, size_t sz, const char *a, const char *b)
{
	if (strcmp(a, b) > 0) {
		const char *t = a;

		a = b;
		b = t;
	}
	snprintf(buf, sz, "%s\t%s", a, b);
}

int
peers_wired(const char *a, const char *b)
{
	char k[300];

	edge_key(k, sizeof(k), a, b);
	return strlist_has(&edges, k);
}

/* Add an edge; -1 for a self-edge, 0 added, 1 already there. */
int
peers_add(const char *a, const char *b)
{
	char k[300];

	if (strcmp(a, b) == 0)
		return -1;
	edge_key(k, sizeof(k), a, b);
	if (strlist_has(&edges, k))
		return 1;
	(void)strlist_add(&edges, k);
	store_peers();
	return 0;
}

int
peers_remove(const char *a, const char *b)
{
	char k[300];
	int i;

	edge_key(k, sizeof(k), a, b);
	for (i = 0; i < edges.n; i++)
		if (strcmp(edges.v[i], k) == 0) {
			free(edges.v[i]);
			edges.v[i] = edges.v[--edges.n];
			edges.v[edges.n] = NULL;
			store_peers();
			return 0;
		}
	return 1;
}

void
peers_forget(const char *id)
{
	char *tab;
	int i;

	for (i = 0; i < edges.n; i++) {
		tab = strchr(edges.v[i], '\t');
		if ((strncmp(edges.v[i], id, (size_t)(tab - edges.v[i])) == 0 &&
		    strlen(id) == (size_t)(tab - edges.v[i])) ||
		    strcmp(tab + 1, id) == 0) {
			free(edges.v[i]);
			edges.v[i] = edges.v[--edges.n];
			edges.v[edges.n] = NULL;
			i--;
		}
	}
	store_peers();
}

/* The ids wired to id, as a msgpack array. */
void
peers_pack(msgpack_packer *pk, const char *id)
{
	size_t idlen = strlen(id);
	int i, n = 0;
	char *tab;

	for (i = 0; i < edges.n; i++) {
		tab = strchr(edges.v[i], '\t');
		if (((size_t)(tab - edges.v[i]) == idlen &&
		    strncmp(edges.v[i], id, idlen) == 0) ||
		    strcmp(tab + 1, id) == 0)
			n++;
	}
	msgpack_pack_array(pk, (size_t)n);
	for (i = 0; i < edges.n; i++) {
		tab = strchr(edges.v[i], '\t');
		if ((size_t)(tab - edges.v[i]) == idlen &&
		    strncmp(edges.v[i], id, idlen) == 0)
			mp_str(pk, tab + 1);
		else if (strcmp(tab + 1, id) == 0) {
			msgpack_pack_str(pk, (size_t)(tab - edges.v[i]));
			msgpack_pack_str_body(pk, edges.v[i],
			    (size_t)(tab - edges.v[i]));
		}
	}
}

/* The INI's peers = lines are edges too. */
void
peers_from_config(struct config *cfg)
{
	int i, j;

	for (i = 0; i < cfg->nchildren; i++) {
		struct child_conf *c = cfg->children[i];

		for (j = 0; j < c->peers.n; j++)
			(void)peers_add(c->name, c->peers.v[j]);
	}
}

/* --- waiters --------------------------------------------------------- */

static const char *const outcome_names[] = { "accepted", "deduplicated",
    "rejected" };

/* The send verb's answer. */
static void
pack_send(msgpack_packer *pk, int outcome, struct input *in,
    const char *reason, const char *status)
{
	msgpack_pack_map(pk, 5);
	mp_kstr(pk, "outcome", outcome_names[outcome]);
	mp_kstr_or_nil(pk, "input_id", in ? in->id : NULL);
	mp_kstr_or_nil(pk, "existing_input_id",
	    outcome == SEND_DEDUPLICATED ? in->id : NULL);
	mp_kstr_or_nil(pk, "reason", reason);
	mp_str(pk, "result");
	if (status == NULL) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_map(pk, 3);
	mp_kstr(pk, "status", status);
	mp_kstr_or_nil(pk, "text", in->result);
	mp_kstr_or_nil(pk, "error", in->error);
}

/* Answer client cid's send with pack_send's map. */
static void
reply_send(uint64_t cid, int outcome, struct input *in, const char *reason,
    const char *status)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_send(&pk, outcome, in, reason, status);
	reply_ok_packed(cid, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

static const char *
terminal_status(const struct input *in)
{
	switch (in->state) {
	case IN_CONSUMED:
		return "completed";
	case IN_FAILED:
		return "failed";
	case IN_ABANDONED:
		return "abandoned";
	}
	return NULL;
}

static void
waiter_free(struct waiter *w)
{
	ev_timer_stop(D->loop, &w->timeout);
	TAILQ_REMOVE(&w->in->waiters, w, entry);
	free(w);
}

/* Answer every send --wait on this input with its final status. */
void
waiters_resolve(struct input *in, const char *status)
{
	struct waiter *w;

	while ((w = TAILQ_FIRST(&in->waiters)) != NULL) {
		reply_send(w->cid, w->outcome, in, NULL, status);
		waiter_free(w);
	}
}

struct resolve_later {
	char	*member;
	char	*id;
};

static void
resolved_later(void *arg, const char *err)
{
	struct resolve_later *l = arg;
	struct input *in;
	const char *status;

	(void)err;	/* (a failed commit is retried: the outcome stands) */
	if ((in = input_find(l->id)) != NULL &&
	    (status = terminal_status(in)) != NULL) {
		waiters_resolve(in, status);
		mbox_input_release(l->member, l->id);
	}
	free(l->member);
	free(l->id);
	free(l);
}

/*
 * An input finished: its send --wait waiters hear the outcome once it is
 * committed, with the turn's messages, so that what they read next (the
 * conversation, inputs) has it; at once without a store.
 */
void
waiters_resolve_committed(struct mbox *mb, struct input *in)
{
	struct resolve_later *l;

	if (TAILQ_EMPTY(&in->waiters))
		return;
	if (!store_enabled()) {
		waiters_resolve(in, terminal_status(in));
		return;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->member = strdup(mb->id)) == NULL ||
	    (l->id = strdup(in->id)) == NULL)
		fatal("calloc");
	store_after_commit(resolved_later, l);
}

/* The input was never saved: every send --wait on it hears rejected. */
void
waiters_reject(struct input *in, const char *reason)
{
	struct waiter *w;

	while ((w = TAILQ_FIRST(&in->waiters)) != NULL) {
		reply_send(w->cid, SEND_REJECTED, NULL, reason, NULL);
		waiter_free(w);
	}
}

/* At shutdown, every send --wait still waiting hears "terminated". */
void
waiters_terminate_all(void)
{
	struct child *c;
	struct input *in;

	TAILQ_FOREACH(c, &D->children, entry)
		if (c->mbox != NULL)
			TAILQ_FOREACH(in, &c->mbox->all, all)
				if (!TAILQ_EMPTY(&in->waiters))
					waiters_resolve(in, "terminated");
}

static void
waiter_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct waiter *w = t->data;
	char msg[256];

	(void)loop;
	(void)revents;
	snprintf(msg, sizeof(msg), "timed out waiting for %s (still %s)",
	    w->in->id, input_state_names[w->in->state]);
	reply_error(w->cid, msg);
	waiter_free(w);
}

static void
waiter_add(struct input *in, uint64_t cid, int outcome, int64_t timeout_ms)
{
	struct waiter *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("calloc");
	w->cid = cid;
	w->outcome = outcome;
	w->in = in;
	ev_timer_init(&w->timeout, waiter_timeout,
	    (double)timeout_ms / 1000.0, 0.);
	w->timeout.data = w;
	if (timeout_ms > 0)
		ev_timer_start(D->loop, &w->timeout);
	TAILQ_INSERT_TAIL(&in->waiters, w, entry);
}

/* --- send ------------------------------------------------------------ */

struct ack {
	uint64_t	 cid;
	int		 outcome;
	char		 id[INPUT_ID_MAX];
};

/*
 * The commit that holds the input is over: accepted (or deduplicated)
 * if it is on disk, rejected with the store's reason if not.
 */
static void
ack_after_commit(void *arg, const char *err)
{
	struct ack *a = arg;
	struct input *in = input_find(a->id);

	struct input orig;

	if (err == NULL && (in == NULL || !in->durable))
		err = in == NULL ? "the input went away before it was saved" :
		    "store: the input was not saved";
	if (err != NULL)
		reply_send(a->cid, SEND_REJECTED, NULL, err, NULL);
	else if (in->dup_of != NULL) {
		/* another node's input held the key: that one is answered */
		memset(&orig, 0, sizeof(orig));
		snprintf(orig.id, sizeof(orig.id), "%s", in->dup_of);
		reply_send(a->cid, SEND_DEDUPLICATED, &orig, NULL, NULL);
	} else
		reply_send(a->cid, a->outcome, in, NULL, NULL);
	free(a);
}

/*
 * An input's text must fit max_input_bytes, and in any case one message
 * to the worker (with room for the envelope): NULL when it does, else why
 * it does not, naming both sizes.  (That it is UTF-8 is checked for every
 * argument of every request, in control.c.)
 */
static const char *
input_too_big(const char *text)
{
	static char why[160];
	size_t len = strlen(text), hard = FRAME_MSG_MAX - INPUT_ENVELOPE;

	if (D->cfg->max_input_bytes >= 0 &&
	    (uint64_t)len > (uint64_t)D->cfg->max_input_bytes) {
		snprintf(why, sizeof(why), "input of %zu bytes is larger than "
		    "max_input_bytes (%lld bytes)", len,
		    (long long)D->cfg->max_input_bytes);
		return why;
	}
	if (len > hard) {
		snprintf(why, sizeof(why), "input of %zu bytes is larger than "
		    "the largest message (%zu bytes)", len, hard);
		return why;
	}
	return NULL;
}

/* send ID TEXT [--key KEY] [--wait] [--timeout-ms N] [--stream] */
static int
v_send(struct client *cl, const union ctl_args *args, msgpack_packer *pk)
{
	const struct ctl_send_args *sa = &args->send;
	const char *reason = NULL;
	struct input *in;
	struct ack *a;
	int r;

	if (sa->key != NULL && *sa->key == '\0')
		return ctl_fail("--key: empty");
	if ((reason = input_too_big(sa->text)) != NULL) {
		pack_send(pk, SEND_REJECTED, NULL, reason, NULL);
		return 0;
	}
	r = mbox_accept(child_find(sa->member), sa->text, sa->key, &in,
	    &reason);
	if (r == SEND_REJECTED) {
		pack_send(pk, r, NULL, reason, NULL);
		return 0;
	}
	if (r == SEND_DEDUPLICATED && input_terminal(in)) {
		pack_send(pk, r, in, NULL, terminal_status(in));
		return 0;
	}
	if (sa->wait || sa->stream) {
		if (sa->stream)
			stream_add(client_id(cl), in->id);
		waiter_add(in, client_id(cl), r, sa->timeout_ms.v);
		return 1;
	}
	if (!in->durable) {	/* answered once committed, or not */
		if ((a = calloc(1, sizeof(*a))) == NULL)
			fatal("calloc");
		a->cid = client_id(cl);
		a->outcome = r;
		snprintf(a->id, sizeof(a->id), "%s", in->id);
		store_after_commit(ack_after_commit, a);
		return 1;
	}
	pack_send(pk, r, in, NULL, NULL);
	return 0;
}

/* --- the roster -------------------------------------------------------- */

/* The member named id, or NULL with the verb failed. */
struct child *
need_member(const char *id)
{
	struct child *c = child_find(id);

	if (c == NULL || c->mbox == NULL) {
		ctl_fail("no member named \"%s\"", id);
		return NULL;
	}
	return c;
}

/* A member this node runs, or NULL with the verb failed (in a cluster,
 * naming the node that runs it). */
struct child *
need_local_member(const char *id)
{
	struct child *c;
	const char *node;

	if ((c = need_member(id)) == NULL)
		return NULL;
	if (cluster_enabled() && !cluster_runs(id)) {
		node = cluster_owner(id);
		ctl_fail("member \"%s\" runs on node %s, not here (%s): ask "
		    "that node", id, node != NULL ? node : "(none yet)",
		    cluster_node_id());
		return NULL;
	}
	return c;
}

static int
v_members(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct child *c;
	int n = 0;

	(void)cl;
	(void)a;
	TAILQ_FOREACH(c, &D->children, entry)
		if (c->mbox != NULL && !c->removing)
			n++;
	msgpack_pack_array(pk, (size_t)n);
	TAILQ_FOREACH(c, &D->children, entry)
		if (c->mbox != NULL && !c->removing)
			mbox_pack_member(pk, c);
	return 0;
}

static int
v_inputs(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct child *c;

	if ((c = need_member(a->name.name)) == NULL)
		return -1;
	if (cluster_enabled() && !cluster_runs(c->name)) {
		cluster_inputs(c->name, client_id(cl));
		return 1;
	}
	mbox_pack_inputs(pk, c->mbox);
	return 0;
}

/* Add a member to the tree and start it. */
struct child *
member_spawn(const char *id, const char *profile, int dynamic,
    const char **err)
{
	struct profile_conf *p;
	struct child_conf *cc;
	struct child *c;

	if (!valid_name(id)) {
		*err = "bad member id: use letters, digits, '.', '_' and '-'";
		return NULL;
	}
	if (child_find(id) != NULL) {
		*err = "a child with that name exists";
		return NULL;
	}
	if ((p = config_profile(D->cfg, profile)) == NULL) {
		*err = "no such profile";
		return NULL;
	}
	if ((cc = calloc(1, sizeof(*cc))) == NULL ||
	    (cc->name = strdup(id)) == NULL ||
	    (cc->profile = strdup(profile)) == NULL)
		fatal("calloc");
	cc->kind = KIND_MEMBER;
	cc->restart = cc->ready = cc->max_restarts = -1;
	cc->restart_window_ms = cc->restart_backoff_ms = -1;
	cc->restart_backoff_max_ms = cc->start_timeout_ms = -1;
	cc->stop_timeout_ms = -1;
	cc->on_exhausted = cc->stop_signal = -1;
	if (member_conf_from_profile(cc, p, D->cfg) == -1)
		fatal("member_conf_from_profile");
	c = tree_add(cc);
	routes_push();		/* a member brings its roster route */
	c->dynamic = dynamic;
	child_conf_free(cc);
	cluster_member_added(id);	/* (a cluster's: run where adopted) */
	tree_kick();
	return c;
}

static int
v_spawn(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	const char *err;
	struct child *c;

	(void)cl;
	if (D->shutting_down)
		return ctl_fail("mobkitd is shutting down");
	if ((c = member_spawn(a->spawn.id, a->spawn.profile, 1, &err)) ==
	    NULL)
		return ctl_fail("spawn %s: %s", a->spawn.id, err);
	roster_spawned(c->name, c->mbox->profile);	/* every node's */
	msgpack_pack_map(pk, 3);
	mp_kstr(pk, "id", c->name);
	mp_kstr(pk, "profile", c->mbox->profile);
	mp_kstr(pk, "state", cstate_names[c->state]);
	return 0;
}

/* Retired members are freed from the loop, never under their caller
 * (a member with no worker here, as one another node runs, is stopped
 * at once: its retire's caller still holds it). */
static void
sweep_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	tree_sweep();
}

static void
sweep_later(void)
{
	static ev_timer t;

	if (ev_is_active(&t))
		return;
	ev_timer_init(&t, sweep_cb, 0., 0.);
	ev_timer_start(D->loop, &t);
}

static void
retired_stopped(struct stopper *s, void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < s->n; i++) {
		struct child *c = s->v[i];

		log_info("%s: retired", c->name);
		event_simple("supervisor", c->name, "member.retired");
		peers_forget(c->name);
		if (c->dynamic)
			roster_retired(c->name);	/* every node's */
		child_mark_removing(c);
	}
	TAILQ_REMOVE(&D->stoppers, s, entry);
	free(s->v);
	free(s);
	sweep_later();
}

/* A retiring member whose queue has drained is stopped and removed. */
void
retire_progress(struct child *c)
{
	struct mbox *mb = c->mbox;

	if (mb == NULL || !mb->retiring || mb->destroying || c->held ||
	    mbox_pending(mb) > 0 || (mb->busy && c->pid != 0))
		return;
	mb->destroying = 1;	/* once */
	c->want_run = 0;
	c->held = 1;
	(void)stopper_new(&c, 1, 0, retired_stopped, NULL);
	stoppers_poke();
}

/* Start retiring: no new inputs; stop once the queue is drained. */
int
member_retire(struct child *c)
{
	int pending = mbox_pending(c->mbox);

	if (!c->mbox->retiring) {
		c->mbox->retiring = 1;
		event_simple("supervisor", c->name, "member.retiring");
	}
	retire_progress(c);
	return pending;
}

/* A member verb's answer: {id, <what>: n}. */
static int
pack_id_count(msgpack_packer *pk, const char *id, const char *what, int n)
{
	msgpack_pack_map(pk, 2);
	mp_kstr(pk, "id", id);
	mp_kint(pk, what, n);
	return 0;
}

static int
v_retire(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct child *c;
	int pending;

	(void)cl;
	if ((c = need_member(a->name.name)) == NULL)
		return -1;
	/* (a member with nothing to drain, as one another node runs, may
	 * be gone once retired) */
	pending = member_retire(c);
	return pack_id_count(pk, a->name.name, "inputs_pending_drain",
	    pending);
}

static int
v_destroy(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct child *c;
	int n;

	(void)cl;
	if ((c = need_member(a->name.name)) == NULL)
		return -1;
	if (c->mbox->destroying)
		return ctl_fail("%s is already going away", c->name);
	n = mbox_abandon_all(c->mbox, "destroyed", 1);
	c->mbox->retiring = 1;
	c->mbox->busy = 0;
	event_simple("supervisor", c->name, "member.destroyed");
	retire_progress(c);	/* (may free c) */
	return pack_id_count(pk, a->name.name, "inputs_abandoned", n);
}

static int
v_reset(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct child *c;
	int n;

	(void)cl;
	if ((c = need_local_member(a->name.name)) == NULL)
		return -1;
	if (mbox_reset(c, &n) == -1)
		return ctl_fail("%s is running a turn; interrupt it first, or "
		    "wait", c->name);
	return pack_id_count(pk, c->name, "inputs_abandoned", n);
}

static int
v_interrupt(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct child *c;
	char id[INPUT_ID_MAX];

	(void)cl;
	if ((c = need_local_member(a->name.name)) == NULL)
		return -1;
	if (mbox_interrupt(c, id, sizeof(id)) == -1)
		return ctl_fail("%s is not running a turn", c->name);
	msgpack_pack_map(pk, 3);
	mp_kstr(pk, "id", c->name);
	mp_kstr(pk, "input_id", id);
	mp_kstr(pk, "state", "abandoned");
	return 0;
}

/* Pack key: [names], and free the names. */
static void
pack_names(msgpack_packer *pk, const char *key, struct strlist *l)
{
	mp_kstrs(pk, key, l->v, l->n);
	strlist_free(l);
}

/* Make the running roster equal the INI's; pack what moved. */
void
reconcile_pack(msgpack_packer *pk)
{
	struct strlist spawned = { 0 }, retired = { 0 }, retained = { 0 };
	struct child *c;
	const char *err;
	int i;

	for (i = 0; i < D->cfg->nchildren; i++) {
		struct child_conf *cc = D->cfg->children[i];

		if (cc->kind != KIND_MEMBER)
			continue;
		c = child_find(cc->name);
		if (c != NULL && c->mbox != NULL && !c->mbox->retiring) {
			(void)strlist_add(&retained, cc->name);
			continue;
		}
		if (c != NULL)
			continue;	/* still going away */
		if (member_spawn(cc->name, cc->profile, 0, &err) != NULL)
			(void)strlist_add(&spawned, cc->name);
		else
			log_warnx("reconcile: %s: %s", cc->name, err);
	}
	TAILQ_FOREACH(c, &D->children, entry) {
		if (c->mbox == NULL || c->removing || c->mbox->retiring ||
		    config_child(D->cfg, c->name) != NULL ||
		    discover_has(c->name))	/* discovery's own roster */
			continue;
		(void)member_retire(c);
		(void)strlist_add(&retired, c->name);
	}
	peers_from_config(D->cfg);
	msgpack_pack_map(pk, 3);
	pack_names(pk, "spawned", &spawned);
	pack_names(pk, "retired", &retired);
	pack_names(pk, "retained", &retained);
}

static int
v_reconcile(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	(void)cl;
	(void)a;
	if (D->shutting_down)
		return ctl_fail("mobkitd is shutting down");
	reconcile_pack(pk);
	return 0;
}

static int
wire_args(const struct ctl_wire_args *w)
{
	if (need_member(w->a) == NULL || need_member(w->b) == NULL)
		return -1;
	if (strcmp(w->a, w->b) == 0)
		return ctl_fail("a member cannot be wired to itself");
	return 0;
}

/* wire and unwire: one edge added or removed. */
static int
wire_verb(const struct ctl_wire_args *w, int add, msgpack_packer *pk)
{
	int r;

	if (wire_args(w) == -1)
		return -1;
	r = add ? peers_add(w->a, w->b) : peers_remove(w->a, w->b);
	msgpack_pack_map(pk, 2);
	mp_str(pk, add ? "wired" : "unwired");
	msgpack_pack_array(pk, 2);
	mp_str(pk, w->a);
	mp_str(pk, w->b);
	mp_kbool(pk, "changed", r == 0);
	return 0;
}

static int
v_wire(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	(void)cl;
	return wire_verb(&a->wire, 1, pk);
}

static int
v_unwire(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	(void)cl;
	return wire_verb(&a->wire, 0, pk);
}

static const struct ctl_handler member_verbs[] = {
	{ "members", v_members },
	{ "spawn", v_spawn },
	{ "retire", v_retire },
	{ "destroy", v_destroy },
	{ "reset", v_reset },
	{ "interrupt", v_interrupt },
	{ "reconcile", v_reconcile },
	{ "send", v_send },
	{ "inputs", v_inputs },
	{ "wire", v_wire },
	{ "unwire", v_unwire },
};
CTL_VERBS(member_verbs)
