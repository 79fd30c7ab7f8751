/*
 * config_check.c: once the file is read, every section is checked against
 * the others and its defaults filled: commands and paths, users, groups,
 * profiles, dependencies (no cycle), routes and their targets, schedules.
 * route_target_check() is the one route validator (the INI, `route add`,
 * later the HTTP API).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config_int.h"
#include "cron.h"
#include "log.h"
#include "mail.h"

/* Make a relative path relative to the config file's directory. */
void
absolutize(const struct config *cfg, char **p)
{
	char *n;

	if (*p == NULL || **p == '/' || **p == '\0')
		return;
	if (asprintf(&n, "%s/%s", cfg->dir, *p) == -1)
		fatal("config");
	free(*p);
	*p = n;
}

/*
 * Open a file that must be a readable regular file (never a directory, a
 * FIFO or a device), or record why not: key names what it is for.
 */
FILE *
open_regular(struct config *cfg, const char *path, int line, const char *key)
{
	const char *file = line > 0 ? cfg->path : path;
	struct stat st;
	FILE *fp;
	int fd;

	memset(&st, 0, sizeof(st));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (line > 0)
			cfg_error(cfg, file, line, "%s: cannot read \"%s\": %s",
			    key, path, strerror(errno));
		else
			cfg_error(cfg, file, 0, "cannot read the %s: %s", key,
			    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		const char *what = S_ISDIR(st.st_mode) ? "a directory" :
		    "not a regular file";

		if (line > 0)
			cfg_error(cfg, file, line, "%s: \"%s\" is %s",
			    key, path, what);
		else
			cfg_error(cfg, file, 0, "is %s, not a %s", what, key);
		close(fd);
		return NULL;
	}
	if ((fp = fdopen(fd, "r")) == NULL)
		fatal("fdopen");
	return fp;
}

