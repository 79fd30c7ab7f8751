/*
 * msgtab.c: the table of every message between mobkitd and its children
 * (and of the records inside them), and the spelling of every key.  The
 * reader (msgread.c) and the writer (msgwrite.c) go through these.
 *
 * Invariants: a key is spelt only in msg_keys; a message type has one
 * table; a field is required (MF_REQ) when every writer sends it, and
 * nil-able (MF_NIL) when "none" is sent as nil.  Passed through without a
 * table of their own: EVENT's payload, MOD_CALL's args and MOD_RESULT's
 * result (per verb; resolve's is the resolution record), CONFIG's peers.
 */
#include <stdint.h>

#include "msgtab.h"
#include "proto.h"

const struct msg_keyname msg_keys[K__N] = {
#define K(k, s)	[k] = { s, sizeof(s) - 1 }
	K(K_T, "t"), K(K_VERSION, "version"), K(K_NAME, "name"),
	K(K_PID, "pid"), K(K_SEQ, "seq"), K(K_EVENT_TYPE, "event_type"),
	K(K_PAYLOAD, "payload"), K(K_ID, "id"), K(K_MOB, "mob"),
	K(K_PROVIDER, "provider"), K(K_MODEL, "model"),
	K(K_BASE_URL, "base_url"), K(K_API_KEY, "api_key"),
	K(K_SYSTEM, "system"), K(K_INSTRUCTIONS, "instructions"),
	K(K_REQUEST_TIMEOUT_MS, "request_timeout_ms"), K(K_COMMS, "comms"),
	K(K_PEERS, "peers"), K(K_SNAPSHOT, "snapshot"),
	K(K_PROTOCOL, "protocol"), K(K_INPUT_ID, "input_id"),
	K(K_TEXT, "text"), K(K_ATTEMPT, "attempt"), K(K_STATUS, "status"),
	K(K_ERROR, "error"), K(K_MESSAGES, "messages"),
	K(K_CALL_ID, "call_id"), K(K_TO, "to"), K(K_OK, "ok"),
	K(K_VERB, "verb"), K(K_ARGS, "args"), K(K_RESULT, "result"),
	K(K_ROUTES, "routes"), K(K_RECIPIENT, "recipient"),
	K(K_CHANNEL, "channel"), K(K_SINK, "sink"), K(K_TARGET, "target"),
	K(K_RETRY_MAX, "retry_max"), K(K_BACKOFF_MS, "backoff_ms"),
	K(K_RATE_LIMIT, "rate_limit_per_minute"), K(K_SOURCE, "source"),
	K(K_NOW_MS, "now_ms"), K(K_SCHEDULES, "schedules"),
	K(K_KIND, "kind"), K(K_EXPR, "expr"), K(K_TIMEZONE, "timezone"),
	K(K_ENABLED, "enabled"), K(K_JITTER_MS, "jitter_ms"),
	K(K_CATCH_UP, "catch_up"), K(K_LAST_DUE_MS, "last_due_ms"),
	K(K_SCHEDULE_ID, "schedule_id"), K(K_DUE_MS, "due_ms"),
	K(K_DELIVERY_ID, "delivery_id"), K(K_KEY, "key"),
	K(K_ATTEMPTS_DONE, "attempts_done"), K(K_SMTP_URL, "smtp_url"),
	K(K_MAIL_FROM, "mail_from"), K(K_AT_MS, "at_ms"), K(K_FINAL, "final"),
	K(K_ROUTE_ID, "route_id"), K(K_ROUTE, "route"),
	K(K_TARGET_MODULE, "target_module"), K(K_PARAMS, "params"),
	K(K_TOOLS, "tools"), K(K_SERVER, "server"), K(K_CONTENT, "content"),
	K(K_IS_ERROR, "is_error"), K(K_TIMEOUT_MS, "timeout_ms"),
	K(K_INPUT_TOKENS, "input_tokens"), K(K_OUTPUT_TOKENS, "output_tokens"),
	K(K_RETRY_AFTER_MS, "retry_after_ms"),
#undef K
};

_Static_assert(K__N <= 128, "a field set is one msg_keyset");

/* --- the tables ---------------------------------------------------------- */

