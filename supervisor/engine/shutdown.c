/*
 * shutdown.c: the ordered shutdown (SPEC section 6): inputs refused,
 * in-flight turns drained, members stopped all at once, modules stopped
 * by dependency levels, orphans killed, the report, then the loop ends
 * once what holds the exit (clients owed their last output) lets go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/events.h"
#include "engine/internal.h"

/* running, degraded (a child exhausted, or a domain says so), stopping. */
const char *
daemon_state(void)
{
	struct child *c;

	if (D->shutting_down)
		return "stopping";
	if (domains_degraded())
		return "degraded";	/* e.g. the store cannot write */
	TAILQ_FOREACH(c, &D->children, entry)
		if (c->state == CS_EXHAUSTED)
			return "degraded";
	return "running";
}

/* Record a shutdown stage; the first and last are events too. */
static void
stage(const char *name)
{
	char type[64];

	(void)strlist_add(&D->stages, name);
	snprintf(type, sizeof(type), "lifecycle.%s", name);
	if (strcmp(name, "shutdown_requested") == 0 ||
	    strcmp(name, "shutdown_complete") == 0)
		event_simple("supervisor", "mobkitd", type);
}

/* The loop ends once the shutdown is complete and nothing holds it. */
static void
exit_if_free(void)
{
	if (D->finished && D->exit_holds == 0)
		ev_break(D->loop, EVBREAK_ALL);
}

/* Keep the loop running after the shutdown (a client owed its output). */
void
engine_hold_exit(void)
{
	D->exit_holds++;
}

/* Let go of the exit; the loop ends if nothing else holds it. */
void
engine_release_exit(void)
{
	if (D->exit_holds > 0)
		D->exit_holds--;
	exit_if_free();
}

/* No descendant is left: the shutdown is complete. */
static void
orphans_done(void)
{
	stage("orphans_killed");
	D->shutdown_ms = mono_ms() - D->shutdown_began;
	stage("shutdown_complete");
	log_info("shutdown complete in %llu ms (%d orphan(s) killed)",
	    (unsigned long long)D->shutdown_ms, D->orphans_killed);
	D->finished = 1;
	domains_shutdown_complete();
	exit_if_free();
}

/* Modules are down: sweep what is left of their descendants. */
static void
modules_stopped(struct stopper *s, void *arg)
{
	(void)arg;
	stopper_free(s);
	stage("modules_stopped");
	orphans_sweep(orphans_done);
}

/* A stopper for every child of one kind, in reverse start order. */
static void
stop_kind(int kind, int mode, stopper_done_cb done)
{
	struct child *c, **v;
	int n = 0;

	TAILQ_FOREACH(c, &D->children, entry)
		n++;
	if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
		fatal("calloc");
	n = 0;
	TAILQ_FOREACH_REVERSE(c, &D->children, childq, entry)
		if (c->conf->kind == kind)
			v[n++] = c;
	(void)stopper_new(v, n, mode, done, NULL);
	free(v);
	stoppers_poke();
}

/* MCP servers are down (after the members: they may be mid-call). */
static void
mcp_stopped(struct stopper *s, void *arg)
{
	(void)arg;
	stopper_free(s);
	stop_kind(KIND_MODULE, STOP_LEVELS, modules_stopped);
}

/* Members are down: waiters get their answer, MCP servers stop, then
 * modules by levels. */
static void
members_stopped(struct stopper *s, void *arg)
{
	(void)arg;
	stopper_free(s);
	stage("members_stopped");
	domains_members_stopped();
	stop_kind(KIND_MCP, STOP_PARALLEL, mcp_stopped);
}

/* In-flight turns are done (or the drain timed out): stop the members. */
static void
drain_done(void)
{
	D->draining = 0;
	ev_timer_stop(D->loop, &D->drain_timer);
	D->drained = D->drain_inflight - domains_inflight();
	if (D->drained < 0)
		D->drained = 0;
	D->drain_ms = mono_ms() - D->drain_ms;
	stage("drained");
	stop_kind(KIND_MEMBER, STOP_PARALLEL, members_stopped);
}

/* drain_timeout_ms is over with turns still running. */
static void
drain_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	log_warnx("drain: %d turn(s) still running after %lld ms",
	    domains_inflight(), (long long)D->cfg->drain_timeout_ms);
	D->drain_timed_out = 1;
	drain_done();
}

/* A turn ended or a worker died while draining. */
void
shutdown_drain_check(void)
{
	if (D->draining && domains_inflight() == 0)
		drain_done();
}

static const char *shutdown_why;

/* Ordered shutdown, exiting with code, for another reason than a spent
 * restart budget (said in the log). */
void
daemon_shutdown_because(int code, const char *why)
{
	shutdown_why = why;
	daemon_shutdown(code);
}

/* Ordered shutdown (SPEC section 6); the loop ends when it is done. */
void
daemon_shutdown(int code)
{
	struct child *c;
	struct stopper *s, *t;

	if (D->shutting_down) {
		if (code > D->exit_code)
			D->exit_code = code;
		return;
	}
	if (shutdown_why != NULL)
		log_info("shutting down (%s)", shutdown_why);
	else
		log_info("shutting down%s", code ? " (restart budget spent)" :
		    "");
	D->shutting_down = 1;
	D->exit_code = code;
	D->shutdown_began = mono_ms();
	sd_notify_stopping();
	stage("shutdown_requested");
	/* group operations in flight are abandoned */
	TAILQ_FOREACH_SAFE(s, &D->stoppers, entry, t) {
		ev_timer_stop(D->loop, &s->delay);
		stopper_free(s);
	}
	TAILQ_FOREACH(c, &D->children, entry) {
		c->want_run = 0;
		c->held = 0;
		if (c->timer_kind == CT_BACKOFF)
			timer_cancel(c);
	}
	stage("inputs_refused");
	D->drain_inflight = domains_inflight();
	D->drain_ms = mono_ms();
	if (D->drain_inflight > 0) {
		log_info("draining %d turn(s) in flight (up to %lld ms)",
		    D->drain_inflight, (long long)D->cfg->drain_timeout_ms);
		D->draining = 1;
		ev_timer_init(&D->drain_timer, drain_timeout_cb,
		    (double)D->cfg->drain_timeout_ms / 1000.0, 0.);
		ev_timer_start(D->loop, &D->drain_timer);
		return;
	}
	drain_done();
}

