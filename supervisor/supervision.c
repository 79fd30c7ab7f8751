/*
 * supervision.c: the control verbs of the tree itself: status, start,
 * stop, restart, kill, transitions, events, reload and shutdown.  They
 * drive the engine through its public API (engine/engine.h) and reply
 * through client.h; the socket and the requests are control.c's.
 */
#include <sys/queue.h>

#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "client.h"
#include "control.h"
#include "verbs.h"
#include "cluster.h"

/* A stop or restart of some children, answered once they are done. */
struct pending {
	uint64_t	 cid;
	char		**names;	/* every target, in start order */
	int		 n;
	int		 restart;
	int		 single;	/* {name}: answer the one object */
};

#define fail ctl_fail

static struct child *
need_child(const char *name)
{
	struct child *c = child_find(name);

	if (c == NULL)
		fail("no child named \"%s\"", name);
	return c;
}

/* --- status --------------------------------------------------------- */

static void
pack_child(msgpack_packer *pk, struct child *c)
{
	uint64_t now = mono_ms();
	int node = cluster_enabled() && c->conf->kind == KIND_MEMBER;

	msgpack_pack_map(pk, 13 + node);
	mp_kstr(pk, "name", c->name);
	mp_kstr(pk, "kind", kind_names[c->conf->kind]);
	mp_kstr(pk, "group", c->group->name);
	mp_kstr(pk, "state", child_state_name(c));
	if (node)	/* the node that runs it (a cluster) */
		mp_kstr_or_nil(pk, "node_id", cluster_owner(c->name));
	if (c->pid > 0)
		mp_kint(pk, "pid", c->pid);
	else
		mp_knil(pk, "pid");
	mp_kint(pk, "restarts", c->restarts);
	mp_kint(pk, "budget_left", child_budget_left(c));
	mp_str(pk, "last_exit");
	if (!c->exit_known)
		msgpack_pack_nil(pk);
	else {
		msgpack_pack_map(pk, c->exit_reason != NULL ? 2 : 1);
		if (c->exit_signal)
			mp_kstr(pk, "signal", signal_name(c->exit_signal));
		else
			mp_kint(pk, "code", c->exit_code);
		if (c->exit_reason != NULL)	/* why mobkitd killed it */
			mp_kstr(pk, "reason", c->exit_reason);
	}
	mp_kint(pk, "since_ms", (int64_t)c->since_wall);
	if (c->timer_kind == CT_BACKOFF && c->next_restart_at > 0)
		mp_kint(pk, "next_restart_in_ms", c->next_restart_at > now ?
		    (int64_t)(c->next_restart_at - now) : 0);
	else
		mp_knil(pk, "next_restart_in_ms");
	mp_kint(pk, "attempt", c->spawned);
	mp_kstr(pk, "ready", ready_names[c->conf->ready]);
	mp_kstr(pk, "restart", restart_names[c->conf->restart]);
}

static int
v_status(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct child *c, *one = NULL;
	int n = 0;

	(void)cl;
	if (a->name.name != NULL && (one = need_child(a->name.name)) == NULL)
		return -1;
	msgpack_pack_map(pk, 3);
	mp_str(pk, "daemon");
	msgpack_pack_map(pk, 4);
	mp_kint(pk, "pid", D->pid);
	mp_kstr(pk, "state", daemon_state());
	mp_kint(pk, "uptime_ms", (int64_t)(mono_ms() - D->start_mono));
	mp_kstr(pk, "config", D->cfg_path);
	mp_str(pk, "groups");
	{
		struct sgroup *g;
		int ng = 0;

		TAILQ_FOREACH(g, &D->groups, entry)
			ng++;
		msgpack_pack_array(pk, (size_t)ng);
		TAILQ_FOREACH(g, &D->groups, entry) {
			msgpack_pack_map(pk, 5);
			mp_kstr(pk, "name", g->name);
			mp_kstr_or_nil(pk, "parent", g->parent ?
			    g->parent->name : NULL);
			mp_kstr(pk, "strategy", strategy_names[g->strategy]);
			mp_kint(pk, "restarts", g->restarts);
			mp_kint(pk, "budget_left", budget_left(&g->budget,
			    g->max_restarts, g->window_ms, mono_ms()));
		}
	}
	mp_str(pk, "children");
	TAILQ_FOREACH(c, &D->children, entry)
		if (!c->removing && (one == NULL || c == one))
			n++;
	msgpack_pack_array(pk, (size_t)n);
	TAILQ_FOREACH(c, &D->children, entry)
		if (!c->removing && (one == NULL || c == one))
			pack_child(pk, c);
	return 0;
}