#define REQ	MF_REQ
#define OPT	0
#define NIL	MF_NIL
#define F(k, ty, fl)		{ k, ty, fl, 0, NULL }
#define FS(k, fl, max)		{ k, MF_STR, fl, max, NULL }
#define FR(k, ty, fl, rec)	{ k, ty, fl, 0, rec }
#define DEF(t, n, f)	{ t, n, f, (int)(sizeof(f) / sizeof(f[0])), 0, 0 }
#define NONE		{ 0, 0, 0, 0, NULL }	/* a message of "t" alone */

static const struct msg_field f_hello[] = {
	F(K_VERSION, MF_INT, REQ), FS(K_NAME, OPT, 0), F(K_PID, MF_INT, OPT),
};
static const struct msg_field f_none[] = { NONE };
static const struct msg_field f_event[] = {
	FS(K_EVENT_TYPE, REQ, 127), F(K_PAYLOAD, MF_MAP, OPT | NIL),
};
static const struct msg_field f_seq[] = { F(K_SEQ, MF_INT, REQ) };
static const struct msg_field f_config[] = {
	FS(K_ID, REQ, 0), FS(K_MOB, REQ, 0), FS(K_PROVIDER, REQ, 0),
	FS(K_MODEL, OPT | NIL, 0), FS(K_BASE_URL, OPT | NIL, 0),
	FS(K_API_KEY, OPT | NIL, 0), FS(K_SYSTEM, OPT | NIL, 0),
	FS(K_INSTRUCTIONS, OPT | NIL, 0),
	F(K_REQUEST_TIMEOUT_MS, MF_INT, OPT), F(K_COMMS, MF_BOOL, OPT),
	F(K_PEERS, MF_ARRAY, OPT), FS(K_SNAPSHOT, OPT | NIL, 0),
	F(K_PROTOCOL, MF_INT, OPT), FS(K_PARAMS, OPT | NIL, 0),
	FS(K_TOOLS, OPT | NIL, 0),
};
static const struct msg_field f_run[] = {
	FS(K_INPUT_ID, REQ, 63), FS(K_TEXT, REQ, 0),
	F(K_ATTEMPT, MF_INT, OPT),
};
static const struct msg_field f_interrupt[] = { FS(K_INPUT_ID, REQ, 63) };
static const struct msg_field f_run_done[] = {
	FS(K_INPUT_ID, REQ, 63), FS(K_STATUS, REQ, 15),
	FS(K_TEXT, OPT | NIL, 0), FS(K_ERROR, OPT | NIL, 0),
	FS(K_MESSAGES, OPT | NIL, 0), F(K_FINAL, MF_BOOL, OPT),
	F(K_INPUT_TOKENS, MF_INT, OPT), F(K_OUTPUT_TOKENS, MF_INT, OPT),
	F(K_RETRY_AFTER_MS, MF_INT, OPT),
};
static const struct msg_field f_tool_send[] = {
	FS(K_CALL_ID, REQ, 127), FS(K_TO, REQ, 127), FS(K_TEXT, REQ, 0),
};
static const struct msg_field f_tool_result[] = {
	FS(K_CALL_ID, REQ, 127), F(K_OK, MF_BOOL, REQ),
	FS(K_ERROR, OPT | NIL, 0), FS(K_INPUT_ID, OPT | NIL, 63),
};
static const struct msg_field f_tools[] = { FS(K_TOOLS, REQ, 0) };
static const struct msg_field f_mcp_call[] = {
	FS(K_CALL_ID, REQ, 127), FS(K_SERVER, OPT, 127), FS(K_NAME, REQ, 255),
	FS(K_ARGS, REQ, 0), F(K_TIMEOUT_MS, MF_INT, OPT),
};
static const struct msg_field f_mcp_cancel[] = { FS(K_CALL_ID, REQ, 127) };
static const struct msg_field f_mcp_result[] = {
	FS(K_CALL_ID, REQ, 127), FS(K_CONTENT, REQ, 0),
	F(K_IS_ERROR, MF_BOOL, REQ),
};
static const struct msg_field f_mod_call[] = {
	F(K_ID, MF_INT, REQ), FS(K_VERB, REQ, 31), F(K_ARGS, MF_MAP, REQ),
};
static const struct msg_field f_mod_result[] = {
	F(K_ID, MF_INT, REQ), F(K_OK, MF_BOOL, REQ), F(K_RESULT, MF_ANY, OPT),
	FS(K_ERROR, OPT | NIL, 0),
};
static const struct msg_field f_route[] = {
	FS(K_ID, REQ, 0), FS(K_RECIPIENT, REQ, 0), FS(K_CHANNEL, REQ, 0),
	FS(K_SINK, REQ, 0), FS(K_TARGET, REQ, 0), F(K_RETRY_MAX, MF_INT, REQ),
	F(K_BACKOFF_MS, MF_INT, REQ), F(K_RATE_LIMIT, MF_INT, REQ),
	FS(K_SOURCE, OPT, 0),
};
const struct msg_def msg_rec_route = DEF(0, "route", f_route);
static const struct msg_field f_resolution[] = {
	FS(K_ROUTE_ID, REQ, 0), FS(K_ROUTE, OPT | NIL, 0),
	FS(K_RECIPIENT, REQ, 0), FS(K_CHANNEL, REQ, 0), FS(K_SINK, REQ, 0),
	FS(K_TARGET, REQ, 0), FS(K_TARGET_MODULE, OPT, 0),
	F(K_RETRY_MAX, MF_INT, REQ), F(K_BACKOFF_MS, MF_INT, REQ),
	F(K_RATE_LIMIT, MF_INT, REQ),
};
const struct msg_def msg_rec_resolution = DEF(0, "resolution",
    f_resolution);
