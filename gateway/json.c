/*
 * json.c: the gateway's answers as JSON: bodies, the error shape
 * {"error":{"code","message"}}, and the HTTP status of a root error.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "gateway.h"

/* j as compact text (a new string, *len set). */
char *
json_text(json_t *j, size_t *len)
{
	char *s;

	if ((s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY)) == NULL)
		fatal("json_dumps");
	*len = strlen(s);
	return s;
}

json_t *
error_body(const char *code, const char *msg)
{
	return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message",
	    msg);
}

/* The code word of an error status. */
const char *
error_code(unsigned status)
{
	switch (status) {
	case 400:
		return "bad_request";
	case 401:
		return "unauthorized";
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 405:
		return "method_not_allowed";
	case 409:
		return "conflict";
	case 413:
		return "too_large";
	case 503:
		return "unavailable";
	default:
		return "internal";
	}
}

static const struct {
	const char	*needle;
	unsigned	 status;
} errmap[] = {
	{ "unknown verb", 404 },
	{ "bad request", 400 },
	{ "no member named", 404 },
	{ "no module named", 404 },
	{ "no child", 404 },
	{ "no such", 404 },
	{ "no route", 404 },
	{ "not found", 404 },
	{ "unknown", 404 },
	{ "already", 409 },
	{ "exists", 409 },
	{ "is running a turn", 409 },
	{ "is not running", 409 },
	{ "in use", 409 },
	{ "shutting down", 503 },
	{ "unreachable", 503 },
	{ "try again", 503 },
	{ "busy", 503 },
	{ "is down", 503 },
	{ "store", 503 },
	{ "lagged", 503 },
};

/* The HTTP status of an error the root answered. */
unsigned
root_error_status(const char *error)
{
	size_t i;

	for (i = 0; i < sizeof(errmap) / sizeof(errmap[0]); i++)
		if (strstr(error, errmap[i].needle) != NULL)
			return errmap[i].status;
	return 400;
}
