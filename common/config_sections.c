/*
 * config_sections.c: the sections of mobkit.ini and the keys of each, and
 * what a section header starts: the struct its keys fill, checked for a
 * known word, a valid and unused name, and no second [mobkitd], [mob] or
 * [delivery].
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "log.h"

static const char *const level_names[] = { "error", "warn", "info", "debug",
    NULL };
static const char *const provider_names[] = { "echo", "openai",
    "anthropic", NULL };
static const char *const format_names[] = { "text", "json_object",
    "json_schema", NULL };
static const char *const log_format_names[] = { "text", "json", NULL };
static const char *const placement_names[] = { "spread", NULL };
static const char *const sink_names[] = { "webhook", "email", "mob_member",
    "file", NULL };

#define CK(f)	offsetof(struct child_conf, f)
#define PT(f)	(offsetof(struct profile_conf, tmpl) + CK(f))

static const struct keydef mobkitd_keys[] = {
	{ "control_socket", K_STR, offsetof(struct config, control_socket), NULL,
	    offsetof(struct config, control_socket_line) },
	{ "state_dir", K_STR, offsetof(struct config, state_dir), NULL, NOL },
	{ "store", K_STR, offsetof(struct config, store), NULL,
	    offsetof(struct config, store_line) },
	{ "node_id", K_STR, offsetof(struct config, node_id), NULL,
	    offsetof(struct config, node_id_line) },
	{ "lease_ms", K_MS, offsetof(struct config, lease_ms), NULL,
	    offsetof(struct config, lease_ms_line) },
	{ "placement", K_ENUM, offsetof(struct config, placement),
	    placement_names, NOL },
	{ "log_level", K_ENUM, offsetof(struct config, log_level), level_names, NOL },
	{ "start_timeout_ms", K_MS, offsetof(struct config, start_timeout_ms), NULL, NOL },
	{ "stop_timeout_ms", K_MS, offsetof(struct config, stop_timeout_ms), NULL, NOL },
	{ "drain_timeout_ms", K_MS, offsetof(struct config, drain_timeout_ms), NULL, NOL },
	{ "strategy", K_ENUM, offsetof(struct config, strategy), strategy_names, NOL },
	{ "max_restarts", K_INT, offsetof(struct config, max_restarts), NULL, NOL },
	{ "restart_window_ms", K_MS, offsetof(struct config, restart_window_ms), NULL, NOL },
	{ "max_input_bytes", K_MS, offsetof(struct config, max_input_bytes), NULL, NOL },
	{ "input_retention_ms", K_MS, offsetof(struct config, input_retention_ms), NULL, NOL },
	{ "input_retention_max", K_INT, offsetof(struct config, input_retention_max), NULL, NOL },
	{ "delivery_retention_ms", K_MS, offsetof(struct config, delivery_retention_ms), NULL, NOL },
	{ "delivery_retention_max", K_INT, offsetof(struct config, delivery_retention_max), NULL, NOL },
	{ "event_buffer_bytes", K_MS, offsetof(struct config, event_buffer_bytes), NULL, NOL },
	{ "client_buffer_bytes", K_MS, offsetof(struct config, client_buffer_bytes), NULL, NOL },
	{ "pass_env", K_LIST, offsetof(struct config, pass_env), NULL, NOL },
	{ "include", K_LIST, offsetof(struct config, include), NULL, NOL },
	{ "log_buffer_bytes", K_MS, offsetof(struct config, log_buffer_bytes), NULL, NOL },
	{ "log_dir", K_STR, offsetof(struct config, log_dir), NULL, NOL },
	{ "log_max_bytes", K_MS, offsetof(struct config, log_max_bytes), NULL, NOL },
	{ "log_keep", K_INT, offsetof(struct config, log_keep), NULL, NOL },
	{ "log_format", K_ENUM, offsetof(struct config, log_format), log_format_names, NOL },
	{ NULL, 0, 0, NULL, NOL }
};

static const struct keydef group_keys[] = {
	{ "strategy", K_ENUM, offsetof(struct group_conf, strategy), strategy_names, NOL },
	{ "max_restarts", K_INT, offsetof(struct group_conf, max_restarts), NULL, NOL },
	{ "restart_window_ms", K_MS, offsetof(struct group_conf, restart_window_ms), NULL, NOL },
	{ "group", K_STR, offsetof(struct group_conf, parent), NULL,
	    offsetof(struct group_conf, parent_line) },
	{ NULL, 0, 0, NULL, NOL }
};

#define RESTART_KEYS(M) \
	{ "restart", K_ENUM, M(restart), restart_names, NOL }, \
	{ "max_restarts", K_INT, M(max_restarts), NULL, NOL }, \
	{ "restart_window_ms", K_MS, M(restart_window_ms), NULL, NOL }, \
	{ "restart_backoff_ms", K_MS, M(restart_backoff_ms), NULL, NOL }, \
	{ "restart_backoff_max_ms", K_MS, M(restart_backoff_max_ms), NULL, NOL }, \
	{ "on_exhausted", K_ENUM, M(on_exhausted), exhausted_names, NOL }, \
	{ "start_timeout_ms", K_MS, M(start_timeout_ms), NULL, NOL }, \
	{ "stop_timeout_ms", K_MS, M(stop_timeout_ms), NULL, NOL }, \
	{ "stop_signal", K_SIGNAL, M(stop_signal), NULL, NOL }, \
	{ "watchdog_ms", K_MS, M(watchdog_ms), NULL, NOL }, \
	{ "limit_nofile", K_MS, M(limit_nofile), NULL, NOL }, \
	{ "pass_env", K_LIST, M(pass_env), NULL, NOL }

static const struct keydef module_keys[] = {
	{ "command", K_STR, CK(command), NULL, NOL },
	{ "args", K_STR, CK(args), NULL, NOL },
	{ "group", K_STR, CK(group), NULL, CK(group_line) },
	{ "depends", K_LIST, CK(depends), NULL, CK(depends_line) },
	{ "ready", K_ENUM, CK(ready), ready_names, NOL },
	{ "cwd", K_STR, CK(cwd), NULL, NOL },
	{ "user", K_STR, CK(user), NULL, NOL },
	RESTART_KEYS(CK),
	{ NULL, 0, 0, NULL, NOL }
};

static const struct keydef mcp_keys[] = {
	{ "command", K_STR, CK(command), NULL, NOL },
	{ "args", K_STR, CK(args), NULL, NOL },
	{ "url", K_STR, CK(url), NULL, CK(url_line) },
	{ "call_timeout_ms", K_MS, CK(call_timeout_ms), NULL, NOL },
	{ "group", K_STR, CK(group), NULL, CK(group_line) },
	{ "depends", K_LIST, CK(depends), NULL, CK(depends_line) },
	{ "cwd", K_STR, CK(cwd), NULL, NOL },
	{ "user", K_STR, CK(user), NULL, NOL },
	RESTART_KEYS(CK),
	{ NULL, 0, 0, NULL, NOL }
};

/* [gateway]: its own keys, and the supervision keys of [module] */
#define GW(f)	offsetof(struct gateway_conf, f)
#define GM(f)	(offsetof(struct gateway_conf, mod) + CK(f))
static const char *const gw_auth_names[] = { "token", "jwt", "none", NULL };
const struct keydef gateway_keys[] = {
	{ "listen", K_STR, GW(listen), NULL, GW(listen_line) },
	{ "auth", K_CHOICE, GW(auth), gw_auth_names, GW(auth_line) },
	{ "token_file", K_STR, GW(token_file), NULL, GW(token_file_line) },
	{ "jwt_jwks_file", K_STR, GW(jwt_jwks_file), NULL,
	    GW(jwt_jwks_file_line) },
	{ "jwt_issuer", K_STR, GW(jwt_issuer), NULL, NOL },
	{ "jwt_audience", K_STR, GW(jwt_audience), NULL, NOL },
	{ "tls_cert_file", K_STR, GW(tls_cert_file), NULL,
	    GW(tls_cert_file_line) },
	{ "tls_key_file", K_STR, GW(tls_key_file), NULL, GW(tls_key_file_line) },
	{ "console", K_BOOL, GW(console), NULL, NOL },
	{ "metrics_auth", K_BOOL, GW(metrics_auth), NULL, NOL },
	{ "max_body_bytes", K_MS, GW(max_body_bytes), NULL, NOL },
	{ "group", K_STR, GM(group), NULL, GM(group_line) },
	{ "depends", K_LIST, GM(depends), NULL, GM(depends_line) },
	{ "cwd", K_STR, GM(cwd), NULL, NOL },
	{ "user", K_STR, GM(user), NULL, NOL },
	RESTART_KEYS(GM),
	{ NULL, 0, 0, NULL, NOL }
};

