/*
 * mcp.c: MCP servers in the tree ([mcp NAME], run by mobkit-mcp) as the
 * root sees them: each server's tools, and a thin, bounded relay of tool
 * calls from members (and the call verb) to the bridge and back.
 *
 * Invariants: a call is in the pending table from the moment it is
 * accepted until it is answered exactly once: by the server's result, by
 * its deadline (the server's call_timeout_ms, or less if the caller asked),
 * by the server exiting while it was in flight ("mcp server NAME exited"),
 * or at once when the server is down for good.  A call to a server that is
 * starting or restarting waits for it within that deadline.  At most
 * CALLS_PER_SERVER calls per server are pending; beyond, a call is refused
 * with a tool error.  The tools of a server outlive its restarts: a
 * member's tools change only when a server lists different ones.
 */
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "mpack.h"
#include "msgtab.h"
#include "proto.h"
#include "tojson.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/kind.h"
#include "client.h"
#include "mob/mailbox.h"
#include "mob/mcp.h"
#include "mob/members.h"
#include "verbs.h"

#define CALLS_PER_SERVER	64

struct msrv {
	TAILQ_ENTRY(msrv)	 entry;
	char			*name;
	char			*tools;		/* JSON array text */
	json_t			*list;		/* the same, parsed */
	int			 pending;
};

struct pcall {
	TAILQ_ENTRY(pcall)	 entry;
	uint64_t		 id;		/* ours, to the bridge */
	char			 server[72];
	char			 tool[256];
	char			 member[72];	/* "" for a control client */
	char			 wcall[128];	/* the worker's call_id */
	uint64_t		 cid;		/* the control client */
	char			*args;
	int64_t			 timeout_ms;
	int			 sent;
	ev_timer		 deadline;
};

static TAILQ_HEAD(, msrv) servers = TAILQ_HEAD_INITIALIZER(servers);
static TAILQ_HEAD(, pcall) calls = TAILQ_HEAD_INITIALIZER(calls);
static uint64_t		 next_id = 1;

static struct msrv *
srv_find(const char *name)
{
	struct msrv *s;

	TAILQ_FOREACH(s, &servers, entry)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static struct msrv *
srv_get(const char *name)
{
	struct msrv *s = srv_find(name);

	if (s != NULL)
		return s;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->name = strdup(name)) == NULL)
		fatal("calloc");
	TAILQ_INSERT_TAIL(&servers, s, entry);
	return s;
}

/* The [mcp] child of that name, or NULL. */
static struct child *
srv_child(const char *name)
{
	struct child *c = child_find(name);

	return c != NULL && c->conf->kind == KIND_MCP && !c->removing ? c :
	    NULL;
}

/* --- answering a call ------------------------------------------------ */

/* Queue w to a member's worker: 0, or -1 (w freed) when it is not there. */
static int
worker_send(struct child *c, struct msgw *w)
{
	if (c == NULL || c->peer == NULL) {
		msgw_free(w);
		return -1;
	}
	return msgw_send(w, c->peer, 0);
}

/* The control client's reply: {"content": [..], "is_error": B}. */
static void
reply_client(uint64_t cid, const char *content, int is_error)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	json_t *v = json_loads(content, 0, NULL);

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_str(&pk, "content");
	if (json_is_array(v))
		json_to_mp(&pk, v);
	else
		msgpack_pack_array(&pk, 0);
	mp_kbool(&pk, "is_error", is_error);
	reply_ok_packed(cid, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	json_decref(v);
}

/* Forget a call (answered, or no longer waited for). */
static void
call_drop(struct pcall *k)
{
	struct msrv *s = srv_find(k->server);

	ev_timer_stop(D->loop, &k->deadline);
	TAILQ_REMOVE(&calls, k, entry);
	if (s != NULL)
		s->pending--;
	free(k->args);
	free(k);
}

/* Give the caller its answer and forget the call. */
static void
call_answer(struct pcall *k, const char *content, int is_error)
{
	struct child *m;
	struct msgw w;

	if (k->member[0] == '\0')
		reply_client(k->cid, content, is_error);
	else if ((m = child_find(k->member)) != NULL) {
		msgw_begin(&w, MSG_MCP_RESULT);
		msgw_str(&w, K_CALL_ID, k->wcall);
		msgw_str(&w, K_CONTENT, content);
		msgw_bool(&w, K_IS_ERROR, is_error);
		if (worker_send(m, &w) == -1)
			log_warnx("%s: the result of %s/%s was not delivered",
			    k->member, k->server, k->tool);
	}
	call_drop(k);
}

