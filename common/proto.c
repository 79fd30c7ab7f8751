/* proto.c: names of the message types, for logs and errors. */
#include <stddef.h>

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
	{ MSG_CTL_REQUEST, "CTL_REQUEST" },
	{ MSG_CTL_REPLY, "CTL_REPLY" },
	{ MSG_CTL_STREAM, "CTL_STREAM" },
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
