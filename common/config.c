/*
 * config.c: load the INI file with inih into typed structs; look up, copy
 * and free what was loaded; the small parsers the daemon shares (strlists,
 * numbers, signal names, shell-like argument splitting).
 *
 * config_int.h says how the loader is split: this file opens the file and
 * runs inih with config_read.c's reader and handler (sections begun by
 * config_sections.c), then config_check.c validates and fills defaults.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config_int.h"
#include "log.h"

const char *const restart_names[] = { "always", "on_failure", "never", NULL };
const char *const ready_names[] = { "message", "stdout", "notify", "none",
    NULL };
const char *const strategy_names[] = { "one_for_one", "one_for_all",
    "rest_for_one", NULL };
const char *const exhausted_names[] = { "degrade", "escalate", NULL };
const char *const kind_names[] = { "module", "member", "mcp", NULL };

/* "FILE:LINE" of a location into buf. */
const char *
config_where(const struct config *cfg, int loc, char *buf, size_t len)
{
	int i = loc / LOC_FILE;

	snprintf(buf, len, "%s:%d", i > 0 && i < cfg->files.n ?
	    cfg->files.v[i] : cfg->path, loc % LOC_FILE);
	return buf;
}

/* Where there is, seen from here: "line N" in the same file, else FILE:N. */
const char *
cfg_place(const struct config *cfg, int here, int there, char *buf,
    size_t len)
{
	char where[PATH_MAX + 16];

	if (here / LOC_FILE == there / LOC_FILE)
		snprintf(buf, len, "line %d", there % LOC_FILE);
	else
		snprintf(buf, len, "%s", config_where(cfg, there, where,
		    sizeof(where)));
	return buf;
}

/* Record one "FILE:LINE: message" problem. */
void
cfg_error(struct config *cfg, const char *file, int line, const char *fmt, ...)
{
	char msg[1024], buf[PATH_MAX + 1100];
	va_list ap;
	int i = line / LOC_FILE;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (i > 0 && i < cfg->files.n)
		file = cfg->files.v[i];
	if (line > 0)
		snprintf(buf, sizeof(buf), "%s:%d: %s", file, line % LOC_FILE,
		    msg);
	else
		snprintf(buf, sizeof(buf), "%s: %s", file, msg);
	(void)strlist_add(&cfg->errors, buf);
}

int
strlist_add(struct strlist *l, const char *s)
{
	char **nv, *d;

	if ((d = strdup(s)) == NULL)
		return -1;
	if ((nv = reallocarray(l->v, (size_t)l->n + 2, sizeof(*nv))) == NULL) {
		free(d);
		return -1;
	}
	l->v = nv;
	l->v[l->n++] = d;
	l->v[l->n] = NULL;
	return 0;
}

int
strlist_has(const struct strlist *l, const char *s)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

void
strlist_free(struct strlist *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A copy of a list into dst. */
int
strlist_copy(struct strlist *dst, const struct strlist *src)
{
	int i;

	memset(dst, 0, sizeof(*dst));
	for (i = 0; i < src->n; i++)
		if (strlist_add(dst, src->v[i]) == -1)
			return -1;
	return 0;
}

/* A non-negative integer with nothing after it. */
int
parse_ms(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return -1;
	*out = v;
	return 0;
}

static const struct {
	const char	*name;
	int		 sig;
} signames[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	{ "TERM", SIGTERM }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "PIPE", SIGPIPE },
	{ "SEGV", SIGSEGV }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "WINCH", SIGWINCH },
	{ "PWR", SIGPWR }, { "SYS", SIGSYS }, { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF }, { "CHLD", SIGCHLD },
};