#define PF(f)	offsetof(struct profile_conf, f)
static const struct keydef profile_keys[] = {
	{ "tools", K_LIST, PF(tools), NULL, PF(tools_line) },
	{ "max_tool_rounds", K_INT, PF(max_tool_rounds), NULL, NOL },
	{ "provider", K_CHOICE, PF(provider), provider_names, NOL },
	{ "model", K_STR, PF(model), NULL, NOL },
	{ "base_url", K_STR, PF(base_url), NULL, NOL },
	{ "api_key_env", K_STR, PF(api_key_env), NULL, NOL },
	{ "system", K_STR, PF(system), NULL, NOL },
	{ "system_file", K_STR, PF(system_file), NULL, NOL },
	{ "request_timeout_ms", K_MS, PF(request_timeout_ms), NULL, NOL },
	{ "max_attempts", K_INT, PF(max_attempts), NULL, NOL },
	{ "mailbox_capacity", K_INT, PF(mailbox_capacity), NULL, NOL },
	{ "comms", K_BOOL, PF(comms), NULL, NOL },
	{ "history_max_bytes", K_MS, PF(history_max_bytes), NULL, NOL },
	{ "api_key_header", K_STR, PF(api_key_header), NULL,
	    PF(api_key_header_line) },
	{ "temperature", K_STR, PF(temperature), NULL, PF(temperature_line) },
	{ "top_p", K_STR, PF(top_p), NULL, PF(top_p_line) },
	{ "max_tokens", K_MS, PF(max_tokens), NULL, NOL },
	{ "seed", K_MS, PF(seed), NULL, NOL },
	{ "stop", K_LIST, PF(stop), NULL, NOL },
	{ "response_format", K_CHOICE, PF(response_format), format_names,
	    PF(response_format_line) },
	{ "response_schema_file", K_STR, PF(response_schema_file), NULL,
	    PF(response_schema_line) },
	{ "stream", K_BOOL, PF(stream), NULL, NOL },
	{ "connect_timeout_ms", K_MS, PF(connect_timeout_ms), NULL, NOL },
	{ "first_byte_timeout_ms", K_MS, PF(first_byte_timeout_ms), NULL, NOL },
	{ "idle_timeout_ms", K_MS, PF(idle_timeout_ms), NULL, NOL },
	{ "retry_backoff_ms", K_MS, PF(retry_backoff_ms), NULL, NOL },
	{ "retry_backoff_max_ms", K_MS, PF(retry_backoff_max_ms), NULL, NOL },
	{ "max_context_tokens", K_MS, PF(max_context_tokens), NULL, NOL },
	{ "user", K_STR, PT(user), NULL, NOL },
	{ "cwd", K_STR, PT(cwd), NULL, NOL },
	RESTART_KEYS(PT),
	{ NULL, 0, 0, NULL, NOL }
};

