/*
 * tools.c: the tool loop of a turn.  What a member may call is offered
 * only when there is something (send_message needs comms and a wired
 * peer; MCP tools come from mobkitd in CONFIG and TOOLS, offered as
 * SERVER__TOOL since a function name must match ^[a-zA-Z0-9_-]{1,64}$).
 * The model's calls go into the conversation, each runs through mobkitd
 * (TOOL_SEND, MCP_CALL) with tool_call and tool_result events, and once
 * every result is in, the turn asks the model again (turn.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto.h"
#include "wire.h"
#include "worker.h"

/*
 * What the member may call now, provider-neutral: [{name, description,
 * schema}]: send_message when it may message and has a wired peer, and
 * its MCP tools under names a function may have.
 */
json_t *
tools_offer(void)
{
	json_t *a = json_array(), *tl, *schema;
	char fname[FNAME_MAX + 1], *desc;
	size_t i;

	if (W.comms && W.npeers > 0) {
		if (asprintf(&desc, "Send a message to a wired peer of this "
		    "mob (%s).", W.peers) == -1)
			fatal("asprintf");
		json_array_append_new(a, json_pack("{s:s,s:s,s:{s:s,s:{s:{s:s},"
		    "s:{s:s}},s:[s,s]}}", "name", "send_message", "description",
		    desc, "schema", "type", "object", "properties", "to", "type",
		    "string", "text", "type", "string", "required", "to",
		    "text"));
		free(desc);
	}
	json_array_foreach(W.tools, i, tl) {
		const char *s = json_string_value(json_object_get(tl, "server"));
		const char *n = json_string_value(json_object_get(tl, "name"));
		const char *d = json_string_value(json_object_get(tl,
		    "description"));

		if (s == NULL || n == NULL)
			continue;
		tool_fname(s, n, fname, sizeof(fname));
		schema = json_object_get(tl, "input_schema");
		schema = json_is_object(schema) ? json_incref(schema) :
		    json_pack("{s:s,s:{}}", "type", "object", "properties");
		json_array_append_new(a, json_pack("{s:s,s:s,s:o}", "name",
		    fname, "description", d ? d : n, "schema", schema));
	}
	return a;
}

/* Which MCP tool a function name stands for: 0 with server/tool set. */
static int
mcp_lookup(struct toolcall *c)
{
	char fname[FNAME_MAX + 1];
	json_t *tl;
	size_t i;

	json_array_foreach(W.tools, i, tl) {
		const char *s = json_string_value(json_object_get(tl, "server"));
		const char *n = json_string_value(json_object_get(tl, "name"));

		if (s == NULL || n == NULL)
			continue;
		tool_fname(s, n, fname, sizeof(fname));
		if (strcmp(fname, c->name) == 0) {
			c->server = strdup(s);
			c->tool = strdup(n);
			c->kind = CALL_MCP;
			return 0;
		}
	}
	return -1;
}

/* Set a call's immediate (error) result. */
static void
call_error(struct toolcall *c, const char *fmt, const char *arg)
{
	free(c->result);
	if (asprintf(&c->result, fmt, arg) == -1)
		fatal("asprintf");
	c->is_error = 1;
}

/* send_message(to, text): a TOOL_SEND to mobkitd. */
static int
call_send(struct turn *t, struct toolcall *c)
{
	json_t *a = json_loads(c->args ? c->args : "", 0, NULL);
	const char *to = json_string_value(json_object_get(a, "to"));
	const char *text = json_string_value(json_object_get(a, "text"));
	struct msgw w;

	if (!W.comms)
		call_error(c, "error: messaging peers is off for this %s",
		    "profile");
	else if (to == NULL || text == NULL)
		call_error(c, "error: send_message needs \"to\" and %s",
		    "\"text\"");
	else if (strlen(to) > 127)
		call_error(c, "error: \"to\" is longer than %s bytes", "127");
	else {
		msgw_begin(&w, MSG_TOOL_SEND);
		msgw_str(&w, K_CALL_ID, c->wire);
		msgw_str(&w, K_TO, to);
		msgw_str(&w, K_TEXT, text);
		if (send_msg(&w) == 0) {
			c->pending = 1;
			t->waiting++;
		} else
			call_error(c, "error: the message could not be sent: "
			    "%s", strerror(errno));
	}
	json_decref(a);
	return 0;
}

/* An MCP tool: MCP_CALL to mobkitd, which relays it to the server. */
static int
call_mcp(struct turn *t, struct toolcall *c)
{
	struct msgw w;

	if (strlen(c->server) > 127 || strlen(c->tool) > 255) {
		call_error(c, "error: the tool's name is too long: %s",
		    c->tool);
		return 0;
	}
	msgw_begin(&w, MSG_MCP_CALL);
	msgw_str(&w, K_CALL_ID, c->wire);
	msgw_str(&w, K_SERVER, c->server);
	msgw_str(&w, K_NAME, c->tool);
	msgw_str(&w, K_ARGS, c->args && *c->args ? c->args : "{}");
	if (send_msg(&w) == 0) {
		c->pending = 1;
		t->waiting++;
	} else
		call_error(c, "error: the call could not be sent: %s",
		    strerror(errno));
	return 0;
}