/* "TERM", "SIGTERM" or "15" to a signal number; -1 when not one. */
int
signal_parse(const char *s)
{
	int64_t n;
	size_t i;

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	if (parse_ms(s, &n) == 0)
		return n >= 1 && n < NSIG ? (int)n : -1;
	for (i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (strcasecmp(s, signames[i].name) == 0)
			return signames[i].sig;
	return -1;
}

/* The short name of a signal ("KILL"), or its number as text. */
const char *
signal_name(int sig)
{
	static char buf[16];
	size_t i;

	for (i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (signames[i].sig == sig)
			return signames[i].name;
	snprintf(buf, sizeof(buf), "%d", sig);
	return buf;
}

/*
 * One word's character (or quoted part) at *sp into *pp, both advanced
 * past it; -1 with *err set when a quote or an escape is unfinished.
 */
static int
word_part(const char **sp, char **pp, const char **err)
{
	const char *s = *sp;
	char *p = *pp;

	if (*s == '\'') {
		while (*++s != '\'') {
			if (*s == '\0') {
				*err = "unterminated single quote";
				return -1;
			}
			*p++ = *s;
		}
	} else if (*s == '"') {
		while (*++s != '"') {
			if (*s == '\0') {
				*err = "unterminated double quote";
				return -1;
			}
			if (*s == '\\' && s[1] != '\0' &&
			    strchr("\"\\$`", s[1]) != NULL)
				s++;
			*p++ = *s;
		}
	} else if (*s == '\\') {
		if (*++s == '\0') {
			*err = "trailing backslash";
			return -1;
		}
		*p++ = *s;
	} else
		*p++ = *s;
	*sp = s + 1;
	*pp = p;
	return 0;
}

/*
 * Split a string into words like a shell would: blanks separate, single
 * quotes keep everything, double quotes keep all but \" \\ \$ \`, and a
 * backslash outside quotes escapes the next character.  No expansion.
 */
int
split_args(const char *s, struct strlist *out, const char **err)
{
	char *w, *p;
	int inword = 0;

	memset(out, 0, sizeof(*out));
	if ((w = malloc(strlen(s) + 1)) == NULL) {
		*err = "out of memory";
		return -1;
	}
	p = w;
	while (*s != '\0') {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			s++;
			if (!inword)
				continue;
			*p = '\0';
			if (strlist_add(out, w) == -1)
				goto nomem;
			p = w;
			inword = 0;
			continue;
		}
		inword = 1;
		if (word_part(&s, &p, err) == -1)
			goto fail;
	}
	*p = '\0';
	if (inword && strlist_add(out, w) == -1)
		goto nomem;
	free(w);
	return 0;
nomem:
	*err = "out of memory";
fail:
	free(w);
	strlist_free(out);
	return -1;
}

/* A child's keys all unset, to be filled by its section and defaults. */
void
child_conf_init(struct child_conf *c)
{
	c->restart = UNSET;
	c->ready = UNSET;
	c->max_restarts = UNSET;
	c->restart_window_ms = UNSET;
	c->restart_backoff_ms = UNSET;
	c->restart_backoff_max_ms = UNSET;
	c->on_exhausted = UNSET;
	c->start_timeout_ms = UNSET;
	c->stop_timeout_ms = UNSET;
	c->stop_signal = UNSET;
	c->watchdog_ms = UNSET;
	c->limit_nofile = UNSET;
}

/* Append p to the array at *arr of *n elements. */
int
push(void *arrp, int *n, void *p)
{
	void ***arr = arrp;
	void **nv;

	if ((nv = reallocarray(*arr, (size_t)*n + 1, sizeof(*nv))) == NULL)
		return -1;
	nv[(*n)++] = p;
	*arr = nv;
	return 0;
}

/* The [mobkitd] defaults, before the file is read. */
static void
config_defaults(struct config *cfg)
{
	cfg->log_level = LOG_L_INFO;
	cfg->start_timeout_ms = 5000;
	cfg->stop_timeout_ms = 5000;
	cfg->drain_timeout_ms = 30000;
	cfg->strategy = STRAT_ONE_FOR_ONE;
	cfg->max_restarts = 5;
	cfg->restart_window_ms = 60000;
	cfg->max_input_bytes = 1048576;
	cfg->input_retention_ms = 86400000;
	cfg->input_retention_max = 10000;
	cfg->delivery_retention_ms = 86400000;
	cfg->delivery_retention_max = 100000;
	cfg->event_buffer_bytes = 8388608;
	cfg->client_buffer_bytes = 4194304;
	cfg->log_buffer_bytes = 262144;
	cfg->log_max_bytes = 10485760;
	cfg->log_keep = 5;
	cfg->discover_timeout_ms = 30000;
	cfg->lease_ms = 10000;
}

/* The directory relative paths in the file are taken from. */
static void
config_dir(struct config *cfg, const char *path)
{
	char *rp, *tmp;

	if ((rp = realpath(path, NULL)) != NULL) {
		tmp = strdup(rp);
		cfg->dir = strdup(dirname(tmp));
		free(tmp);
		free(rp);
	} else {
		tmp = strdup(path);
		cfg->dir = strdup(dirname(tmp));
		free(tmp);
	}
}

/*
 * Read one file (the main one, or included one number idx) through inih
 * with our reader and handler; it starts outside any section.
 */
static void
read_file(struct parse *ps, FILE *fp, int idx)
{
	struct config *cfg = ps->cfg;
	int r, nerr = cfg->errors.n;

	ps->fp = fp;
	ps->file = cfg->files.v[idx];
	ps->lineno = idx * LOC_FILE;
	ps->sect = S_NONE;
	ps->keys = NULL;
	ps->obj = NULL;
	ps->cont = 0;
	ps->last = NULL;
	strlist_free(&ps->seen);
	r = ini_parse_stream(cfg_reader, ps, cfg_handler, ps);
	fclose(fp);
	if (r > 0 && cfg->errors.n == nerr)
		cfg_error(cfg, ps->file, idx * LOC_FILE + r, "syntax error");
	if (r < 0 && cfg->errors.n == nerr)
		cfg_error(cfg, ps->file, 0, "cannot parse (error %d)", r);
}

/* Is this file already read (the main one, or included before)? */
static int
file_seen(const struct config *cfg, const char *path)
{
	char *rp, *rq;
	int i, seen = 0;

	if ((rp = realpath(path, NULL)) == NULL)
		return 0;
	for (i = 0; i < cfg->files.n && !seen; i++)
		if ((rq = realpath(cfg->files.v[i], NULL)) != NULL) {
			seen = strcmp(rp, rq) == 0;
			free(rq);
		}
	free(rp);
	return seen;
}

/* Read one file an include pattern matched. */
static void
include_one(struct parse *ps, const char *path, int line)
{
	struct config *cfg = ps->cfg;
	FILE *fp;

	if (file_seen(cfg, path))
		return;
	if (cfg->files.n > LOC_MAXFILES) {
		cfg_error(cfg, cfg->path, line, "include: more than %d files",
		    LOC_MAXFILES);
		return;
	}
	if ((fp = open_regular(cfg, path, line, "include")) == NULL)
		return;
	if (strlist_add(&cfg->files, path) == -1)
		fatal("config");
	read_file(ps, fp, cfg->files.n - 1);
}

static int glob_errno;		/* why the last glob() gave up */

/* A directory a pattern goes through that is missing is no error. */
static int
glob_error(const char *path, int err)
{
	(void)path;
	if (err == ENOENT || err == ENOTDIR)
		return 0;
	glob_errno = err;
	return 1;
}

/*
 * [mobkitd] include: each pattern, relative to the file's directory, in
 * the order given; the files of one pattern sorted (glob(3)).  A pattern
 * that matches nothing is fine, unless it names one file (no * ? [).
 */
static void
read_includes(struct parse *ps)
{
	struct config *cfg = ps->cfg;
	glob_t g;
	char *pat;
	size_t j;
	int i, r;

	for (i = 0; i < cfg->include.n; i++) {
		if ((pat = strdup(cfg->include.v[i])) == NULL)
			fatal("config");
		absolutize(cfg, &pat);
		glob_errno = 0;
		r = glob(pat, 0, glob_error, &g);
		if (r == GLOB_NOMATCH && strpbrk(pat, "*?[") == NULL)
			cfg_error(cfg, cfg->path, ps->include_line[i],
			    "include: \"%s\": %s", pat, strerror(ENOENT));
		else if (r == GLOB_ABORTED)
			cfg_error(cfg, cfg->path, ps->include_line[i],
			    "include: \"%s\": cannot read its directory: %s",
			    pat, strerror(glob_errno));
		else if (r == GLOB_NOSPACE)
			fatal("glob");
		for (j = 0; r == 0 && j < g.gl_pathc; j++)
			include_one(ps, g.gl_pathv[j], ps->include_line[i]);
		if (r == 0)
			globfree(&g);
		free(pat);
	}
}

/* Parse and validate a config file; problems land in cfg->errors. */
struct config *
config_load(const char *path)
{
	struct config *cfg;
	struct parse ps;
	FILE *fp;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return NULL;
	cfg->path = strdup(path);
	if (strlist_add(&cfg->files, path) == -1)
		fatal("config");
	config_defaults(cfg);
	config_dir(cfg, path);
	memset(&ps, 0, sizeof(ps));
	ps.cfg = cfg;
	if ((fp = open_regular(cfg, path, 0, "config file")) == NULL)
		return cfg;
	read_file(&ps, fp, 0);
	read_includes(&ps);
	strlist_free(&ps.seen);
	free(ps.include_line);
	if (cfg->errors.n == 0)
		config_finish(cfg);
	return cfg;
}

struct child_conf *
config_child(const struct config *cfg, const char *name)
{
	int i;

	for (i = 0; i < cfg->nchildren; i++)
		if (strcmp(cfg->children[i]->name, name) == 0)
			return cfg->children[i];
	return NULL;
}

struct group_conf *
config_group(const struct config *cfg, const char *name)
{
	int i;

	for (i = 0; i < cfg->ngroups; i++)
		if (strcmp(cfg->groups[i]->name, name) == 0)
			return cfg->groups[i];
	return NULL;
}

struct profile_conf *
config_profile(const struct config *cfg, const char *name)
{
	int i;

	for (i = 0; i < cfg->nprofiles; i++)
		if (strcmp(cfg->profiles[i]->name, name) == 0)
			return cfg->profiles[i];
	return NULL;
}

static void
fp_str(FILE *fp, const char *k, const char *v)
{
	fprintf(fp, "%s=%zu:%s;", k, v ? strlen(v) : 0, v ? v : "");
}

static void
fp_list(FILE *fp, const char *k, const struct strlist *l)
{
	int i;

	fprintf(fp, "%s=%d[", k, l->n);
	for (i = 0; i < l->n; i++)
		fp_str(fp, "", l->v[i]);
	fprintf(fp, "];");
}

/* A canonical text of everything that makes a child what it is. */
char *
child_conf_fingerprint(const struct config *cfg, const struct child_conf *c)
{
	const struct profile_conf *p;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		fatal("open_memstream");
	fprintf(fp, "%d;%d;%d;%d;%d;%lld;%lld;%lld;%d;%lld;%lld;", c->kind,
	    c->restart, c->ready, c->max_restarts, c->on_exhausted,
	    (long long)c->restart_window_ms, (long long)c->restart_backoff_ms,
	    (long long)c->restart_backoff_max_ms, c->stop_signal,
	    (long long)c->start_timeout_ms, (long long)c->stop_timeout_ms);
	fprintf(fp, "%lld;%lld;", (long long)c->watchdog_ms,
	    (long long)c->limit_nofile);
	fp_list(fp, "pass_env", &c->pass_env);
	fp_str(fp, "command", c->command);
	fp_list(fp, "argv", &c->argv);
	fp_str(fp, "group", c->group);
	fp_list(fp, "depends", &c->depends);
	fp_str(fp, "cwd", c->cwd);
	fp_str(fp, "user", c->user);
	fp_list(fp, "env", &c->env);
	fp_str(fp, "profile", c->profile);
	fp_str(fp, "instructions", c->instructions);
	fp_str(fp, "node", c->node);
	if (c->profile != NULL &&
	    (p = config_profile(cfg, c->profile)) != NULL) {
		fp_str(fp, "provider", p->provider);
		fp_str(fp, "model", p->model);
		fp_str(fp, "base_url", p->base_url);
		fp_str(fp, "api_key_env", p->api_key_env);
		fp_str(fp, "system", p->system);
		fprintf(fp, "%lld;%d;%d;%d;", (long long)p->request_timeout_ms,
		    p->max_attempts, p->mailbox_capacity, p->comms);
	}
	fclose(fp);
	return buf;
}

/* A deep copy, so that a running child outlives the config it came from. */
struct child_conf *
child_conf_dup(const struct child_conf *c)
{
	struct child_conf *d;

#define DUPS(f) do {							\
	if (c->f != NULL && (d->f = strdup(c->f)) == NULL)		\
		fatal("config");					\
} while (0)
	if ((d = malloc(sizeof(*d))) == NULL)
		fatal("config");
	*d = *c;
	d->name = d->command = d->args = d->group = d->cwd = d->user = NULL;
	d->profile = d->instructions = d->instructions_file = NULL;
	d->node = NULL;
	d->url = NULL;
	memset(&d->headers, 0, sizeof(d->headers));
	DUPS(name);
	DUPS(command);
	DUPS(args);
	DUPS(group);
	DUPS(cwd);
	DUPS(user);
	DUPS(profile);
	DUPS(instructions);
	DUPS(instructions_file);
	DUPS(node);
	DUPS(url);
#undef DUPS
	if (strlist_copy(&d->argv, &c->argv) == -1 ||
	    strlist_copy(&d->depends, &c->depends) == -1 ||
	    strlist_copy(&d->env, &c->env) == -1 ||
	    strlist_copy(&d->pass_env, &c->pass_env) == -1 ||
	    strlist_copy(&d->peers, &c->peers) == -1 ||
	    strlist_copy(&d->headers, &c->headers) == -1)
		fatal("config");
	return d;
}