static const struct keydef member_keys[] = {
	{ "profile", K_STR, CK(profile), NULL, CK(profile_line) },
	{ "instructions", K_STR, CK(instructions), NULL, NOL },
	{ "instructions_file", K_STR, CK(instructions_file), NULL, NOL },
	{ "node", K_STR, CK(node), NULL, NOL },
	{ "peers", K_LIST, CK(peers), NULL, CK(peers_line) },
	{ NULL, 0, 0, NULL, NOL }
};

static const struct keydef mob_keys[] = {
	{ "id", K_STR, offsetof(struct config, mob_id), NULL, NOL },
	{ "discover", K_STR, offsetof(struct config, discover), NULL,
	    offsetof(struct config, discover_line) },
	{ "discover_interval_ms", K_MS, offsetof(struct config,
	    discover_interval_ms), NULL, NOL },
	{ "discover_timeout_ms", K_MS, offsetof(struct config,
	    discover_timeout_ms), NULL, NOL },
	{ NULL, 0, 0, NULL, NOL }
};

#define RT(f)	offsetof(struct route_conf, f)
static const struct keydef route_keys[] = {
	{ "recipient", K_STR, RT(recipient), NULL, NOL },
	{ "channel", K_STR, RT(channel), NULL, NOL },
	{ "sink", K_CHOICE, RT(sink), sink_names, NOL },
	{ "target", K_STR, RT(target), NULL, NOL },
	{ "retry_max", K_INT, RT(retry_max), NULL, NOL },
	{ "backoff_ms", K_MS, RT(backoff_ms), NULL, NOL },
	{ "rate_limit_per_minute", K_INT, RT(rate_limit_per_minute), NULL, NOL },
	{ NULL, 0, 0, NULL, NOL }
};