/* Read a whole small text file named by a *_file key. */
static char *
read_text(struct config *cfg, const char *path, int line, const char *key)
{
	FILE *fp;
	char *buf;
	size_t n;
	struct stat st;

	if ((fp = open_regular(cfg, path, line, key)) == NULL)
		return NULL;
	if (fstat(fileno(fp), &st) == -1 || st.st_size > FILE_LIMIT) {
		cfg_error(cfg, cfg->path, line, "%s: \"%s\" is larger than "
		    "1 MiB", key, path);
		fclose(fp);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		fatal("config");
	n = fread(buf, 1, (size_t)st.st_size, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* Fill a child's unset restart keys from a template, then from defaults. */
void
child_defaults(struct child_conf *c, const struct child_conf *t,
    const struct config *cfg)
{
#define INHERIT(f, d) do {						\
	if (c->f == UNSET)						\
		c->f = (t != NULL && t->f != UNSET) ? t->f : (d);	\
} while (0)
	INHERIT(restart, RESTART_ALWAYS);
	INHERIT(max_restarts, 5);
	INHERIT(restart_window_ms, 60000);
	INHERIT(restart_backoff_ms, 100);
	INHERIT(restart_backoff_max_ms, 30000);
	INHERIT(on_exhausted, EXH_DEGRADE);
	INHERIT(start_timeout_ms, cfg->start_timeout_ms);
	INHERIT(stop_timeout_ms, cfg->stop_timeout_ms);
	INHERIT(stop_signal, SIGTERM);
	INHERIT(limit_nofile, 0);
#undef INHERIT
}

/* Does the child named by c depend, transitively, on itself? */
static int
depends_cycle(struct config *cfg, struct child_conf *c, int *mark)
{
	int i, j, idx = -1, r = 0;

	for (i = 0; i < cfg->nchildren; i++)
		if (cfg->children[i] == c)
			idx = i;
	if (mark[idx] == 1)
		return 1;
	if (mark[idx] == 2)
		return 0;
	mark[idx] = 1;
	for (j = 0; j < c->depends.n && !r; j++) {
		struct child_conf *d = config_child(cfg, c->depends.v[j]);

		if (d != NULL)
			r = depends_cycle(cfg, d, mark);
	}
	mark[idx] = 2;
	return r;
}

/* Build a member's child entry from its profile. */
int
member_conf_from_profile(struct child_conf *c, const struct profile_conf *p,
    const struct config *cfg)
{
	const char *err;

	free(c->command);
	if ((c->command = strdup("mobkit-worker")) == NULL)
		return -1;
	strlist_free(&c->argv);
	if (split_args("mobkit-worker", &c->argv, &err) == -1)
		return -1;
	if (c->group == NULL && (c->group = strdup("mob")) == NULL)
		return -1;
	c->ready = READY_MESSAGE;
	c->restart = p->tmpl.restart;
	c->max_restarts = p->tmpl.max_restarts;
	c->restart_window_ms = p->tmpl.restart_window_ms;
	c->restart_backoff_ms = p->tmpl.restart_backoff_ms;
	c->restart_backoff_max_ms = p->tmpl.restart_backoff_max_ms;
	c->on_exhausted = p->tmpl.on_exhausted;
	c->start_timeout_ms = p->tmpl.start_timeout_ms;
	c->stop_timeout_ms = p->tmpl.stop_timeout_ms;
	c->stop_signal = p->tmpl.stop_signal;
	c->watchdog_ms = p->tmpl.watchdog_ms != UNSET ? p->tmpl.watchdog_ms :
	    10000;
	c->limit_nofile = p->tmpl.limit_nofile;
	child_defaults(c, NULL, cfg);
	free(c->cwd);
	c->cwd = p->tmpl.cwd ? strdup(p->tmpl.cwd) : NULL;
	free(c->user);
	c->user = p->tmpl.user ? strdup(p->tmpl.user) : NULL;
	strlist_free(&c->env);
	strlist_free(&c->pass_env);
	if (strlist_copy(&c->pass_env, &p->tmpl.pass_env) == -1)
		return -1;
	return strlist_copy(&c->env, &p->tmpl.env);
}

/* Check a [module]: command, args, user; fill its defaults. */
static void
check_module(struct config *cfg, struct child_conf *c)
{
	const char *err, *base;

	if (c->command == NULL || *c->command == '\0') {
		cfg_error(cfg, cfg->path, c->line, "[module %s]: missing "
		    "\"command\"", c->name);
		return;
	}
	if (strchr(c->command, '/') != NULL)
		absolutize(cfg, &c->command);
	strlist_free(&c->argv);
	if (strlist_add(&c->argv, c->command) == -1)
		fatal("config");
	if (c->args != NULL) {
		struct strlist more;
		int i;

		if (split_args(c->args, &more, &err) == -1) {
			cfg_error(cfg, cfg->path, c->line, "[module %s]: args: "
			    "%s", c->name, err);
			return;
		}
		for (i = 0; i < more.n; i++)
			(void)strlist_add(&c->argv, more.v[i]);
		strlist_free(&more);
	}
	base = strrchr(c->command, '/');
	base = base ? base + 1 : c->command;
	if (c->ready == UNSET)
		c->ready = strncmp(base, "mobkit-", 7) == 0 ? READY_MESSAGE :
		    READY_NONE;
	if (c->watchdog_ms == UNSET)
		c->watchdog_ms = strncmp(base, "mobkit-", 7) == 0 ? 10000 : 0;
	child_defaults(c, NULL, cfg);
}

/* A child's cwd must be a directory that exists. */
static void
check_dir(struct config *cfg, const struct child_conf *c, const char *dir)
{
	struct stat st;

	if (dir == NULL)
		return;
	if (stat(dir, &st) == -1)
		cfg_error(cfg, cfg->path, c->line, "[%s %s]: cwd: \"%s\": %s",
		    kind_names[c->kind], c->name, dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		cfg_error(cfg, cfg->path, c->line, "[%s %s]: cwd: \"%s\" is "
		    "not a directory", kind_names[c->kind], c->name, dir);
}

/* Checks common to modules and members. */
static void
check_child(struct config *cfg, struct child_conf *c)
{
	int i;

	absolutize(cfg, &c->cwd);
	check_dir(cfg, c, c->cwd);
	if (c->user != NULL && getpwnam(c->user) == NULL)
		cfg_error(cfg, cfg->path, c->line, "[%s %s]: user: no such user "
		    "\"%s\"", kind_names[c->kind], c->name, c->user);
	if (c->group != NULL && strcmp(c->group, "root") != 0 &&
	    config_group(cfg, c->group) == NULL &&
	    !(strcmp(c->group, "mob") == 0))
		cfg_error(cfg, cfg->path, c->group_line ? c->group_line :
		    c->line, "[%s %s]: group: no [group %s]",
		    kind_names[c->kind], c->name, c->group);
	if (c->restart_backoff_max_ms < c->restart_backoff_ms)
		cfg_error(cfg, cfg->path, c->line, "[%s %s]: "
		    "restart_backoff_max_ms (%lld) is below restart_backoff_ms "
		    "(%lld)", kind_names[c->kind], c->name,
		    (long long)c->restart_backoff_max_ms,
		    (long long)c->restart_backoff_ms);
	for (i = 0; i < c->depends.n; i++) {
		struct child_conf *d = config_child(cfg, c->depends.v[i]);

		if (d == NULL)
			cfg_error(cfg, cfg->path, c->depends_line, "[module %s]:"
			    " depends: unknown module \"%s\"", c->name,
			    c->depends.v[i]);
		else if (d->kind != KIND_MODULE)
			cfg_error(cfg, cfg->path, c->depends_line, "[module %s]:"
			    " depends: \"%s\" is a member, not a module",
			    c->name, c->depends.v[i]);
		else if (d == c)
			cfg_error(cfg, cfg->path, c->depends_line, "[module %s]:"
			    " depends on itself", c->name);
	}
}

static void
check_member(struct config *cfg, struct child_conf *c)
{
	struct profile_conf *p;
	int i;

	if (c->profile == NULL) {
		cfg_error(cfg, cfg->path, c->line, "[member %s]: missing "
		    "\"profile\"", c->name);
		return;
	}
	if ((p = config_profile(cfg, c->profile)) == NULL) {
		cfg_error(cfg, cfg->path, c->profile_line, "[member %s]: "
		    "profile: no [profile %s]", c->name, c->profile);
		return;
	}
	if (c->instructions != NULL && c->instructions_file != NULL)
		cfg_error(cfg, cfg->path, c->line, "[member %s]: instructions "
		    "and instructions_file are exclusive", c->name);
	if (c->instructions_file != NULL) {
		absolutize(cfg, &c->instructions_file);
		c->instructions = read_text(cfg, c->instructions_file, c->line,
		    "instructions_file");
	}
	for (i = 0; i < c->peers.n; i++) {
		struct child_conf *o = config_child(cfg, c->peers.v[i]);

		if (o == NULL || o->kind != KIND_MEMBER)
			cfg_error(cfg, cfg->path, c->peers_line, "[member %s]: "
			    "peers: no [member %s]", c->name, c->peers.v[i]);
		else if (o == c)
			cfg_error(cfg, cfg->path, c->peers_line, "[member %s]: "
			    "peers: a member cannot be its own peer", c->name);
	}
	if (member_conf_from_profile(c, p, cfg) == -1)
		fatal("config");
}

/* A number as written in the INI, within [lo, hi]; -1 when it is not. */
static int
number_in(const char *s, double lo, double hi)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || d != d || d < lo ||
	    d > hi)
		return -1;
	return 0;
}

/* Is s an HTTP header name (an RFC 9110 token)? */
static int
header_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	return 1;
}