/* Answer with a tool error of this text. */
static void
call_fail(struct pcall *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
call_fail(struct pcall *k, const char *fmt, ...)
{
	char msg[512], *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s = json_text_blocks(msg);
	call_answer(k, s, 1);
	free(s);
}

/* Tell the bridge the call is off (it sends notifications/cancelled). */
static void
call_cancel_sent(struct pcall *k)
{
	struct child *c = srv_child(k->server);
	struct msgw w;
	char id[24];

	if (!k->sent || c == NULL || c->peer == NULL)
		return;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)k->id);
	msgw_begin(&w, MSG_MCP_CANCEL);
	msgw_str(&w, K_CALL_ID, id);
	(void)msgw_send(&w, c->peer, 0);
}

static void
call_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pcall *k = w->data;

	(void)loop;
	(void)revents;
	call_cancel_sent(k);
	call_fail(k, "mcp server %s: %s did not answer within %lld ms",
	    k->server, k->tool, (long long)k->timeout_ms);
}

/* Send a call to its bridge if that is healthy. */
static void
call_send(struct pcall *k)
{
	struct child *c = srv_child(k->server);
	struct msgw w;
	char id[24];

	if (k->sent || c == NULL || c->peer == NULL || c->state != CS_HEALTHY)
		return;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)k->id);
	msgw_begin(&w, MSG_MCP_CALL);
	msgw_str(&w, K_CALL_ID, id);
	msgw_str(&w, K_SERVER, k->server);
	msgw_str(&w, K_NAME, k->tool);
	msgw_str(&w, K_ARGS, k->args);
	msgw_int(&w, K_TIMEOUT_MS, k->timeout_ms);
	if (msgw_send(&w, c->peer, 0) == 0)
		k->sent = 1;
	else
		call_fail(k, "mcp server %s: its queue is full", k->server);
}

/*
 * Why a call to this server cannot wait for it, or NULL when it is up or
 * will be (starting, restarting, in its backoff).
 */
static const char *
srv_down_why(const struct child *c)
{
	if (c == NULL)
		return "is not configured";
	if (D->shutting_down)
		return "is stopping (mobkitd shuts down)";
	switch (c->state) {
	case CS_HEALTHY:
	case CS_STARTING:
	case CS_RESTARTING:
		return NULL;
	case CS_EXHAUSTED:
		return "is down: its restart budget is spent";
	case CS_FAILED:
		return c->timer_kind == CT_BACKOFF || c->held ? NULL :
		    "is down (failed, not restarted)";
	default:
		return c->want_run ? NULL : "is stopped";
	}
}

/*
 * A new call: answered at once when it cannot be made, else pending.
 * args is JSON text; timeout_ms 0 means the server's call_timeout_ms.
 */
static void
call_new(const char *member, const char *wcall, uint64_t cid,
    const char *server, const char *tool, const char *args,
    int64_t timeout_ms)
{
	struct child *c = srv_child(server);
	struct msrv *s = srv_get(server);
	struct pcall *k;
	const char *why;

	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->args = strdup(args)) == NULL)
		fatal("calloc");
	k->id = next_id++;
	snprintf(k->server, sizeof(k->server), "%s", server);
	snprintf(k->tool, sizeof(k->tool), "%s", tool);
	snprintf(k->member, sizeof(k->member), "%s", member ? member : "");
	snprintf(k->wcall, sizeof(k->wcall), "%s", wcall ? wcall : "");
	k->cid = cid;
	k->timeout_ms = c != NULL ? c->conf->call_timeout_ms : 60000;
	if (timeout_ms > 0 && timeout_ms < k->timeout_ms)
		k->timeout_ms = timeout_ms;
	ev_timer_init(&k->deadline, call_deadline,
	    (double)k->timeout_ms / 1000.0, 0.);
	k->deadline.data = k;
	TAILQ_INSERT_TAIL(&calls, k, entry);
	s->pending++;
	if ((why = srv_down_why(c)) != NULL)
		call_fail(k, "mcp server %s %s", server, why);
	else if (s->pending > CALLS_PER_SERVER)
		call_fail(k, "mcp server %s: %d calls are in flight already",
		    server, CALLS_PER_SERVER);
	else {
		ev_timer_start(D->loop, &k->deadline);
		call_send(k);
	}
}

/* --- the tools of a member ------------------------------------------- */