static const struct keydef delivery_keys[] = {
	{ "smtp_url", K_STR, offsetof(struct config, smtp_url), NULL,
	    offsetof(struct config, smtp_url_line) },
	{ "mail_from", K_STR, offsetof(struct config, mail_from), NULL,
	    offsetof(struct config, mail_from_line) },
	{ NULL, 0, 0, NULL, NOL }
};

#define SC(f)	offsetof(struct schedule_conf, f)
static const struct keydef schedule_keys[] = {
	{ "interval", K_STR, SC(interval), NULL, NOL },
	{ "cron", K_STR, SC(cron), NULL, NOL },
	{ "timezone", K_STR, SC(timezone), NULL, NOL },
	{ "enabled", K_BOOL, SC(enabled), NULL, NOL },
	{ "jitter_ms", K_MS, SC(jitter_ms), NULL, NOL },
	{ "catch_up", K_BOOL, SC(catch_up), NULL, NOL },
	{ "member", K_STR, SC(member), NULL, SC(member_line) },
	{ "message", K_STR, SC(message), NULL, NOL },
	{ NULL, 0, 0, NULL, NOL }
};

static const struct {
	const char		*word;
	int			 sect;
	int			 named;
	const struct keydef	*keys;
} sections[] = {
	{ "mobkitd", S_MOBKITD, 0, mobkitd_keys },
	{ "group", S_GROUP, 1, group_keys },
	{ "module", S_MODULE, 1, module_keys },
	{ "mob", S_MOB, 0, mob_keys },
	{ "profile", S_PROFILE, 1, profile_keys },
	{ "member", S_MEMBER, 1, member_keys },
	{ "route", S_ROUTE, 1, route_keys },
	{ "delivery", S_DELIVERY, 0, delivery_keys },
	{ "schedule", S_SCHEDULE, 1, schedule_keys },
	{ "mcp", S_MCP, 1, mcp_keys },
	{ "gateway", S_GATEWAY, 0, gateway_keys },
};