/* Default a duration left unset. */
static void
ms_default(int64_t *v, int64_t dflt)
{
	if (*v == UNSET)
		*v = dflt;
}

/* The response schema file: a JSON object, kept as its text. */
static void
read_schema(struct config *cfg, struct profile_conf *p)
{
	json_error_t jerr;
	json_t *j;

	absolutize(cfg, &p->response_schema_file);
	if ((p->response_schema = read_text(cfg, p->response_schema_file,
	    p->response_schema_line, "response_schema_file")) == NULL)
		return;
	if ((j = json_loads(p->response_schema, 0, &jerr)) == NULL ||
	    !json_is_object(j))
		cfg_error(cfg, cfg->path, p->response_schema_line, "[profile "
		    "%s]: response_schema_file: \"%s\" is not a JSON object%s%s",
		    p->name, p->response_schema_file, j ? "" : ": ",
		    j ? "" : jerr.text);
	json_decref(j);
}

/* The provider parameters of section 8: checked, defaults filled. */
static void
check_provider(struct config *cfg, struct profile_conf *p)
{
	if (p->temperature != NULL && number_in(p->temperature, 0, 2) == -1)
		cfg_error(cfg, cfg->path, p->temperature_line, "[profile %s]: "
		    "temperature: bad value \"%s\": expected a number from 0 "
		    "to 2", p->name, p->temperature);
	if (p->top_p != NULL && number_in(p->top_p, 0, 1) == -1)
		cfg_error(cfg, cfg->path, p->top_p_line, "[profile %s]: top_p: "
		    "bad value \"%s\": expected a number from 0 to 1", p->name,
		    p->top_p);
	if (p->api_key_header != NULL && !header_name(p->api_key_header))
		cfg_error(cfg, cfg->path, p->api_key_header_line, "[profile "
		    "%s]: api_key_header: bad value \"%s\": expected a header "
		    "name such as api-key", p->name, p->api_key_header);
	if (p->response_format != NULL &&
	    strcmp(p->response_format, "json_schema") == 0 &&
	    p->response_schema_file == NULL)
		cfg_error(cfg, cfg->path, p->response_format_line, "[profile "
		    "%s]: response_format: \"json_schema\" needs "
		    "response_schema_file", p->name);
	if (p->response_schema_file != NULL && (p->response_format == NULL ||
	    strcmp(p->response_format, "json_schema") != 0))
		cfg_error(cfg, cfg->path, p->response_schema_line, "[profile "
		    "%s]: response_schema_file: \"%s\" is only for "
		    "response_format = json_schema", p->name,
		    p->response_schema_file);
	else if (p->response_schema_file != NULL)
		read_schema(cfg, p);
	if (p->stream == UNSET)
		p->stream = 1;
	ms_default(&p->connect_timeout_ms, 10000);
	ms_default(&p->first_byte_timeout_ms, 60000);
	ms_default(&p->idle_timeout_ms, 60000);
	ms_default(&p->retry_backoff_ms, 1000);
	ms_default(&p->retry_backoff_max_ms, 60000);
	ms_default(&p->max_context_tokens, 0);
	if (p->retry_backoff_max_ms < p->retry_backoff_ms)
		cfg_error(cfg, cfg->path, p->line, "[profile %s]: "
		    "retry_backoff_max_ms (%lld) is below retry_backoff_ms "
		    "(%lld)", p->name, (long long)p->retry_backoff_max_ms,
		    (long long)p->retry_backoff_ms);
}