static void
pack_brief(msgpack_packer *pk, struct child *c)
{
	msgpack_pack_map(pk, 3);
	mp_kstr(pk, "name", c->name);
	mp_kstr(pk, "state", child_state_name(c));
	if (c->pid > 0)
		mp_kint(pk, "pid", c->pid);
	else
		mp_knil(pk, "pid");
}

/* --- start, stop, restart, kill ------------------------------------- */

/* Is c in group g, or in a group below it? */
static int
in_group(const struct child *c, const struct sgroup *g)
{
	const struct sgroup *p;

	for (p = c->group; p != NULL; p = p->parent)
		if (p == g)
			return 1;
	return 0;
}

/* Does one target word (a name, a group, a glob pattern) take c? */
static int
target_takes(const char *w, const struct child *c)
{
	struct sgroup *g;

	if (child_find(w) != NULL)	/* a child's own name comes first */
		return strcmp(w, c->name) == 0;
	if ((g = group_find(w)) != NULL)
		return in_group(c, g);
	if (strpbrk(w, "*?[") != NULL)
		return fnmatch(w, c->name, 0) == 0;
	return 0;
}

/*
 * The children that the target words name, in start order, each once:
 * a child's name, a group's name (all its children, subgroups
 * included), or a glob pattern on the children's names.  A word that
 * takes no child is an error naming it.  NULL with *n 0 after ctl_fail.
 */
static struct child **
targets_expand(char *const *w, int nw, int *n)
{
	struct child *c, **v;
	int i, k = 0, hit;

	*n = 0;
	TAILQ_FOREACH(c, &D->children, entry)
		k++;
	if ((v = calloc((size_t)k + 1, sizeof(*v))) == NULL)
		fatal("calloc");
	for (i = 0; i < nw; i++) {
		hit = 0;
		TAILQ_FOREACH(c, &D->children, entry)
			if (!c->removing && target_takes(w[i], c))
				hit = 1;
		if (!hit) {
			free(v);
			(void)fail(group_find(w[i]) != NULL ? "group \"%s\" has "
			    "no children" : strpbrk(w[i], "*?[") != NULL ?
			    "no child matches \"%s\"" : "no child or group "
			    "named \"%s\"", w[i]);
			return NULL;
		}
	}
	TAILQ_FOREACH(c, &D->children, entry)
		for (i = 0; !c->removing && i < nw; i++)
			if (target_takes(w[i], c)) {
				v[(*n)++] = c;
				break;
			}
	return v;
}

/*
 * The children of a start, stop or restart request: {names: [..]}, or
 * the older {name} (one child, by its name only).  *single: answer one
 * object rather than an array (one exact child name was given).
 */
static struct child **
targets_of(const union ctl_args *a, int *n, int *single)
{
	const struct ctl_targets_args *t = &a->targets;

	*n = 0;
	*single = 0;
	if (t->name != NULL && t->names.v != NULL) {
		(void)fail("give \"name\" or \"names\", not both");
		return NULL;
	}
	if (t->name != NULL) {
		if (need_child(t->name) == NULL)
			return NULL;
		*single = 1;
		return targets_expand(&t->name, 1, n);
	}
	if (t->names.n == 0) {
		(void)fail("no child named");
		return NULL;
	}
	*single = t->names.n == 1 && child_find(t->names.v[0]) != NULL;
	return targets_expand(t->names.v, t->names.n, n);
}

/* The answer: one child's {name, state, pid}, or an array of them. */
static void
pack_briefs(msgpack_packer *pk, struct child **v, int n, int single)
{
	int i;

	if (single && n == 1) {
		pack_brief(pk, v[0]);
		return;
	}
	msgpack_pack_array(pk, (size_t)n);
	for (i = 0; i < n; i++)
		pack_brief(pk, v[i]);
}

/* Refuse the whole request when one of its children is busy. */
static int
targets_busy(struct child **v, int n, int starting)
{
	int i;

	if (D->shutting_down)
		return fail("mobkitd is shutting down");
	for (i = 0; i < n; i++) {
		if (v[i]->held)
			return fail("%s is being restarted%s; try again",
			    v[i]->name, starting ? "" : " by its group");
		if (starting && v[i]->state == CS_STOPPING)
			return fail("%s is stopping; try again when it has "
			    "stopped", v[i]->name);
	}
	return 0;
}