/* Is this name already taken by a section of the same namespace? */
static int
name_taken(struct config *cfg, int sect, const char *name, int *line)
{
	int i;

	switch (sect) {
	case S_MODULE:
	case S_MEMBER:
	case S_MCP:
		for (i = 0; i < cfg->nchildren; i++)
			if (strcmp(cfg->children[i]->name, name) == 0) {
				*line = cfg->children[i]->line;
				return 1;
			}
		return 0;
	case S_GROUP:
		for (i = 0; i < cfg->ngroups; i++)
			if (strcmp(cfg->groups[i]->name, name) == 0) {
				*line = cfg->groups[i]->line;
				return 1;
			}
		return 0;
	case S_PROFILE:
		for (i = 0; i < cfg->nprofiles; i++)
			if (strcmp(cfg->profiles[i]->name, name) == 0) {
				*line = cfg->profiles[i]->line;
				return 1;
			}
		return 0;
	case S_ROUTE:
		for (i = 0; i < cfg->nroutes; i++)
			if (strcmp(cfg->routes[i]->id, name) == 0) {
				*line = cfg->routes[i]->line;
				return 1;
			}
		return 0;
	case S_SCHEDULE:
		for (i = 0; i < cfg->nschedules; i++)
			if (strcmp(cfg->schedules[i]->id, name) == 0) {
				*line = cfg->schedules[i]->line;
				return 1;
			}
		return 0;
	}
	return 0;
}

/* A name may hold letters, digits and . _ - and must start with one. */
int
valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64 || !isalnum((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return 0;
	return 1;
}

#define NSECTIONS	(sizeof(sections) / sizeof(sections[0]))

/*
 * Is the header [word name] one that may begin a section here?  Its index
 * in sections[], or -1 with the problem recorded.
 */
static int
header_check(struct parse *ps, const char *word, const char *name)
{
	struct config *cfg = ps->cfg;
	char at[PATH_MAX + 16];
	size_t i;
	int line;

	for (i = 0; i < NSECTIONS; i++)
		if (strcmp(word, sections[i].word) == 0)
			break;
	if (i == NSECTIONS) {
		cfg_error(cfg, ps->file, ps->lineno,
		    "unknown section [%s]: expected one of mobkitd, group, "
		    "module, mob, profile, member, route, delivery, schedule, "
		    "mcp, gateway",
		    word);
		return -1;
	}
	if (sections[i].named && *name == '\0') {
		cfg_error(cfg, ps->file, ps->lineno, "[%s] needs a name: "
		    "[%s NAME]", word, word);
		return -1;
	}
	if (!sections[i].named && *name != '\0') {
		cfg_error(cfg, ps->file, ps->lineno, "[%s] takes no name "
		    "(got \"%s\")", word, name);
		return -1;
	}
	if (sections[i].named && !valid_name(name)) {
		cfg_error(cfg, ps->file, ps->lineno, "bad name \"%s\": use "
		    "letters, digits, '.', '_' and '-' (at most 64)", name);
		return -1;
	}
	if ((sections[i].sect == S_MODULE || sections[i].sect == S_MEMBER ||
	    sections[i].sect == S_MCP) &&
	    (strcmp(name, "root") == 0 || strcmp(name, "mob") == 0)) {
		cfg_error(cfg, ps->file, ps->lineno, "[%s %s]: \"%s\" is a "
		    "reserved name (the group %s): choose another", word, name,
		    name, name);
		return -1;
	}
	if ((sections[i].sect == S_MODULE || sections[i].sect == S_MEMBER) &&
	    strcmp(name, "gateway") == 0) {
		cfg_error(cfg, ps->file, ps->lineno, "[%s gateway]: \"gateway\" "
		    "is the [gateway] section's module (it may send control "
		    "requests): choose another name", word);
		return -1;
	}
	if (sections[i].sect == S_MOBKITD && ps->lineno >= LOC_FILE) {
		cfg_error(cfg, ps->file, ps->lineno, "[mobkitd] belongs in the "
		    "main file (%s), not in an included one", cfg->path);
		return -1;
	}
	if (sections[i].named && name_taken(cfg, sections[i].sect, name,
	    &line)) {
		cfg_error(cfg, ps->file, ps->lineno, "duplicate name \"%s\" "
		    "(first defined at %s)", name, cfg_place(cfg, ps->lineno,
		    line, at, sizeof(at)));
		return -1;
	}
	return (int)i;
}

/* A new [group NAME], its keys unset. */
static void *
new_group(struct config *cfg, const char *name, int line)
{
	struct group_conf *g = calloc(1, sizeof(*g));

	if (g == NULL || (g->name = strdup(name)) == NULL ||
	    push(&cfg->groups, &cfg->ngroups, g) == -1)
		fatal("config");
	g->line = line;
	g->strategy = UNSET;
	g->max_restarts = UNSET;
	g->restart_window_ms = UNSET;
	return g;
}

/* A new [module NAME] or [member NAME], its keys unset. */
static void *
new_child(struct config *cfg, const char *name, int line, int kind)
{
	struct child_conf *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->name = strdup(name)) == NULL ||
	    push(&cfg->children, &cfg->nchildren, c) == -1)
		fatal("config");
	child_conf_init(c);
	c->line = line;
	c->kind = kind;
	c->call_timeout_ms = UNSET;
	return c;
}

