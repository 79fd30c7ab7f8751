/*
 * proto.h: the wire protocol between mobkitd, its children and mobkitctl.
 *
 * A frame is a 4-byte big-endian length and one msgpack map.  Every map
 * carries "t", one of the types below, numbered in ranges per concern.
 * The fields of each root <-> child type are in its table (msgtab.h).
 */
#ifndef MOBKIT_PROTO_H
#define MOBKIT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define MOBKIT_VERSION	"0.1.0"	/* of every binary */
#define PROTO_VERSION	1
#define FRAME_MAX	(1024 * 1024)	/* default frame size limit */
#define MOBKIT_FD	3		/* a child's end of its socketpair */

enum msg_type {
	/* handshake 1-9 */
	MSG_HELLO = 1,		/* child -> root: version, name, pid */
	MSG_READY = 2,		/* child -> root: initialised */
	MSG_HEARTBEAT = 3,	/* child -> root: optional liveness */
	/* supervision 10-19 */
	MSG_STOP = 10,		/* root -> child: finish and exit */
	MSG_EVENT = 11,		/* child -> root: a module/agent event */
	MSG_PING = 12,		/* root -> child: seq; answer PONG (watchdog) */
	MSG_PONG = 13,		/* child -> root: seq of the PING answered */
	/* mailbox 20-39 */
	MSG_CONFIG = 20,	/* root -> worker: profile, peers, snapshot */
	MSG_RUN = 21,		/* root -> worker: input_id, text, attempt */
	MSG_INTERRUPT = 22,	/* root -> worker: cancel the running turn */
	MSG_RESET = 23,		/* root -> worker: forget the conversation */
	MSG_RUN_DONE = 24,	/* worker -> root: input_id, status, text,
				   error, messages (what the turn added);
				   final (a failure not to retry),
				   retry_after_ms (the server's wish),
				   input_tokens, output_tokens (usage) */
	MSG_TOOL_SEND = 25,	/* worker -> root: call_id, to, text */
	MSG_TOOL_RESULT = 26,	/* root -> worker: call_id, ok, error */
	MSG_TOOLS = 27,		/* root -> worker: tools, the MCP tools it
				   may call now (JSON array text) */
	MSG_MCP_CALL = 28,	/* worker -> root -> mcp: call_id, server,
				   name, args (JSON text), timeout_ms */
	MSG_MCP_CANCEL = 29,	/* worker -> root -> mcp: call_id; the turn
				   no longer waits for it */
	/* modules 40-59: calls from mobkitd, and the route table */
	MSG_MOD_CALL = 40,	/* root -> module: id, verb, args (a map) */
	MSG_MOD_RESULT = 41,	/* module -> root: id, ok, result | error */
	MSG_ROUTES = 42,	/* root -> router: the whole route table */
	MSG_SCHEDULES = 43,	/* root -> scheduler: schedules, last claims */
	MSG_FIRE = 44,		/* scheduler -> root: schedule_id, due_ms */
	MSG_FIRED = 45,		/* root -> scheduler: schedule_id, due_ms,
				   status executed | skipped | failed */
	MSG_DELIVER = 46,	/* root -> delivery: one delivery to make */
	MSG_ATTEMPT = 47,	/* delivery -> root: an attempt and its
				   outcome; final when no retry follows */
	/* MCP servers 48-55 */
	MSG_MCP_LIST = 48,	/* mcp -> root: tools (JSON array text) of
				   its server, after READY and on change */
	MSG_MCP_RESULT = 49,	/* mcp -> root -> worker: call_id, content
				   (JSON array text), is_error */
	/* control 100-119 */
	MSG_CTL_REQUEST = 100,	/* ctl -> root: verb, args */
	MSG_CTL_REPLY = 101,	/* root -> ctl: ok, error | result */
	MSG_CTL_STREAM = 102,	/* root -> ctl: one item of a stream */
	MSG_CTL_CANCEL = 103,	/* gateway -> root: rid; its request (a
				   follow) is no longer wanted */
};

const char	*msg_type_name(int);

/*
 * The gateway (the child named "gateway") sends CTL_REQUEST on its fd 3
 * with a "rid" of its choosing; the root's CTL_REPLY and CTL_STREAM to it
 * carry the same "rid".  Many requests are in flight at once.
 */

/*
 * A control request, as the root reads it:
 * {t: CTL_REQUEST, version: PROTO_VERSION, verb: str, args: {...}}.
 * "version" is required in a connection's first request.  The args map
 * is checked against the verb's fields by ctl_args_decode (ctlverbs.h).
 */
#define CTL_VERB_MAX	32

struct msgpack_object;
struct ctl_req {
	int64_t		 version;	/* -1 when not given */
	char		 verb[CTL_VERB_MAX];
	const struct msgpack_object *args;	/* a map, in the message */
};

int	ctl_req_parse(const struct msgpack_object *, struct ctl_req *,
	    char *err, size_t errsz);
/* The name of a msgpack type ("a string", "an integer"), for errors. */
const char	*mp_type_name(int);

union ctl_args;
struct ctl_verb;
/* The whole check mobkitd makes, from a frame's payload (fuzz, tests). */
int	ctl_req_decode(const char *buf, size_t len, struct ctl_req *,
	    const struct ctl_verb **, union ctl_args *, char *err,
	    size_t errsz);

#endif