static void
check_profile(struct config *cfg, struct profile_conf *p)
{
	if (p->provider == NULL && (p->provider = strdup("echo")) == NULL)
		fatal("config");
	if (strcmp(p->provider, "echo") != 0 && p->model == NULL)
		cfg_error(cfg, cfg->path, p->line, "[profile %s]: provider "
		    "%s needs \"model\"", p->name, p->provider);
	if (p->system != NULL && p->system_file != NULL)
		cfg_error(cfg, cfg->path, p->line, "[profile %s]: system and "
		    "system_file are exclusive", p->name);
	if (p->system_file != NULL) {
		absolutize(cfg, &p->system_file);
		p->system = read_text(cfg, p->system_file, p->line,
		    "system_file");
	}
	if (p->request_timeout_ms == UNSET)
		p->request_timeout_ms = 600000;
	if (p->max_attempts == UNSET)
		p->max_attempts = 3;
	if (p->max_attempts < 1)
		cfg_error(cfg, cfg->path, p->line, "[profile %s]: max_attempts "
		    "must be at least 1", p->name);
	if (p->mailbox_capacity == UNSET)
		p->mailbox_capacity = 10000;
	if (p->history_max_bytes == UNSET)
		p->history_max_bytes = 1048576;
	if (p->mailbox_capacity < 1)
		cfg_error(cfg, cfg->path, p->line, "[profile %s]: "
		    "mailbox_capacity must be at least 1", p->name);
	if (p->comms == UNSET)
		p->comms = 1;
	if (p->tmpl.user != NULL && getpwnam(p->tmpl.user) == NULL)
		cfg_error(cfg, cfg->path, p->line, "[profile %s]: user: no such "
		    "user \"%s\"", p->name, p->tmpl.user);
	check_provider(cfg, p);
}