/* A new [profile NAME], its keys unset. */
static void *
new_profile(struct config *cfg, const char *name, int line)
{
	struct profile_conf *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->name = strdup(name)) == NULL ||
	    push(&cfg->profiles, &cfg->nprofiles, p) == -1)
		fatal("config");
	p->line = line;
	p->request_timeout_ms = UNSET;
	p->max_attempts = UNSET;
	p->mailbox_capacity = UNSET;
	p->comms = UNSET;
	p->history_max_bytes = UNSET;
	p->max_tokens = UNSET;
	p->seed = UNSET;
	p->stream = UNSET;
	p->connect_timeout_ms = UNSET;
	p->first_byte_timeout_ms = UNSET;
	p->idle_timeout_ms = UNSET;
	p->retry_backoff_ms = UNSET;
	p->retry_backoff_max_ms = UNSET;
	p->max_context_tokens = UNSET;
	p->max_tool_rounds = UNSET;
	child_conf_init(&p->tmpl);
	return p;
}

/* A new [route ID], its keys unset. */
static void *
new_route(struct config *cfg, const char *name, int line)
{
	struct route_conf *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->id = strdup(name)) == NULL ||
	    push(&cfg->routes, &cfg->nroutes, r) == -1)
		fatal("config");
	r->line = line;
	r->retry_max = UNSET;
	r->backoff_ms = UNSET;
	r->rate_limit_per_minute = UNSET;
	return r;
}

/* A new [schedule ID], its keys unset. */
static void *
new_schedule(struct config *cfg, const char *name, int line)
{
	struct schedule_conf *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->id = strdup(name)) == NULL ||
	    push(&cfg->schedules, &cfg->nschedules, s) == -1)
		fatal("config");
	s->line = line;
	s->enabled = UNSET;
	s->jitter_ms = UNSET;
	s->catch_up = UNSET;
	return s;
}

/*
 * The struct a section's keys fill: the config itself for the unnamed
 * sections (*seen then says where that section first was), else a new one.
 */
static void *
section_object(struct parse *ps, int sect, const char *name, int **seen)
{
	struct config *cfg = ps->cfg;

	*seen = NULL;
	switch (sect) {
	case S_MOBKITD:
		*seen = &ps->seen_mobkitd;
		return cfg;
	case S_MOB:
		*seen = &ps->seen_mob;
		return cfg;
	case S_DELIVERY:
		*seen = &ps->seen_delivery;
		return cfg;
	case S_GATEWAY:
		*seen = &ps->seen_gateway;
		if (cfg->gateway == NULL)
			cfg->gateway = gateway_conf_new(ps->lineno);
		return cfg->gateway;
	case S_GROUP:
		return new_group(cfg, name, ps->lineno);
	case S_MODULE:
		return new_child(cfg, name, ps->lineno, KIND_MODULE);
	case S_MEMBER:
		return new_child(cfg, name, ps->lineno, KIND_MEMBER);
	case S_MCP:
		return new_child(cfg, name, ps->lineno, KIND_MCP);
	case S_PROFILE:
		return new_profile(cfg, name, ps->lineno);
	case S_ROUTE:
		return new_route(cfg, name, ps->lineno);
	case S_SCHEDULE:
		return new_schedule(cfg, name, ps->lineno);
	}
	return NULL;
}

