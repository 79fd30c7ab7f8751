/*
 * supervision.c: the control verbs of the tree itself: status, start,
 * stop, restart, kill, transitions, events, reload and shutdown.  They
 * drive the engine through its public API (engine/engine.h) and reply
 * through client.h; the socket and the requests are control.c's.
 */
#include <sys/queue.h>

#include <errno.h>
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

/* A stop or restart of one child, answered once it is done. */
struct pending {
	uint64_t	 cid;
	char		*name;
	int		 restart;
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

	msgpack_pack_map(pk, 13);
	mp_kstr(pk, "name", c->name);
	mp_kstr(pk, "kind", kind_names[c->conf->kind]);
	mp_kstr(pk, "group", c->group->name);
	mp_kstr(pk, "state", cstate_names[c->state]);
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
	mp_kstr(pk, "state", cstate_names[c->state]);
	if (c->pid > 0)
		mp_kint(pk, "pid", c->pid);
	else
		mp_knil(pk, "pid");
}

/* --- start, stop, restart, kill ------------------------------------- */

static int
v_start(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct child *c;

	(void)cl;
	if ((c = need_child(a->name.name)) == NULL)
		return -1;
	if (D->shutting_down)
		return fail("mobkitd is shutting down");
	if (c->state == CS_STOPPING || c->held)
		return fail("%s is %s; try again when it has stopped", c->name,
		    c->held ? "being restarted" : "stopping");
	child_start_op(c);
	pack_brief(pk, c);
	return 0;
}

static void
op_done(struct stopper *s, void *arg)
{
	struct pending *p = arg;
	struct child *c = child_find(p->name);
	msgpack_sbuffer sb;
	msgpack_packer pk;

	TAILQ_REMOVE(&D->stoppers, s, entry);
	free(s->v);
	free(s);
	if (c != NULL) {
		c->held = 0;
		if (p->restart && !D->shutting_down)
			child_start_op(c);
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (c != NULL) {
		pack_brief(&pk, c);
		reply_ok_packed(p->cid, sb.data, sb.size);
	} else
		reply_error(p->cid, "the child went away");
	msgpack_sbuffer_destroy(&sb);
	free(p->name);
	free(p);
}

/* Stop (and for restart, start again) once the process is gone. */
static int
stop_or_restart(struct client *cl, const char *name, int restart,
    msgpack_packer *pk)
{
	struct child *c;
	struct pending *p;

	if ((c = need_child(name)) == NULL)
		return -1;
	if (D->shutting_down)
		return fail("mobkitd is shutting down");
	if (c->held)
		return fail("%s is being restarted by its group; try again",
		    c->name);
	if (!restart)
		c->want_run = 0;
	if (c->pid == 0) {
		if (!restart) {
			child_event(c, CE_STOP);
			pack_brief(pk, c);
			return 0;
		}
		child_start_op(c);
		pack_brief(pk, c);
		return 0;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->name = strdup(c->name)) == NULL)
		fatal("calloc");
	p->cid = client_id(cl);
	p->restart = restart;
	c->held = 1;
	(void)stopper_new(&c, 1, 0, op_done, p);
	stoppers_poke();
	return 1;
}

static int
v_stop(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	return stop_or_restart(cl, a->name.name, 0, pk);
}

static int
v_restart(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	return stop_or_restart(cl, a->name.name, 1, pk);
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
		    cstate_names[c->state]);
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

	(void)pk;
	client_set_following(cl, e->follow);
	/* replayed as the client drains; answered {last_seq} at the end */
	events_start(cl, (uint64_t)e->since.v, e->since.set, e->source,
	    e->type, e->follow);
	return 1;
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
};
CTL_VERBS(supervision_verbs)
