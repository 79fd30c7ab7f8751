/*
 * echo.c: the offline provider, deterministic, for tests and demos.
 *
 *   TEXT                       "echo (turn N): TEXT"
 *   @PEER TEXT                 send_message(to=PEER, text=TEXT), then
 *                              "sent: RESULT"
 *   /call SERVER TOOL [JSON]   the MCP tool TOOL of SERVER with the
 *                              arguments JSON (default {}), then
 *                              "called SERVER/TOOL: RESULT"
 *
 * Calls and results go into the conversation as a model's would, with
 * the agent.tool_call and agent.tool_result events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "wire.h"
#include "worker.h"

/* The turn's number: the user messages so far, this one included. */
static size_t
turn_number(void)
{
	return W.nuser + 1;
}

/* "@peer text": a send_message call; 0 when the text is one. */
static int
echo_send(struct turn *t)
{
	const char *sp = strchr(t->text, ' ');
	struct toolcall *c;
	char *to;
	json_t *a;

	if (t->text[0] != '@' || sp == NULL || sp == t->text + 1)
		return -1;
	to = strndup(t->text + 1, (size_t)(sp - t->text - 1));
	c = turn_call(t, 0, NULL, "send_message");
	c->kind = CALL_SEND;
	a = json_pack("{s:s,s:s}", "to", to, "text", sp + 1);
	c->args = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	free(to);
	return 0;
}

/* "/call SERVER TOOL [JSON]": an MCP call; 0 when the text is one. */
static int
echo_mcp(struct turn *t)
{
	char server[128], tool[256], fname[FNAME_MAX + 1];
	struct toolcall *c;
	const char *args;
	int n = 0;

	if (strncmp(t->text, "/call ", 6) != 0 ||
	    sscanf(t->text + 6, "%127s %255s %n", server, tool, &n) < 2)
		return -1;
	args = n > 0 ? t->text + 6 + n : "";
	tool_fname(server, tool, fname, sizeof(fname));
	c = turn_call(t, 0, NULL, fname);
	c->kind = CALL_MCP;
	c->server = strdup(server);
	c->tool = strdup(tool);
	c->args = strdup(*args ? args : "{}");
	return 0;
}

/* A reply built from the input; a call first when it asks for one. */
void
echo_turn(struct turn *t)
{
	json_array_append_new(t->added, json_pack("{s:s,s:s}", "role", "user",
	    "content", t->text));
	if (echo_send(t) == 0 || echo_mcp(t) == 0) {
		turn_run_calls(t);	/* echo_resume follows the results */
		return;
	}
	echo_resume(t);
}

/* The calls have their results (or there were none): the reply. */
void
echo_resume(struct turn *t)
{
	struct toolcall *c = t->ncalls > 0 ? &t->calls[0] : NULL;
	char head[320];

	if (c != NULL && c->kind == CALL_SEND)
		snprintf(head, sizeof(head), "sent: ");
	else if (c != NULL)
		snprintf(head, sizeof(head), "called %s/%s: ", c->server,
		    c->tool);
	else
		snprintf(head, sizeof(head), "echo (turn %zu): ",
		    turn_number());
	t->round_off = t->outlen;
	if (c == NULL) {
		/* one delta: echo has nothing to stream */
		turn_append(&t->out, &t->outlen, head, strlen(head));
		turn_delta(t, t->text, strlen(t->text));
	} else {
		turn_delta(t, head, strlen(head));
		turn_delta(t, c->result ? c->result : "", c->result ?
		    strlen(c->result) : 0);
	}
	json_array_append_new(t->added, json_pack("{s:s,s:s}", "role",
	    "assistant", "content", t->out + t->round_off));
	turn_finish(t, "completed", NULL, 0, -1);
}