static void
check_group(struct config *cfg, struct group_conf *g)
{
	struct group_conf *q;
	int hops;

	if (strcmp(g->name, "root") == 0) {
		cfg_error(cfg, cfg->path, g->line, "[group root] is the "
		    "[mobkitd] section's group: configure it there");
		return;
	}
	if (g->strategy == UNSET)
		g->strategy = STRAT_ONE_FOR_ONE;
	if (g->max_restarts == UNSET)
		g->max_restarts = 5;
	if (g->restart_window_ms == UNSET)
		g->restart_window_ms = 60000;
	if (g->parent != NULL && strcmp(g->parent, "root") != 0 &&
	    config_group(cfg, g->parent) == NULL) {
		cfg_error(cfg, cfg->path, g->parent_line, "[group %s]: group: "
		    "no [group %s]", g->name, g->parent);
		return;
	}
	for (q = g, hops = 0; q != NULL && q->parent != NULL; hops++) {
		if (hops > cfg->ngroups) {
			cfg_error(cfg, cfg->path, g->parent_line, "[group %s]: "
			    "groups form a cycle", g->name);
			return;
		}
		q = config_group(cfg, q->parent);
	}
}

static void
check_schedule(struct config *cfg, struct schedule_conf *s)
{
	struct child_conf *m;
	struct cron cr;
	struct when w;
	int64_t secs;
	char err[256];

	if ((s->interval == NULL) == (s->cron == NULL))
		cfg_error(cfg, cfg->path, s->line, "[schedule %s]: set exactly "
		    "one of interval and cron", s->id);
	if (s->interval != NULL && interval_parse(s->interval, &secs, err,
	    sizeof(err)) == -1)
		cfg_error(cfg, cfg->path, s->line, "[schedule %s]: %s", s->id,
		    err);
	if (s->cron != NULL && cron_parse(s->cron, &cr, err, sizeof(err)) == -1)
		cfg_error(cfg, cfg->path, s->line, "[schedule %s]: cron: bad "
		    "value \"%s\": %s", s->id, s->cron, err);
	if (s->timezone != NULL && zone_parse(s->timezone, &w, err,
	    sizeof(err)) == -1)
		cfg_error(cfg, cfg->path, s->line, "[schedule %s]: %s", s->id,
		    err);
	if (s->member == NULL)
		cfg_error(cfg, cfg->path, s->line, "[schedule %s]: missing "
		    "\"member\"", s->id);
	else if ((m = config_child(cfg, s->member)) == NULL ||
	    m->kind != KIND_MEMBER)
		cfg_error(cfg, cfg->path, s->member_line, "[schedule %s]: "
		    "member: no [member %s]", s->id, s->member);
	if (s->message == NULL)
		cfg_error(cfg, cfg->path, s->line, "[schedule %s]: missing "
		    "\"message\"", s->id);
	if (s->timezone == NULL && (s->timezone = strdup("UTC")) == NULL)
		fatal("config");
	if (s->enabled == UNSET)
		s->enabled = 1;
	if (s->jitter_ms == UNSET)
		s->jitter_ms = 0;
	if (s->catch_up == UNSET)
		s->catch_up = 0;
}