/*
 * header.NAME = value and query.NAME = value of a [profile]: 1 when the
 * key was one of them (handled, or its error recorded), else 0.
 */
int
profile_prefixed_key(struct parse *ps, const char *name, const char *value)
{
	struct profile_conf *p = ps->obj;
	struct strlist *l;
	const char *n, *s;
	char *kv;
	int hdr;

	if (ps->sect != S_PROFILE || (strncmp(name, "header.", 7) != 0 &&
	    strncmp(name, "query.", 6) != 0))
		return 0;
	hdr = name[0] == 'h';
	n = name + (hdr ? 7 : 6);
	l = hdr ? &p->http_headers : &p->http_query;
	for (s = n; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("-_.~", *s) == NULL)
			break;
	if (*n == '\0' || *s != '\0') {
		cfg_error(ps->cfg, ps->file, ps->lineno, "%s: bad %s name "
		    "\"%s\": use letters, digits, '-', '_', '.' and '~'", name,
		    hdr ? "header" : "query parameter", n);
		return 1;
	}
	if (asprintf(&kv, hdr ? "%s: %s" : "%s=%s", n, value) == -1 ||
	    strlist_add(l, kv) == -1)
		fatal("config");
	free(kv);
	return 1;
}

/* Begin a section from its header text (inside the brackets). */
void
begin_section(struct parse *ps, char *text)
{
	char *word, *name, *sp, at[PATH_MAX + 16];
	int i, *seen;
	void *obj;

	strlist_free(&ps->seen);
	ps->last = NULL;
	ps->sect = S_SKIP;
	ps->keys = NULL;
	word = text + strspn(text, " \t");
	sp = word + strcspn(word, " \t");
	name = sp + strspn(sp, " \t");
	*sp = '\0';
	if ((i = header_check(ps, word, name)) == -1)
		return;
	obj = section_object(ps, sections[i].sect, name, &seen);
	if (seen != NULL) {
		if (*seen) {
			cfg_error(ps->cfg, ps->file, ps->lineno, "duplicate "
			    "section [%s] (first at %s)", word, cfg_place(ps->cfg,
			    ps->lineno, *seen, at, sizeof(at)));
			return;
		}
		*seen = ps->lineno;
	}
	ps->sect = sections[i].sect;
	ps->keys = sections[i].keys;
	ps->obj = obj;
}

/*
 * Every key each section takes, cb(SECTION, KEY, arg), the key tables'
 * and the prefixed ones (env.NAME, header.NAME, query.NAME): what the
 * documentation's test checks the man page against.
 */
void
config_keys(void (*cb)(const char *, const char *, void *), void *arg)
{
	static const char *const prefixed[][2] = {
		{ "module", "env.NAME" }, { "mcp", "env.NAME" },
		{ "profile", "env.NAME" }, { "mcp", "header.NAME" },
		{ "profile", "header.NAME" }, { "profile", "query.NAME" },
	};
	const struct keydef *k;
	size_t i;

	for (i = 0; i < NSECTIONS; i++)
		for (k = sections[i].keys; k->name != NULL; k++)
			cb(sections[i].word, k->name, arg);
	for (i = 0; i < sizeof(prefixed) / sizeof(prefixed[0]); i++)
		cb(prefixed[i][0], prefixed[i][1], arg);
}