/* Does a profile's tools entry allow server/tool? */
static int
entry_allows(const char *e, const char *server, const char *tool)
{
	size_t n = strlen(server);

	if (strncmp(e, server, n) != 0)
		return 0;
	return e[n] == '\0' || (e[n] == '/' && strcmp(e + n + 1, tool) == 0);
}

static int
profile_allows(const struct profile_conf *p, const char *server,
    const char *tool)
{
	int i;

	for (i = 0; p != NULL && i < p->tools.n; i++)
		if (entry_allows(p->tools.v[i], server, tool))
			return 1;
	return 0;
}

/* Does the profile name this server at all? */
static int
profile_names(const struct profile_conf *p, const char *server)
{
	size_t n = strlen(server);
	int i;

	for (i = 0; p != NULL && i < p->tools.n; i++)
		if (strncmp(p->tools.v[i], server, n) == 0 &&
		    (p->tools.v[i][n] == '\0' || p->tools.v[i][n] == '/'))
			return 1;
	return 0;
}

static const struct profile_conf *
member_profile(const struct child *c)
{
	return c != NULL && c->mbox != NULL ? config_profile(D->cfg,
	    c->mbox->profile) : NULL;
}

/* The MCP tools a profile allows (NULL: every tool), a new JSON array. */
static json_t *
tools_for(const struct profile_conf *p)
{
	json_t *a = json_array(), *t;
	struct child *c;
	struct msrv *s;
	size_t i;

	TAILQ_FOREACH(c, &D->children, entry) {	/* in config order */
		if (c->conf->kind != KIND_MCP || c->removing ||
		    (s = srv_find(c->name)) == NULL ||
		    (p != NULL && !profile_names(p, s->name)))
			continue;
		json_array_foreach(s->list, i, t)
			if (p == NULL || profile_allows(p, s->name,
			    json_string_value(json_object_get(t, "name"))))
				json_array_append(a, t);
	}
	return a;
}

