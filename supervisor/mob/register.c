/*
 * register.c: what the mob's domains tell the engine at start-up: the
 * operations of each kind of child (members have a mailbox, modules take
 * calls, routes, schedules and deliveries), the message types each domain
 * handles, and the hooks of the daemon's life (engine/kind.h).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto.h"
#include "engine/engine.h"
#include "engine/kind.h"
#include "mob/deliveries.h"
#include "mob/discover.h"
#include "mob/mailbox.h"
#include "mob/mcp.h"
#include "mob/members.h"
#include "mob/modules.h"
#include "mob/persist.h"
#include "mob/register.h"
#include "mob/schedules.h"
#include "store.h"
#include "cluster.h"

/* --- members: a mailbox each -------------------------------------- */

/* A member gets its mailbox when it enters the table. */
static void
member_created(struct child *c)
{
	c->mbox = mbox_new(c->name, config_profile(D->cfg, c->conf->profile));
	c->mbox->child = c;
	if (cluster_enabled()) {	/* (a reload, a spawn) */
		c->remote = 1;		/* until this node takes it */
		c->want_run = 0;
	}
}

static void
member_freed(struct child *c)
{
	mbox_free(c->mbox);
}

/* A member going away takes its roster route with it (and in a cluster
 * lets its lease go). */
static void
member_removing(struct child *c)
{
	cluster_member_removed(c->name);
	routes_push();
}

/* Reload dropped it from the INI: retire it (its queue drains first). */
static int
member_unlisted(struct child *c)
{
	if (c->dynamic || c->mbox->retiring)
		return 0;
	(void)member_retire(c);
	return 1;
}

/* Reload: the mailbox takes its (new) profile's limits. */
static void
member_reconfigured(struct child *c, struct config *ncfg)
{
	if (c->conf->profile != NULL)
		mbox_set_profile(c->mbox, config_profile(ncfg,
		    c->next_conf ? c->next_conf->profile : c->conf->profile));
}

/* The profile whose api_key_env a member gets. */
static const char *
member_profile(struct child *c)
{
	return c->mbox->profile;
}

/* A worker is gone: its mailbox takes the turn back, its tool calls end. */
static void
member_gone(struct child *c)
{
	mbox_worker_gone(c);
	mcp_member_gone(c);
}

static const struct kind_ops member_ops = {
	.created = member_created,
	.hello = mbox_worker_hello,
	.ready = mbox_kick,
	.gone = member_gone,
	.removing = member_removing,
	.freed = member_freed,
	.unlisted = member_unlisted,
	.reconfigured = member_reconfigured,
	.profile = member_profile,
};

/* The well-known modules, known by their configured names. */
static const char *const well_known[] = { "router", "delivery", "scheduler" };

/* A module's role in logs and events: its name if well known. */
static const char *
module_role(const struct child *c)
{
	size_t i;

	for (i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++)
		if (strcmp(c->name, well_known[i]) == 0)
			return well_known[i];
	return "module";
}

static const struct kind_ops module_ops = {
	.hello = module_hello,
	.ready = module_ready,
	.gone = module_gone,
	.role = module_role,
};

/* --- messages from children --------------------------------------- */

/* MOD_RESULT: the result of a call to a module. */
static int
on_mod_result(struct child *c, int type, const struct msg_view *m)
{
	(void)type;
	return module_result(c, m);
}

/* FIRE: a schedule is due. */
static int
on_fire(struct child *c, int type, const struct msg_view *m)
{
	(void)type;
	return schedule_fire_msg(c, m);
}

/* ATTEMPT: an attempt of a delivery. */
static int
on_attempt(struct child *c, int type, const struct msg_view *m)
{
	(void)type;
	return delivery_attempt_msg(c, m);
}

/* --- the daemon's life -------------------------------------------- */

/* Who may talk to whom, from the config. */
static void
members_configure(struct config *cfg, int reload)
{
	(void)reload;
	peers_from_config(cfg);
}

/* The route table from the config (and the roster). */
static void
routes_configure(struct config *cfg, int reload)
{
	(void)reload;
	routes_from_config(cfg);
}

/* At reload the scheduler gets the schedules again. */
static void
schedules_configure(struct config *cfg, int reload)
{
	(void)cfg;
	if (reload)
		schedules_push();
}

/* At start-up, once every child is in the table: load what was saved. */
static void
store_configure(struct config *cfg, int reload)
{
	if (!reload && store_load() == -1)
		fatalx("cannot load the store %s%s", cfg->store != NULL ?
		    "of " : "in ", cfg->store != NULL ? cfg->path :
		    cfg->state_dir);
	if (!reload && cluster_start() == -1)
		fatalx("cannot join the cluster of %s", cfg->path);
	if (reload)
		cluster_configure(cfg, 1);
}

/* The store cannot write, or the cluster's lease cannot be proven: the
 * daemon is degraded. */
static int
store_degraded(void)
{
	return store_failure() != NULL || cluster_degraded();
}

static const struct domain_ops mob_domains[] = {
	{ .name = "members", .configure = members_configure,
	    .inflight = mbox_running_total,
	    .members_stopped = waiters_terminate_all },
	{ .name = "routes", .configure = routes_configure },
	{ .name = "schedules", .configure = schedules_configure },
	{ .name = "store", .configure = store_configure,
	    .degraded = store_degraded },
};

/* Make the mob known to the engine: before tree_build. */
void
mob_register(void)
{
	size_t i;

	persist_register();
	kind_register(KIND_MEMBER, &member_ops);
	kind_register(KIND_MODULE, &module_ops);
	/* a member's turn ends, or it sends to a peer */
	msg_register(MSG_RUN_DONE, MSG_TOOL_SEND, mbox_msg,
	    "unexpected message type", (struct msg_sender){ KIND_MEMBER, NULL });
	/* matched to a call to that module */
	msg_register(MSG_MOD_RESULT, MSG_MOD_RESULT, on_mod_result,
	    "malformed MOD_RESULT", (struct msg_sender){ KIND_MODULE, NULL });
	msg_register(MSG_FIRE, MSG_FIRE, on_fire, "malformed FIRE",
	    (struct msg_sender){ KIND_MODULE, "scheduler" });
	msg_register(MSG_ATTEMPT, MSG_ATTEMPT, on_attempt,
	    "malformed ATTEMPT", (struct msg_sender){ KIND_MODULE, "delivery" });
	discover_register_early();	/* last boot's discovered members */
	for (i = 0; i < sizeof(mob_domains) / sizeof(mob_domains[0]); i++)
		domain_register(&mob_domains[i]);
	discover_register();	/* after the store: members find their history */
	mcp_register();
}