void
child_conf_free(struct child_conf *c)
{
	if (c == NULL)
		return;
	free(c->name);
	free(c->command);
	free(c->args);
	free(c->group);
	free(c->cwd);
	free(c->user);
	free(c->profile);
	free(c->instructions);
	free(c->instructions_file);
	free(c->node);
	strlist_free(&c->argv);
	strlist_free(&c->depends);
	strlist_free(&c->env);
	strlist_free(&c->pass_env);
	strlist_free(&c->peers);
	free(c->url);
	strlist_free(&c->headers);
	free(c);
}

/* A [profile] and what it holds. */
static void
profile_conf_free(struct profile_conf *p)
{
	free(p->name);
	free(p->provider);
	free(p->model);
	free(p->base_url);
	free(p->api_key_env);
	free(p->system);
	free(p->system_file);
	free(p->params);
	free(p->api_key_header);
	strlist_free(&p->http_headers);
	strlist_free(&p->http_query);
	free(p->temperature);
	free(p->top_p);
	strlist_free(&p->stop);
	free(p->response_format);
	free(p->response_schema_file);
	free(p->response_schema);
	free(p->tmpl.cwd);
	free(p->tmpl.user);
	strlist_free(&p->tmpl.env);
	strlist_free(&p->tmpl.pass_env);
	strlist_free(&p->tools);
	free(p);
}