/* The tools text for a member's CONFIG (mailbox.c): malloc'd, or NULL. */
char *
mcp_member_tools(struct child *c)
{
	const struct profile_conf *p = member_profile(c);
	json_t *a;
	char *s;

	if (p == NULL || p->tools.n == 0)
		return NULL;
	a = tools_for(p);
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/* Send a member its tools now ("[]" when it has none). */
static void
tools_send(struct child *c)
{
	struct msgw w;
	char *s;

	s = mcp_member_tools(c);
	msgw_begin(&w, MSG_TOOLS);
	msgw_str(&w, K_TOOLS, s != NULL ? s : "[]");
	if (worker_send(c, &w) == -1)
		log_warnx("%s: its new tools were not sent", c->name);
	free(s);
}

/*
 * Send TOOLS to every member whose profile names this server, or (server
 * NULL, at reload) to every member.
 */
static void
tools_push(const char *server)
{
	struct child *c;

	TAILQ_FOREACH(c, &D->children, entry)
		if (c->mbox != NULL && c->peer != NULL && c->hello &&
		    (server == NULL || profile_names(member_profile(c),
		    server)))
			tools_send(c);
}

/* --- messages -------------------------------------------------------- */

/* MCP_LIST: the server's tools, after READY and on list_changed. */
static int
on_list(struct child *c, const struct msg_view *m)
{
	struct msrv *s = srv_get(c->name);
	char *t = msgv_strdup(m, K_TOOLS);
	json_t *v = t != NULL ? json_loads(t, 0, NULL) : NULL;
	struct evb e;

	if (!json_is_array(v)) {
		json_decref(v);
		free(t);
		return -1;
	}
	if (s->tools != NULL && strcmp(s->tools, t) == 0) {
		json_decref(v);
		free(t);
		return 0;
	}
	free(s->tools);
	json_decref(s->list);
	s->tools = t;
	s->list = v;
	evb_begin(&e, 2);
	mp_kstr(&e.pk, "server", c->name);
	mp_kint(&e.pk, "tools", (int64_t)json_array_size(v));
	evb_emit(&e, "module", c->name, "mcp.tools_changed");
	tools_push(c->name);
	return 0;
}

/* MCP_RESULT from a bridge: to the caller, if it still waits. */
static int
on_result(struct child *c, const struct msg_view *m)
{
	char id[128], *content;
	struct pcall *k;

	(void)msgv_copy(m, K_CALL_ID, id, sizeof(id));
	TAILQ_FOREACH(k, &calls, entry)
		if (k->sent && strcmp(k->server, c->name) == 0 &&
		    strtoull(id, NULL, 10) == k->id)
			break;
	if (k == NULL)
		return 0;	/* timed out or cancelled meanwhile */
	content = msgv_strdup(m, K_CONTENT);
	call_answer(k, content ? content : "[]", msgv_bool(m, K_IS_ERROR, 0));
	free(content);
	return 0;
}

/* The server a member means: given, or the first of its own with tool. */
static const char *
server_of(const struct profile_conf *p, const char *given, const char *tool)
{
	struct msrv *s;
	json_t *t;
	size_t i;

	if (given != NULL)
		return given;
	TAILQ_FOREACH(s, &servers, entry)
		json_array_foreach(s->list, i, t)
			if (strcmp(json_string_value(json_object_get(t,
			    "name")), tool) == 0 && profile_allows(p, s->name,
			    tool))
				return s->name;
	return NULL;
}

/* MCP_CALL from a member. */
static int
on_member_call(struct child *c, const struct msg_view *m)
{
	const struct profile_conf *p = member_profile(c);
	char wcall[128], tool[256], given[128], *args, *s;
	const char *server;
	struct msgw w;

	(void)msgv_copy(m, K_CALL_ID, wcall, sizeof(wcall));
	(void)msgv_copy(m, K_NAME, tool, sizeof(tool));
	server = msgv_has(m, K_SERVER) && msgv_copy(m, K_SERVER, given,
	    sizeof(given)) == 0 ? given : NULL;
	server = server_of(p, server, tool);
	if (server == NULL || !profile_allows(p, server, tool)) {
		s = json_text_blocks("this tool is not among the member's tools");
		msgw_begin(&w, MSG_MCP_RESULT);
		msgw_str(&w, K_CALL_ID, wcall);
		msgw_str(&w, K_CONTENT, s);
		msgw_bool(&w, K_IS_ERROR, 1);
		(void)worker_send(c, &w);
		free(s);
		return 0;
	}
	args = msgv_strdup(m, K_ARGS);
	call_new(c->name, wcall, 0, server, tool, args ? args : "{}",
	    msgv_int(m, K_TIMEOUT_MS, 0));
	free(args);
	return 0;
}

/* MCP_CANCEL from a member: the turn no longer waits. */
static int
on_member_cancel(struct child *c, const struct msg_view *m)
{
	struct pcall *k;
	char wcall[128];

	(void)msgv_copy(m, K_CALL_ID, wcall, sizeof(wcall));
	TAILQ_FOREACH(k, &calls, entry)
		if (strcmp(k->member, c->name) == 0 &&
		    strcmp(k->wcall, wcall) == 0)
			break;
	if (k == NULL)
		return 0;
	call_cancel_sent(k);
	call_drop(k);
	return 0;
}

static int
on_member_msg(struct child *c, int type, const struct msg_view *m)
{
	if (c->mbox == NULL)
		return -1;
	return type == MSG_MCP_CALL ? on_member_call(c, m) :
	    on_member_cancel(c, m);
}

static int
on_bridge_msg(struct child *c, int type, const struct msg_view *m)
{
	return type == MSG_MCP_LIST ? on_list(c, m) : on_result(c, m);
}

/* --- the life of a server -------------------------------------------- */

/* Healthy: the calls that waited for it go. */
static void
mcp_ready(struct child *c)
{
	struct pcall *k, *t;

	TAILQ_FOREACH_SAFE(k, &calls, entry, t)
		if (strcmp(k->server, c->name) == 0)
			call_send(k);
}

/*
 * Once the engine has settled a server's exit: the calls waiting for a
 * server that will not come back (stopped, out of restarts) fail now.
 */
static void
settle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pcall *k, *t;
	const char *why;

	(void)loop;
	(void)w;
	(void)revents;
	TAILQ_FOREACH_SAFE(k, &calls, entry, t)
		if (!k->sent && (why = srv_down_why(srv_child(k->server))) !=
		    NULL)
			call_fail(k, "mcp server %s %s", k->server, why);
}

static ev_timer	 settle;

/* Its process is gone: the calls in flight fail; the others wait. */
static void
mcp_gone(struct child *c)
{
	struct pcall *k, *t;

	TAILQ_FOREACH_SAFE(k, &calls, entry, t)
		if (k->sent && strcmp(k->server, c->name) == 0)
			call_fail(k, "mcp server %s exited", c->name);
	if (!ev_is_active(&settle)) {
		ev_timer_init(&settle, settle_cb, 0., 0.);
		ev_timer_start(D->loop, &settle);
	}
}