/* Run one call: what it is, then through mobkitd (or an error now). */
int
tool_dispatch(struct turn *t, struct toolcall *c)
{
	if (c->name == NULL)
		c->name = strdup("");
	if (c->kind == CALL_BAD && strcmp(c->name, "send_message") == 0)
		c->kind = CALL_SEND;
	if (c->kind == CALL_BAD && mcp_lookup(c) == -1) {
		call_error(c, "error: no tool named \"%s\"", c->name);
		return 0;
	}
	return c->kind == CALL_SEND ? call_send(t, c) : call_mcp(t, c);
}

/* The tool_result event of a call that has its result. */
static void
result_event(struct toolcall *c)
{
	agent_event("agent.tool_result", json_pack("{s:s,s:b,s:s}", "call_id",
	    c->id, "is_error", c->is_error, "content", c->result ?
	    c->result : ""));
}

/* Every call has its result: into the conversation, then the next round. */
static void
round_done(struct turn *t)
{
	int i;

	for (i = 0; i < t->ncalls; i++)
		json_array_append_new(t->added, json_pack("{s:s,s:s,s:s}",
		    "role", "tool", "tool_call_id", t->calls[i].id, "content",
		    t->calls[i].result ? t->calls[i].result : ""));
	if (W.provider != NULL && (strcmp(W.provider, "openai") == 0 ||
	    strcmp(W.provider, "anthropic") == 0)) {
		for (i = 0; i < t->ncalls; i++)
			call_clear(&t->calls[i]);
		t->ncalls = 0;
		turn_request(t);
	} else
		echo_resume(t);
}

/* The model's calls: into the conversation, each run (events around). */
void
turn_run_calls(struct turn *t)
{
	json_t *calls = json_array();
	const char *text = t->out ? t->out + t->round_off : NULL;
	int i;

	for (i = 0; i < t->ncalls; i++) {
		struct toolcall *c = &t->calls[i];

		if (c->id == NULL)
			c->id = strdup(c->wire);
		json_array_append_new(calls, json_pack("{s:s,s:s,s:{s:s,s:s}}",
		    "id", c->id, "type", "function", "function", "name",
		    c->name ? c->name : "", "arguments", c->args && *c->args ?
		    c->args : "{}"));
	}
	json_array_append_new(t->added, json_pack("{s:s,s:o,s:o}", "role",
	    "assistant", "content", text && *text ? json_string(text) :
	    json_null(), "tool_calls", calls));
	t->rounds++;
	for (i = 0; i < t->ncalls; i++) {
		struct toolcall *c = &t->calls[i];
		json_t *args = json_loads(c->args && *c->args ? c->args : "{}",
		    0, NULL);

		agent_event("agent.tool_call", json_pack("{s:s,s:s,s:o}", "call_id",
		    c->id, "name", c->name ? c->name : "", "args", args ? args :
		    json_string(c->args)));
		tool_dispatch(t, c);
		if (!c->pending)
			result_event(c);
	}
	if (t->waiting == 0)
		round_done(t);
}

/* A result from mobkitd (TOOL_RESULT, MCP_RESULT) for call wire. */
void
turn_tool_result(struct turn *t, const char *wire, int ok, const char *text)
{
	int i;

	for (i = 0; i < t->ncalls; i++) {
		struct toolcall *c = &t->calls[i];

		if (!c->pending || strcmp(c->wire, wire) != 0)
			continue;
		c->pending = 0;
		t->waiting--;
		free(c->result);
		if (ok)
			c->result = strdup(text);
		else if (strncmp(text, "error", 5) == 0)
			c->result = strdup(text);
		else if (asprintf(&c->result, "error: %s", text) == -1)
			fatal("asprintf");
		c->is_error = !ok;
		result_event(c);
		/* the last result runs the turn on, never an unmatched one */
		if (t->waiting == 0)
			round_done(t);
		return;
	}
}

/* INTERRUPT: cancel outstanding MCP calls, then end the turn. */
void
turn_interrupt(struct turn *t)
{
	struct msgw w;
	int i;

	for (i = 0; i < t->ncalls; i++) {
		if (!t->calls[i].pending || t->calls[i].kind != CALL_MCP)
			continue;
		msgw_begin(&w, MSG_MCP_CANCEL);
		msgw_str(&w, K_CALL_ID, t->calls[i].wire);
		(void)send_msg(&w);
	}
	turn_finish(t, "interrupted", "interrupted", 0, -1);
}