static const struct msg_field f_routes[] = {
	FR(K_ROUTES, MF_ARRAY, REQ, &msg_rec_route),
};
static const struct msg_field f_schedule[] = {
	FS(K_ID, REQ, 0), FS(K_KIND, REQ, 15), FS(K_EXPR, REQ, 255),
	FS(K_TIMEZONE, REQ, 63), F(K_ENABLED, MF_BOOL, OPT),
	F(K_JITTER_MS, MF_INT, OPT), F(K_CATCH_UP, MF_BOOL, OPT),
	F(K_LAST_DUE_MS, MF_INT, OPT | NIL),
};
const struct msg_def msg_rec_schedule = DEF(0, "schedule", f_schedule);
static const struct msg_field f_schedules[] = {
	F(K_NOW_MS, MF_INT, OPT),
	FR(K_SCHEDULES, MF_ARRAY, REQ, &msg_rec_schedule),
};
static const struct msg_field f_fire[] = {
	FS(K_SCHEDULE_ID, REQ, 127), F(K_DUE_MS, MF_INT, REQ),
};
static const struct msg_field f_fired[] = {
	FS(K_SCHEDULE_ID, REQ, 127), F(K_DUE_MS, MF_INT, REQ),
	FS(K_STATUS, REQ, 15),
};
static const struct msg_field f_deliver[] = {
	FS(K_DELIVERY_ID, REQ, 47), FS(K_SINK, REQ, 0), FS(K_TARGET, REQ, 0),
	FS(K_PAYLOAD, REQ, 0), FS(K_KEY, REQ, 0), F(K_RETRY_MAX, MF_INT, REQ),
	F(K_BACKOFF_MS, MF_INT, REQ), F(K_ATTEMPTS_DONE, MF_INT, OPT),
	FS(K_SMTP_URL, OPT | NIL, 0), FS(K_MAIL_FROM, OPT | NIL, 0),
};
static const struct msg_field f_attempt[] = {
	FS(K_DELIVERY_ID, REQ, 47), F(K_ATTEMPT, MF_INT, REQ),
	FS(K_STATUS, REQ, 15), FS(K_ERROR, OPT | NIL, 0),
	F(K_AT_MS, MF_INT, REQ), F(K_FINAL, MF_BOOL, OPT),
};