/* Reload removed it: its calls fail, its tools go. */
static void
mcp_removing(struct child *c)
{
	struct msrv *s = srv_find(c->name);
	struct pcall *k, *t;

	TAILQ_FOREACH_SAFE(k, &calls, entry, t)
		if (strcmp(k->server, c->name) == 0)
			call_fail(k, "mcp server %s was removed", c->name);
	if (s == NULL)
		return;
	TAILQ_REMOVE(&servers, s, entry);
	tools_push(c->name);
	free(s->name);
	free(s->tools);
	json_decref(s->list);
	free(s);
}

/* A member's process is gone: its calls are cancelled. */
void
mcp_member_gone(struct child *c)
{
	struct pcall *k, *t;

	TAILQ_FOREACH_SAFE(k, &calls, entry, t)
		if (strcmp(k->member, c->name) == 0) {
			call_cancel_sent(k);
			call_drop(k);
		}
}

/* Reload: profiles may name other tools now. */
static void
mcp_configure(struct config *cfg, int reload)
{
	(void)cfg;
	if (reload)
		tools_push(NULL);
}

static const struct kind_ops mcp_ops = {
	.ready = mcp_ready,
	.gone = mcp_gone,
	.removing = mcp_removing,
};

static const struct domain_ops mcp_domain = {
	.name = "mcp",
	.configure = mcp_configure,
};

void
mcp_register(void)
{
	kind_register(KIND_MCP, &mcp_ops);
	msg_register(MSG_MCP_CALL, MSG_MCP_CANCEL, on_member_msg,
	    "malformed MCP_CALL or MCP_CANCEL",
	    (struct msg_sender){ KIND_MEMBER, NULL });
	msg_register(MSG_MCP_LIST, MSG_MCP_RESULT, on_bridge_msg,
	    "malformed MCP_LIST or MCP_RESULT",
	    (struct msg_sender){ KIND_MCP, NULL });
	domain_register(&mcp_domain);
}


/* --- verbs ----------------------------------------------------------- */

/* Does this member have a wired peer (send_message is offered)? */
static int
has_wired_peer(const struct child *c)
{
	struct child *o;

	TAILQ_FOREACH(o, &D->children, entry)
		if (o != c && o->mbox != NULL && !o->removing &&
		    peers_wired(c->name, o->name))
			return 1;
	return 0;
}

/* send_message, as tools lists it (server null: it is the mob's). */
static json_t *
send_message_tool(void)
{
	return json_pack("{s:n,s:s,s:s,s:{s:s,s:{s:{s:s},s:{s:s}},s:[s,s]}}",
	    "server", "name", "send_message", "description",
	    "Send a message to a wired peer of this mob.", "input_schema",
	    "type", "object", "properties", "to", "type", "string", "text",
	    "type", "string", "required", "to", "text");
}

/* tools [MEMBER]: every server's tools, or what a member may call. */
static int
v_tools(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	const struct profile_conf *p;
	const char *id = a->name.name;
	struct child *c = NULL;
	json_t *all;

	(void)cl;
	if (id != NULL && ((c = child_find(id)) == NULL || c->mbox == NULL))
		return ctl_fail("no member \"%s\"", id);
	if (c != NULL) {
		p = member_profile(c);
		all = p != NULL ? tools_for(p) : json_array();
		if (c->mbox->comms && has_wired_peer(c))
			json_array_insert_new(all, 0, send_message_tool());
	} else
		all = tools_for(NULL);
	json_to_mp(pk, all);
	json_decref(all);
	return 0;
}

/* call SERVER TOOL [--args JSON]: answered when the server answers. */
static int
v_call(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	const struct ctl_call_args *ca = &a->call;
	json_t *v;

	(void)pk;
	if (srv_child(ca->server) == NULL)
		return ctl_fail("no [mcp %s] is configured", ca->server);
	if (ca->args != NULL) {
		v = json_loads(ca->args, 0, NULL);
		if (!json_is_object(v)) {
			json_decref(v);
			return ctl_fail("--args: not a JSON object: %s",
			    ca->args);
		}
		json_decref(v);
	}
	call_new(NULL, NULL, client_id(cl), ca->server, ca->tool,
	    ca->args != NULL ? ca->args : "{}", 0);
	return 1;
}

static const struct ctl_handler mcp_verbs[] = {
	{ "tools", v_tools },
	{ "call", v_call },
};
CTL_VERBS(mcp_verbs)