/* Is s an http(s) URL with a host: no blanks, no controls? */
int
http_url(const char *s)
{
	const char *p;

	if (strncmp(s, "http://", 7) == 0)
		p = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		p = s + 8;
	else
		return 0;
	if (*p == '\0' || *p == '/' || *p == '?' || *p == '#')
		return 0;
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 127)
			return 0;
	return 1;
}

/* A webhook route's target is an http(s) URL, an email one an address. */
/*
 * NULL when target suits sink (an http(s) URL for webhook, a plain
 * address for email), else what is wrong, as "is not ...".
 */
const char *
route_target_check(const char *sink, const char *target, char *buf,
    size_t sz)
{
	const char *why;

	if (strcmp(sink, "webhook") == 0 && !http_url(target))
		return "is not an http:// or https:// URL";
	if (strcmp(sink, "email") == 0 &&
	    (why = mail_addr_check(target)) != NULL) {
		snprintf(buf, sz, "is not an email address: %s", why);
		return buf;
	}
	return NULL;
}

static void
check_target(struct config *cfg, const struct route_conf *r)
{
	const char *why;
	char buf[256];

	if ((why = route_target_check(r->sink, r->target, buf,
	    sizeof(buf))) != NULL)
		cfg_error(cfg, cfg->path, r->line, "[route %s]: target: \"%s\" "
		    "%s", r->id, r->target, why);
}

static void
check_route(struct config *cfg, struct route_conf *r)
{
	if (r->recipient == NULL && (r->recipient = strdup("*")) == NULL)
		fatal("config");
	if (r->channel == NULL && (r->channel = strdup("*")) == NULL)
		fatal("config");
	if (r->sink == NULL)
		cfg_error(cfg, cfg->path, r->line, "[route %s]: missing "
		    "\"sink\"", r->id);
	if (r->target == NULL)
		cfg_error(cfg, cfg->path, r->line, "[route %s]: missing "
		    "\"target\"", r->id);
	else if (r->sink != NULL && strcmp(r->sink, "file") == 0)
		absolutize(cfg, &r->target);
	else if (r->sink != NULL)
		check_target(cfg, r);
	if (r->retry_max == UNSET)
		r->retry_max = 1;
	if (r->retry_max > 10)
		cfg_error(cfg, cfg->path, r->line, "[route %s]: retry_max: %d "
		    "is above the limit of 10", r->id, r->retry_max);
	if (r->backoff_ms == UNSET)
		r->backoff_ms = 250;
	if (r->rate_limit_per_minute == UNSET)
		r->rate_limit_per_minute = 60;
	if (r->rate_limit_per_minute < 1)
		cfg_error(cfg, cfg->path, r->line, "[route %s]: "
		    "rate_limit_per_minute must be at least 1", r->id);
}