static int
v_start(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct child **v;
	int i, n, single;

	(void)cl;
	if ((v = targets_of(a, &n, &single)) == NULL)
		return -1;
	if (targets_busy(v, n, 1) == -1) {
		free(v);
		return -1;
	}
	for (i = 0; i < n; i++)
		child_start_op(v[i]);
	pack_briefs(pk, v, n, single);
	free(v);
	return 0;
}

static void
pending_free(struct pending *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		free(p->names[i]);
	free(p->names);
	free(p);
}

/* The stop is done: start again (restart), then answer. */
static void
op_done(struct stopper *s, void *arg)
{
	struct pending *p = arg;
	struct child *c, **v;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int i, n = 0;

	stopper_free(s);
	if ((v = calloc((size_t)p->n + 1, sizeof(*v))) == NULL)
		fatal("calloc");
	for (i = 0; i < p->n; i++)
		if ((c = child_find(p->names[i])) != NULL)
			v[n++] = c;
	for (i = 0; i < n; i++)
		v[i]->held = 0;
	for (i = 0; p->restart && !D->shutting_down && i < n; i++)
		child_start_op(v[i]);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (n > 0) {
		pack_briefs(&pk, v, n, p->single);
		reply_ok_packed(p->cid, sb.data, sb.size);
	} else
		reply_error(p->cid, "the child went away");
	msgpack_sbuffer_destroy(&sb);
	free(v);
	pending_free(p);
}

/*
 * Stop (and for restart, start again) once the processes are gone:
 * dependants stop before what they depend on, then all start again in
 * start order.  The answer waits for that.
 */
static int
stop_or_restart(struct client *cl, const union ctl_args *a, int restart,
    msgpack_packer *pk)
{
	struct child **v, **run;
	struct pending *p;
	int i, n, nrun = 0, single;

	if ((v = targets_of(a, &n, &single)) == NULL)
		return -1;
	if (targets_busy(v, n, 0) == -1) {
		free(v);
		return -1;
	}
	if ((run = calloc((size_t)n + 1, sizeof(*run))) == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++) {
		if (!restart)
			v[i]->want_run = 0;
		if (v[i]->pid != 0)
			run[nrun++] = v[i];
		else if (!restart)
			child_event(v[i], CE_STOP);
	}
	if (nrun == 0) {
		for (i = 0; restart && i < n; i++)
			child_start_op(v[i]);
		pack_briefs(pk, v, n, single);
		free(run);
		free(v);
		return 0;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->names = calloc((size_t)n, sizeof(*p->names))) == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++)
		if ((p->names[i] = strdup(v[i]->name)) == NULL)
			fatal("strdup");
	p->n = n;
	p->cid = client_id(cl);
	p->restart = restart;
	p->single = single;
	for (i = 0; i < nrun; i++)
		run[i]->held = 1;
	/* the stopper wants reverse start order */
	for (i = 0; i < nrun / 2; i++) {
		struct child *t = run[i];

		run[i] = run[nrun - 1 - i];
		run[nrun - 1 - i] = t;
	}
	(void)stopper_new(run, nrun, nrun > 1 ? STOP_LEVELS : STOP_PARALLEL,
	    op_done, p);
	stoppers_poke();
	free(run);
	free(v);
	return 1;
}

static int
v_stop(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	return stop_or_restart(cl, a, 0, pk);
}

static int
v_restart(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	return stop_or_restart(cl, a, 1, pk);
}

static int
v_kill(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct child *c;
	int sig = SIGTERM;

	(void)cl;
	if ((c = need_child(a->kill.name)) == NULL)
		return -1;
	if (a->kill.signal != NULL &&
	    (sig = signal_parse(a->kill.signal)) == -1)
		return fail("bad signal \"%s\"", a->kill.signal);
	if (c->pid == 0)
		return fail("%s is not running (%s)", c->name,
		    child_state_name(c));
	if (kill(c->pid, sig) == -1)
		return fail("kill %d: %s", (int)c->pid, strerror(errno));
	msgpack_pack_map(pk, 3);
	mp_kstr(pk, "name", c->name);
	mp_kint(pk, "pid", c->pid);
	mp_kstr(pk, "signal", signal_name(sig));
	return 0;
}

/* --- transitions, events, reload, shutdown -------------------------- */

static int
v_transitions(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	(void)cl;
	return transitions_pack(pk, a->name.name);
}

