/*
 * config_mcp.c: the [mcp NAME] section (an MCP server, run through the
 * mobkit-mcp bridge) and the profile keys that name its tools.
 *
 * An [mcp] child's command is always mobkit-mcp; what the bridge is to
 * reach is in its argv ("-t MS", then "-u URL" or "-- COMMAND ARGS...")
 * and its headers in its environment (MOBKIT_MCP_HEADERS, one "Name:
 * value" a line: not in argv, where any user could read a token).  So
 * the reload fingerprint, which covers argv and env, sees every change.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"
#include "log.h"

#define MCP_BRIDGE	"mobkit-mcp"

/* header.NAME = value in [mcp NAME]: kept as "NAME: value". */
int
mcp_header_set(struct parse *ps, const char *name, const char *value)
{
	struct child_conf *c = ps->obj;
	const char *h = name + 7, *p;
	size_t hl = strlen(h);
	char *kv;
	int i;

	for (p = h; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("!#$%&'*+-.^_`|~",
		    *p) == NULL)
			break;
	if (*h == '\0' || *p != '\0') {
		cfg_error(ps->cfg, ps->file, ps->lineno, "bad header name "
		    "\"%s\": use letters, digits and - (an HTTP token)", h);
		return -1;
	}
	if (strpbrk(value, "\r\n") != NULL) {
		cfg_error(ps->cfg, ps->file, ps->lineno, "%s: a header value "
		    "is one line", name);
		return -1;
	}
	for (i = 0; i < c->headers.n; i++)
		if (strncasecmp(c->headers.v[i], h, hl) == 0 &&
		    c->headers.v[i][hl] == ':') {
			cfg_error(ps->cfg, ps->file, ps->lineno, "duplicate "
			    "header \"%s\"", h);
			return -1;
		}
	if (asprintf(&kv, "%s: %s", h, value) == -1 ||
	    strlist_add(&c->headers, kv) == -1)
		fatal("config");
	free(kv);
	return 0;
}

/* The bridge's argv for a stdio server: -t MS -- COMMAND ARGS... */
static int
mcp_argv_stdio(struct config *cfg, struct child_conf *c)
{
	struct strlist more;
	const char *err;
	int i;

	if (strchr(c->command, '/') != NULL)
		absolutize(cfg, &c->command);
	if (strlist_add(&c->argv, "--") == -1 ||
	    strlist_add(&c->argv, c->command) == -1)
		fatal("config");
	if (c->args == NULL)
		return 0;
	if (split_args(c->args, &more, &err) == -1) {
		cfg_error(cfg, cfg->path, c->line, "[mcp %s]: args: %s",
		    c->name, err);
		return -1;
	}
	for (i = 0; i < more.n; i++)
		if (strlist_add(&c->argv, more.v[i]) == -1)
			fatal("config");
	strlist_free(&more);
	return 0;
}

/* The server command of a stdio [mcp] (after "--" in the bridge's argv). */
const char *
mcp_server_command(const struct child_conf *c)
{
	int i;

	if (c->kind != KIND_MCP)
		return NULL;
	for (i = 0; i + 1 < c->argv.n; i++)
		if (strcmp(c->argv.v[i], "--") == 0)
			return c->argv.v[i + 1];
	return NULL;
}

/* Headers go to the bridge's environment, one a line. */
static void
mcp_env_headers(struct child_conf *c)
{
	char *s = NULL, *t;
	int i;

	if (c->headers.n == 0)
		return;
	for (i = 0; i < c->headers.n; i++) {
		if (asprintf(&t, "%s%s%s", s ? s : "MOBKIT_MCP_HEADERS=",
		    s ? "\n" : "", c->headers.v[i]) == -1)
			fatal("config");
		free(s);
		s = t;
	}
	if (strlist_add(&c->env, s) == -1)
		fatal("config");
	free(s);
}

/*
 * Check an [mcp NAME]: exactly one of command and url; headers only with
 * url.  Its child entry runs the bridge; its defaults are a module's,
 * with the watchdog on (the bridge answers it once the server has
 * answered an MCP ping) and a minute to become healthy.
 */
void
mcp_check(struct config *cfg, struct child_conf *c)
{
	char buf[32];
	int has_cmd = c->command != NULL && *c->command != '\0';

	if (has_cmd == (c->url != NULL)) {
		cfg_error(cfg, cfg->path, c->line, "[mcp %s]: give exactly one "
		    "of \"command\" (a stdio server) and \"url\" (Streamable "
		    "HTTP)", c->name);
		return;
	}
	if (c->url != NULL && !http_url(c->url)) {
		cfg_error(cfg, cfg->path, c->url_line, "[mcp %s]: url: \"%s\" "
		    "is not an http:// or https:// URL", c->name, c->url);
		return;
	}
	if (c->url == NULL && c->headers.n > 0)
		cfg_error(cfg, cfg->path, c->line, "[mcp %s]: header.* keys "
		    "are for a url server", c->name);
	if (c->url != NULL && c->args != NULL)
		cfg_error(cfg, cfg->path, c->line, "[mcp %s]: args is for a "
		    "command server", c->name);
	if (c->call_timeout_ms == UNSET)
		c->call_timeout_ms = 60000;
	if (c->call_timeout_ms == 0)
		cfg_error(cfg, cfg->path, c->line, "[mcp %s]: call_timeout_ms "
		    "must be above 0", c->name);
	strlist_free(&c->argv);
	snprintf(buf, sizeof(buf), "%lld", (long long)c->call_timeout_ms);
	if (strlist_add(&c->argv, MCP_BRIDGE) == -1 ||
	    strlist_add(&c->argv, "-t") == -1 || strlist_add(&c->argv, buf) == -1)
		fatal("config");
	if (c->url != NULL) {
		if (strlist_add(&c->argv, "-u") == -1 ||
		    strlist_add(&c->argv, c->url) == -1)
			fatal("config");
	} else if (mcp_argv_stdio(cfg, c) == -1)
		return;
	mcp_env_headers(c);
	free(c->command);
	if ((c->command = strdup(MCP_BRIDGE)) == NULL)
		fatal("config");
	c->ready = READY_MESSAGE;
	if (c->watchdog_ms == UNSET)
		c->watchdog_ms = 10000;
	/* npx and the like may fetch the server at its first start */
	if (c->start_timeout_ms == UNSET)
		c->start_timeout_ms = 60000;
	child_defaults(c, NULL, cfg);
}

/*
 * A profile's tools: each an [mcp] name, or SERVER/TOOL of one; an
 * unknown server is an error at the tools line.  max_tool_rounds
 * defaults to 8.
 */
void
mcp_check_profile_tools(struct config *cfg, struct profile_conf *p)
{
	struct child_conf *c;
	char name[128];
	const char *t;
	size_t n;
	int i;

	if (p->max_tool_rounds == UNSET)
		p->max_tool_rounds = 8;
	for (i = 0; i < p->tools.n; i++) {
		t = p->tools.v[i];
		n = strcspn(t, "/");
		snprintf(name, sizeof(name), "%.*s", (int)n, t);
		if (n == 0 || (t[n] == '/' && t[n + 1] == '\0')) {
			cfg_error(cfg, cfg->path, p->tools_line, "[profile %s]: "
			    "tools: bad entry \"%s\": expected SERVER or "
			    "SERVER/TOOL", p->name, t);
			continue;
		}
		if ((c = config_child(cfg, name)) == NULL ||
		    c->kind != KIND_MCP)
			cfg_error(cfg, cfg->path, p->tools_line, "[profile %s]: "
			    "tools: no [mcp %s]", p->name, name);
	}
}