/* The [mobkitd] and [delivery] values that must fit or parse. */
static void
check_daemon(struct config *cfg)
{
	const char *why;

	if (strlen(cfg->control_socket) > SUN_PATH_MAX)
		cfg_error(cfg, cfg->path, cfg->control_socket_line,
		    "control_socket: \"%s\" is %zu bytes long, a socket path "
		    "holds at most %zu", cfg->control_socket,
		    strlen(cfg->control_socket), SUN_PATH_MAX);
	if (strncmp(cfg->smtp_url, "smtp://", 7) != 0 &&
	    strncmp(cfg->smtp_url, "smtps://", 8) != 0)
		cfg_error(cfg, cfg->path, cfg->smtp_url_line, "smtp_url: "
		    "\"%s\" is not an smtp:// or smtps:// URL", cfg->smtp_url);
	if ((why = mail_addr_check(cfg->mail_from)) != NULL)
		cfg_error(cfg, cfg->path, cfg->mail_from_line, "mail_from: "
		    "\"%s\" is not an email address: %s", cfg->mail_from, why);
}

/*
 * [mobkitd] store, node_id, lease_ms: a PostgreSQL URI instead of
 * state_dir (never both); the node's id (default: the host name) and its
 * lease, checked now, used by a cluster.
 */
static void
check_store(struct config *cfg)
{
	char host[256];
	const char *p;

	if (cfg->store != NULL && strncmp(cfg->store, "postgresql://", 13) != 0 &&
	    strncmp(cfg->store, "postgres://", 11) != 0)
		cfg_error(cfg, cfg->path, cfg->store_line, "store: not a "
		    "PostgreSQL URI (postgresql://[USER@]HOST[:PORT]/DATABASE)");
	if (cfg->store != NULL && cfg->state_dir != NULL)
		cfg_error(cfg, cfg->path, cfg->store_line, "store: cannot be "
		    "used with state_dir: one or the other keeps the state "
		    "(state_dir in SQLite files, store in PostgreSQL)");
	if (cfg->node_id == NULL) {
		if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		if ((cfg->node_id = strdup(host)) == NULL)
			fatal("config");
	} else {
		for (p = cfg->node_id; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' &&
			    *p != '_' && *p != '.')
				break;
		if (*p != '\0' || p == cfg->node_id || p - cfg->node_id > 63)
			cfg_error(cfg, cfg->path, cfg->node_id_line, "node_id: "
			    "\"%s\" is not 1 to 63 letters, digits, '-', '_' "
			    "or '.'", cfg->node_id);
	}
	if (cfg->lease_ms < 1000 || cfg->lease_ms > 3600000)
		cfg_error(cfg, cfg->path, cfg->lease_ms_line, "lease_ms: %lld "
		    "is out of range: from 1000 (a second) to 3600000 (an hour)",
		    (long long)cfg->lease_ms);
}

/* [mob] discover: a program and arguments that split, a deadline. */
static void
check_discover(struct config *cfg)
{
	struct strlist argv = { 0 };
	const char *err = NULL;

	if (cfg->discover == NULL)
		return;
	if (split_args(cfg->discover, &argv, &err) == -1 || argv.n == 0)
		cfg_error(cfg, cfg->path, cfg->discover_line, "[mob] discover: "
		    "%s", err != NULL ? err : "no program given");
	strlist_free(&argv);
	if (cfg->discover_timeout_ms < 1)
		cfg_error(cfg, cfg->path, cfg->discover_line, "[mob] "
		    "discover_timeout_ms must be at least 1");
}

/* Warnings: what is valid but will not work as it stands. */
static void
config_warn(struct config *cfg)
{
	const struct profile_conf *p;
	const char *v;
	char buf[PATH_MAX + 1400], where[PATH_MAX + 16];
	int i;

	for (i = 0; i < cfg->nprofiles; i++) {
		p = cfg->profiles[i];
		if (p->api_key_env == NULL ||
		    ((v = getenv(p->api_key_env)) != NULL && *v != '\0'))
			continue;
		snprintf(buf, sizeof(buf), "%s: warning: [profile %s]: "
		    "api_key_env: %s is %s in mobkitd's environment",
		    config_where(cfg, p->line, where, sizeof(where)), p->name,
		    p->api_key_env, v == NULL ? "not set" : "empty");
		(void)strlist_add(&cfg->warnings, buf);
	}
}