static int
v_events(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	const struct ctl_events_args *e = &a->events;
	struct event_filter f = { e->source, e->type, e->name };

	(void)pk;
	client_set_following(cl, e->follow);
	/* replayed as the client drains; answered {last_seq} at the end */
	events_start(cl, (uint64_t)e->since.v, e->since.set, &f,
	    e->n.set ? e->n.v : -1, e->follow);
	return 1;
}

/*
 * Is c as it should be?  A child named on its own must be healthy; in
 * the whole tree, one stopped on purpose (an operator's stop, a clean
 * exit that its policy does not restart) is as it should be too.
 */
static int
child_ok(const struct child *c, int named)
{
	if (c->state == CS_HEALTHY || (c->remote && c->pid == 0))
		return 1;	/* (a member another node runs) */
	return !named && c->state == CS_STOPPED && !c->want_run;
}

/*
 * is-healthy [NAME]: {healthy, state, unhealthy: [{name, state}]}; NAME
 * may be a group or a pattern, like start's.  The whole tree is healthy
 * when mobkitd is running (not degraded, not stopping) too.
 */
static int
v_is_healthy(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct child *c, **v;
	const char *st = daemon_state();
	int i, n = 0, bad = 0, named = a->name.name != NULL;

	(void)cl;
	if (named) {
		if ((v = targets_expand(&a->name.name, 1, &n)) == NULL)
			return -1;
	} else {
		TAILQ_FOREACH(c, &D->children, entry)
			n++;
		if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
			fatal("calloc");
		n = 0;
		TAILQ_FOREACH(c, &D->children, entry)
			if (!c->removing)
				v[n++] = c;
	}
	for (i = 0; i < n; i++)
		bad += !child_ok(v[i], named);
	msgpack_pack_map(pk, 3);
	mp_kbool(pk, "healthy", bad == 0 && (named ||
	    strcmp(st, "running") == 0));
	mp_kstr(pk, "state", st);
	mp_str(pk, "unhealthy");
	msgpack_pack_array(pk, (size_t)bad);
	for (i = 0; i < n; i++)
		if (!child_ok(v[i], named)) {
			msgpack_pack_map(pk, 2);
			mp_kstr(pk, "name", v[i]->name);
			mp_kstr(pk, "state", child_state_name(v[i]));
		}
	free(v);
	return 0;
}

/* Reload the config file as a transaction (verb and SIGHUP). */
int
control_reload(msgpack_packer *pk)
{
	struct config *ncfg;
	char errs[8192];
	size_t off = 0;
	int i;

	if (D->shutting_down)
		return fail("mobkitd is shutting down");
	if ((ncfg = config_load(D->cfg_path)) == NULL)
		return fail("out of memory");
	if (ncfg->errors.n == 0)
		(void)config_check_commands(ncfg);
	if (ncfg->errors.n > 0) {
		errs[0] = '\0';
		for (i = 0; i < ncfg->errors.n && off < sizeof(errs); i++)
			off += (size_t)snprintf(errs + off,
			    sizeof(errs) - off, "%s%s", i ? "\n" : "",
			    ncfg->errors.v[i]);
		(void)fail("%s", errs);
		log_warnx("reload refused: %d problem(s) in %s; nothing "
		    "changed", ncfg->errors.n, D->cfg_path);
		for (i = 0; i < ncfg->errors.n; i++)
			log_warnx("%s", ncfg->errors.v[i]);
		event_simple("supervisor", "mobkitd", "config.reload_refused");
		sd_notify_reload_refused();
		config_free(ncfg);
		return -1;
	}
	for (i = 0; i < ncfg->warnings.n; i++)
		log_warnx("%s", ncfg->warnings.v[i]);
	if (strcmp(ncfg->control_socket, D->cfg->control_socket) != 0)
		log_warnx("reload: control_socket changes only at restart");
	return tree_reload(ncfg, pk);
}

static int
v_reload(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	(void)cl;
	(void)a;
	return control_reload(pk);
}

static int
v_shutdown(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	(void)a;
	(void)pk;
	client_want_report(cl);
	daemon_shutdown(0);
	return 1;
}

static const struct ctl_handler supervision_verbs[] = {
	{ "status", v_status },
	{ "start", v_start },
	{ "stop", v_stop },
	{ "restart", v_restart },
	{ "kill", v_kill },
	{ "transitions", v_transitions },
	{ "events", v_events },
	{ "reload", v_reload },
	{ "shutdown", v_shutdown },
	{ "is-healthy", v_is_healthy },
};
CTL_VERBS(supervision_verbs)
