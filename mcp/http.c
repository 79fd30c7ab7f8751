/* http.c: MCP's Streamable HTTP transport (not yet). */
#include "bridge.h"
#include "log.h"

int
http_open(const char *url, const char *headers)
{
	(void)headers;
	log_warnx("%s: %s: Streamable HTTP is not built yet", bridge_name, url);
	return -1;
}

const struct transport http_transport = { .name = "http" };