/* A [route] and a [schedule], and what they hold. */
static void
route_schedule_free(struct route_conf *r, struct schedule_conf *s)
{
	if (r != NULL) {
		free(r->id);
		free(r->recipient);
		free(r->channel);
		free(r->sink);
		free(r->target);
		free(r);
	}
	if (s != NULL) {
		free(s->id);
		free(s->interval);
		free(s->cron);
		free(s->timezone);
		free(s->member);
		free(s->message);
		free(s);
	}
}

/* A loaded config and everything in it. */
void
config_free(struct config *cfg)
{
	int i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nchildren; i++)
		child_conf_free(cfg->children[i]);
	free(cfg->children);
	for (i = 0; i < cfg->ngroups; i++) {
		free(cfg->groups[i]->name);
		free(cfg->groups[i]->parent);
		free(cfg->groups[i]);
	}
	free(cfg->groups);
	for (i = 0; i < cfg->nprofiles; i++)
		profile_conf_free(cfg->profiles[i]);
	free(cfg->profiles);
	for (i = 0; i < cfg->nroutes; i++)
		route_schedule_free(cfg->routes[i], NULL);
	free(cfg->routes);
	for (i = 0; i < cfg->nschedules; i++)
		route_schedule_free(NULL, cfg->schedules[i]);
	free(cfg->schedules);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->control_socket);
	free(cfg->state_dir);
	free(cfg->log_dir);
	free(cfg->store);
	free(cfg->node_id);
	free(cfg->mob_id);
	free(cfg->discover);
	strlist_free(&cfg->pass_env);
	strlist_free(&cfg->include);
	strlist_free(&cfg->files);
	free(cfg->smtp_url);
	free(cfg->mail_from);
	gateway_conf_free(cfg->gateway);
	strlist_free(&cfg->errors);
	strlist_free(&cfg->warnings);
	free(cfg);
}
