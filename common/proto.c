/*
 * proto.c: names of the message types, for logs and errors, and the
 * parser of control requests' envelope (t, version, verb, an args map);
 * the args are checked against the verb table in ctlverbs.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "ctlverbs.h"
#include "mpack.h"
#include "proto.h"

static const struct {
	int		 type;
	const char	*name;
} msg_names[] = {
	{ MSG_HELLO, "HELLO" },
	{ MSG_READY, "READY" },
	{ MSG_HEARTBEAT, "HEARTBEAT" },
	{ MSG_STOP, "STOP" },
	{ MSG_EVENT, "EVENT" },
	{ MSG_PING, "PING" },
	{ MSG_PONG, "PONG" },
	{ MSG_CONFIG, "CONFIG" },
	{ MSG_RUN, "RUN" },
	{ MSG_INTERRUPT, "INTERRUPT" },
	{ MSG_RESET, "RESET" },
	{ MSG_RUN_DONE, "RUN_DONE" },
	{ MSG_TOOL_SEND, "TOOL_SEND" },
	{ MSG_TOOL_RESULT, "TOOL_RESULT" },
	{ MSG_MOD_CALL, "MOD_CALL" },
	{ MSG_MOD_RESULT, "MOD_RESULT" },
	{ MSG_ROUTES, "ROUTES" },
	{ MSG_SCHEDULES, "SCHEDULES" },
	{ MSG_FIRE, "FIRE" },
	{ MSG_FIRED, "FIRED" },
	{ MSG_DELIVER, "DELIVER" },
	{ MSG_ATTEMPT, "ATTEMPT" },
	{ MSG_TOOLS, "TOOLS" },
	{ MSG_MCP_CALL, "MCP_CALL" },
	{ MSG_MCP_CANCEL, "MCP_CANCEL" },
	{ MSG_MCP_LIST, "MCP_LIST" },
	{ MSG_MCP_RESULT, "MCP_RESULT" },
	{ MSG_CTL_REQUEST, "CTL_REQUEST" },
	{ MSG_CTL_REPLY, "CTL_REPLY" },
	{ MSG_CTL_STREAM, "CTL_STREAM" },
	{ MSG_CTL_CANCEL, "CTL_CANCEL" },
};

/* The name of a message type, or "unknown". */
const char *
msg_type_name(int type)
{
	size_t i;

	for (i = 0; i < sizeof(msg_names) / sizeof(msg_names[0]); i++)
		if (msg_names[i].type == type)
			return msg_names[i].name;
	return "unknown";
}

/* The name of a msgpack type, for errors. */
const char *
mp_type_name(int type)
{
	switch (type) {
	case MSGPACK_OBJECT_NIL:
		return "nil";
	case MSGPACK_OBJECT_BOOLEAN:
		return "a boolean";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return "an integer";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return "a float";
	case MSGPACK_OBJECT_STR:
		return "a string";
	case MSGPACK_OBJECT_ARRAY:
		return "an array";
	case MSGPACK_OBJECT_MAP:
		return "a map";
	case MSGPACK_OBJECT_BIN:
		return "binary";
	default:
		return "an extension";
	}
}

/* A string field into buf: "missing", "not a string", "too long"... */
static int
req_str(const msgpack_object *m, const char *key, char *buf, size_t bufsz,
    char *err, size_t errsz)
{
	const msgpack_object *o = mp_find(m, key);

	if (o == NULL) {
		snprintf(err, errsz, "no \"%s\"", key);
		return -1;
	}
	if (o->type != MSGPACK_OBJECT_STR) {
		snprintf(err, errsz, "\"%s\" is %s, not a string", key,
		    mp_type_name(o->type));
		return -1;
	}
	if (o->via.str.size >= bufsz || (o->via.str.size > 0 &&
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)) {
		snprintf(err, errsz, "\"%s\" is longer than %zu bytes or "
		    "holds a NUL", key, bufsz - 1);
		return -1;
	}
	if (o->via.str.size > 0)	/* else msgpack-c's pointer is NULL */
		memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return 0;
}

/*
 * Check a decoded request and fill r; -1 with what is wrong in err (the
 * caller answers "bad request: " and that).  Nothing is allocated on error.
 */
int
ctl_req_parse(const msgpack_object *m, struct ctl_req *r, char *err,
    size_t errsz)
{
	const msgpack_object *v;
	int64_t t;

	memset(r, 0, sizeof(*r));
	r->version = -1;
	if (m->type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errsz, "the request is %s, not a map",
		    mp_type_name(m->type));
		return -1;
	}
	if (mp_get_int(m, "t", &t) == -1) {
		snprintf(err, errsz, "no integer message type \"t\"");
		return -1;
	}
	if (t != MSG_CTL_REQUEST) {
		snprintf(err, errsz, "message type %lld (%s) is not a request",
		    (long long)t, msg_type_name((int)t));
		return -1;
	}
	if ((v = mp_find(m, "version")) != NULL &&
	    mp_get_int(m, "version", &r->version) == -1) {
		snprintf(err, errsz, "\"version\" is %s, not an integer",
		    mp_type_name(v->type));
		return -1;
	}
	if (req_str(m, "verb", r->verb, sizeof(r->verb), err, errsz) == -1)
		return -1;
	if ((r->args = mp_find(m, "args")) == NULL) {
		snprintf(err, errsz, "no \"args\"");
		return -1;
	}
	if (r->args->type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errsz, "\"args\" is %s, not a map",
		    mp_type_name(r->args->type));
		return -1;
	}
	return 0;
}

/*
 * The same from the bytes of one frame's payload, then the verb looked up
 * and its args decoded (*vp, a: free a with ctl_args_free).  Nothing is
 * left allocated on error.
 */
int
ctl_req_decode(const char *buf, size_t len, struct ctl_req *r,
    const struct ctl_verb **vp, union ctl_args *a, char *err, size_t errsz)
{
	msgpack_unpacked u;
	const char *why;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	memset(a, 0, sizeof(*a));
	r->version = -1;
	*vp = NULL;
	msgpack_unpacked_init(&u);
	if (frame_decode(buf, len, &u, &why) == -1)
		snprintf(err, errsz, "%s", why);
	else if (ctl_req_parse(&u.data, r, err, errsz) == 0) {
		if ((*vp = ctl_verb_find(r->verb)) == NULL)
			snprintf(err, errsz, "unknown verb \"%s\"", r->verb);
		else
			rc = ctl_args_decode(*vp, r->args, a, err, errsz);
	}
	r->args = NULL;		/* it was in u */
	msgpack_unpacked_destroy(&u);
	return rc;
}