/* MCP servers follow modules, members follow them, so that the array is in start order by kind. */
static void
order_children(struct config *cfg)
{
	struct child_conf **v;
	int i, n = 0;

	if ((v = calloc((size_t)cfg->nchildren + 1, sizeof(*v))) == NULL)
		fatal("config");
	for (i = 0; i < cfg->nchildren; i++)
		if (cfg->children[i]->kind == KIND_MODULE)
			v[n++] = cfg->children[i];
	for (i = 0; i < cfg->nchildren; i++)
		if (cfg->children[i]->kind == KIND_MCP)
			v[n++] = cfg->children[i];
	for (i = 0; i < cfg->nchildren; i++)
		if (cfg->children[i]->kind == KIND_MEMBER)
			v[n++] = cfg->children[i];
	free(cfg->children);
	cfg->children = v;
}

/* No module depends on itself through others. */
static void
check_cycles(struct config *cfg)
{
	int i, *mark;

	if ((mark = calloc((size_t)cfg->nchildren + 1, sizeof(int))) == NULL)
		fatal("config");
	for (i = 0; i < cfg->nchildren; i++) {
		memset(mark, 0, sizeof(int) * (size_t)cfg->nchildren);
		if (cfg->children[i]->kind == KIND_MODULE &&
		    depends_cycle(cfg, cfg->children[i], mark))
			cfg_error(cfg, cfg->path, cfg->children[i]->depends_line,
			    "[module %s]: depends: dependency cycle",
			    cfg->children[i]->name);
	}
	free(mark);
}

/* Validate everything and fill defaults. */
void
config_finish(struct config *cfg)
{
	int i;

	if (cfg->control_socket == NULL &&
	    (cfg->control_socket = strdup(DEF_CONTROL_SOCKET)) == NULL)
		fatal("config");
	absolutize(cfg, &cfg->control_socket);
	absolutize(cfg, &cfg->state_dir);
	absolutize(cfg, &cfg->log_dir);
	if (cfg->mob_id == NULL && (cfg->mob_id = strdup("mob")) == NULL)
		fatal("config");
	if (cfg->smtp_url == NULL &&
	    (cfg->smtp_url = strdup("smtp://127.0.0.1:25")) == NULL)
		fatal("config");
	if (cfg->mail_from == NULL &&
	    (cfg->mail_from = strdup("mobkit@localhost")) == NULL)
		fatal("config");
	check_daemon(cfg);
	check_store(cfg);
	check_discover(cfg);
	gateway_finish(cfg);
	for (i = 0; i < cfg->ngroups; i++)
		check_group(cfg, cfg->groups[i]);
	for (i = 0; i < cfg->nprofiles; i++)
		check_profile(cfg, cfg->profiles[i]);
	for (i = 0; i < cfg->nchildren; i++) {
		struct child_conf *c = cfg->children[i];

		if (c->kind == KIND_MODULE)
			check_module(cfg, c);
		else if (c->kind == KIND_MCP)
			mcp_check(cfg, c);
		else
			check_member(cfg, c);
		check_child(cfg, c);
	}
	check_cycles(cfg);
	for (i = 0; i < cfg->nprofiles; i++)
		mcp_check_profile_tools(cfg, cfg->profiles[i]);
	for (i = 0; i < cfg->nroutes; i++)
		check_route(cfg, cfg->routes[i]);
	for (i = 0; i < cfg->nschedules; i++)
		check_schedule(cfg, cfg->schedules[i]);
	order_children(cfg);
	for (i = 0; i < cfg->nprofiles; i++) {
		free(cfg->profiles[i]->params);
		if ((cfg->profiles[i]->params =
		    profile_params_json(cfg->profiles[i])) == NULL)
			fatal("config");
	}
	if (cfg->errors.n == 0)
		config_warn(cfg);
}