/* Mutable so that msg_init can fill keys and req from the fields. */
static struct msg_def defs[] = {
	DEF(MSG_HELLO, "HELLO", f_hello),
	{ MSG_READY, "READY", f_none, 0, 0, 0 },
	{ MSG_HEARTBEAT, "HEARTBEAT", f_none, 0, 0, 0 },
	{ MSG_STOP, "STOP", f_none, 0, 0, 0 },
	DEF(MSG_EVENT, "EVENT", f_event),
	DEF(MSG_PING, "PING", f_seq),
	DEF(MSG_PONG, "PONG", f_seq),
	DEF(MSG_CONFIG, "CONFIG", f_config),
	DEF(MSG_RUN, "RUN", f_run),
	DEF(MSG_INTERRUPT, "INTERRUPT", f_interrupt),
	{ MSG_RESET, "RESET", f_none, 0, 0, 0 },
	DEF(MSG_RUN_DONE, "RUN_DONE", f_run_done),
	DEF(MSG_TOOL_SEND, "TOOL_SEND", f_tool_send),
	DEF(MSG_TOOL_RESULT, "TOOL_RESULT", f_tool_result),
	DEF(MSG_MOD_CALL, "MOD_CALL", f_mod_call),
	DEF(MSG_MOD_RESULT, "MOD_RESULT", f_mod_result),
	DEF(MSG_ROUTES, "ROUTES", f_routes),
	DEF(MSG_SCHEDULES, "SCHEDULES", f_schedules),
	DEF(MSG_FIRE, "FIRE", f_fire),
	DEF(MSG_FIRED, "FIRED", f_fired),
	DEF(MSG_DELIVER, "DELIVER", f_deliver),
	DEF(MSG_ATTEMPT, "ATTEMPT", f_attempt),
	DEF(MSG_TOOLS, "TOOLS", f_tools),
	DEF(MSG_MCP_CALL, "MCP_CALL", f_mcp_call),
	DEF(MSG_MCP_CANCEL, "MCP_CANCEL", f_mcp_cancel),
	DEF(MSG_MCP_LIST, "MCP_LIST", f_tools),
	DEF(MSG_MCP_RESULT, "MCP_RESULT", f_mcp_result),
};
#define NDEFS	(sizeof(defs) / sizeof(defs[0]))

const struct msg_def *const msg_defs[NDEFS + 1] = {
	&defs[0], &defs[1], &defs[2], &defs[3], &defs[4], &defs[5], &defs[6],
	&defs[7], &defs[8], &defs[9], &defs[10], &defs[11], &defs[12],
	&defs[13], &defs[14], &defs[15], &defs[16], &defs[17], &defs[18],
	&defs[19], &defs[20], &defs[21], &defs[22], &defs[23], &defs[24],
	&defs[25], &defs[26], NULL
};
_Static_assert(NDEFS == 27, "msg_defs lists every table");

/* MSG_* (below 64) to its table. */
static const struct msg_def	*by_type[64];

/* The keys of a table and its required ones, as bits ("t" implied for a
 * message); computed for records on each use, as they are const. */
void
msg_def_keys(const struct msg_def *d, msg_keyset *keys, msg_keyset *req)
{
	int i;

	*keys = MSG_KBIT(K_T);
	*req = d->type != 0 ? MSG_KBIT(K_T) : 0;
	if (d->type == 0)
		*keys = 0;
	for (i = 0; i < d->nfields; i++) {
		*keys |= MSG_KBIT(d->fields[i].key);
		if (d->fields[i].flags & MF_REQ)
			*req |= MSG_KBIT(d->fields[i].key);
	}
}

/* Fill the key sets and the index by type, once. */
static void
msg_init(void)
{
	static int done;
	size_t i;

	if (done)
		return;
	for (i = 0; i < NDEFS; i++) {
		msg_def_keys(&defs[i], &defs[i].keys, &defs[i].req);
		by_type[defs[i].type] = &defs[i];
	}
	done = 1;
}

/* A key's spelling, for logs and tests. */
const char *
msg_key_name(int key)
{
	return key >= 0 && key < K__N ? msg_keys[key].s : "?";
}

/* The table of a message type, or NULL (the control types have none). */
const struct msg_def *
msg_def_of(int64_t type)
{
	msg_init();
	return type >= 0 && type < 64 ? by_type[type] : NULL;
}

const struct msg_field *
msg_field_of(const struct msg_def *d, int key)
{
	int i;

	for (i = 0; d != NULL && i < d->nfields; i++)
		if (d->fields[i].key == key)
			return &d->fields[i];
	return NULL;
}

/* The lowest key of a non-empty set. */
int
msg_keyset_first(msg_keyset s)
{
	uint64_t lo = (uint64_t)s;

	return lo != 0 ? __builtin_ctzll(lo) :
	    64 + __builtin_ctzll((uint64_t)(s >> 64));
}
