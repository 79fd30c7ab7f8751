/*
 * config.c: load the INI file with inih into typed structs.
 *
 * Debian's libinih passes no line number to the handler and cuts lines at
 * 200 bytes, so we feed it through a reader of our own: it counts lines,
 * refuses an over-long line by name, parses section headers itself (so an
 * empty section and a duplicate one are seen) and tells the handler whether
 * a line is an indented continuation of the previous value.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "cron.h"
#include "log.h"
#include "mail.h"

const char *const restart_names[] = { "always", "on_failure", "never", NULL };
const char *const ready_names[] = { "message", "stdout", "notify", "none",
    NULL };
const char *const strategy_names[] = { "one_for_one", "one_for_all",
    "rest_for_one", NULL };
const char *const exhausted_names[] = { "degrade", "escalate", NULL };
const char *const kind_names[] = { "module", "member", NULL };
static const char *const level_names[] = { "error", "warn", "info", "debug",
    NULL };
static const char *const provider_names[] = { "echo", "openai", NULL };
static const char *const sink_names[] = { "webhook", "email", "mob_member",
    "file", NULL };

#define LINE_LIMIT	197	/* inih's 200-byte buffer less \r \n \0 */
#define FILE_LIMIT	(1024 * 1024)
#define UNSET		(-1)
#define SUN_PATH_MAX	(sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

enum ktype { K_STR, K_MS, K_INT, K_BOOL, K_ENUM, K_SIGNAL, K_LIST, K_CHOICE };

struct keydef {
	const char		*name;
	int			 type;
	size_t			 off;
	const char *const	*names;		/* K_ENUM */
	ptrdiff_t		 lineoff;	/* where to note the line, or -1 */
};

enum sect { S_NONE, S_MOBKITD, S_GROUP, S_MODULE, S_MOB, S_PROFILE, S_MEMBER,
    S_ROUTE, S_DELIVERY, S_SCHEDULE, S_SKIP };

#define CK(f)	offsetof(struct child_conf, f)
#define PT(f)	(offsetof(struct profile_conf, tmpl) + CK(f))
#define NOL	(-1)

static const struct keydef mobkitd_keys[] = {
	{ "control_socket", K_STR, offsetof(struct config, control_socket), NULL,
	    offsetof(struct config, control_socket_line) },
	{ "state_dir", K_STR, offsetof(struct config, state_dir), NULL, NOL },
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

#define PF(f)	offsetof(struct profile_conf, f)
static const struct keydef profile_keys[] = {
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
	{ "user", K_STR, PT(user), NULL, NOL },
	{ "cwd", K_STR, PT(cwd), NULL, NOL },
	RESTART_KEYS(PT),
	{ NULL, 0, 0, NULL, NOL }
};

static const struct keydef member_keys[] = {
	{ "profile", K_STR, CK(profile), NULL, CK(profile_line) },
	{ "instructions", K_STR, CK(instructions), NULL, NOL },
	{ "instructions_file", K_STR, CK(instructions_file), NULL, NOL },
	{ "peers", K_LIST, CK(peers), NULL, CK(peers_line) },
	{ NULL, 0, 0, NULL, NOL }
};

static const struct keydef mob_keys[] = {
	{ "id", K_STR, offsetof(struct config, mob_id), NULL, NOL },
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
};

struct parse {
	struct config		*cfg;
	FILE			*fp;
	const char		*file;
	int			 lineno;
	int			 cont;		/* this line continues a value */
	int			 sect;
	void			*obj;
	const struct keydef	*keys;
	struct strlist		 seen;		/* keys of this section */
	const char		*last;		/* the key a continuation extends */
	char			 lastbuf[128];
	int			 seen_mobkitd, seen_mob, seen_delivery;
};

static void	cfg_error(struct config *, const char *file, int line,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Record one "FILE:LINE: message" problem. */
static void
cfg_error(struct config *cfg, const char *file, int line, const char *fmt, ...)
{
	char msg[1024], buf[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(buf, sizeof(buf), "%s:%d: %s", file, line, msg);
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

static int
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
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			if (inword) {
				*p = '\0';
				if (strlist_add(out, w) == -1)
					goto nomem;
				p = w;
				inword = 0;
			}
			continue;
		}
		inword = 1;
		if (*s == '\'') {
			while (*++s != '\'') {
				if (*s == '\0') {
					*err = "unterminated single quote";
					goto fail;
				}
				*p++ = *s;
			}
		} else if (*s == '"') {
			while (*++s != '"') {
				if (*s == '\0') {
					*err = "unterminated double quote";
					goto fail;
				}
				if (*s == '\\' && s[1] != '\0' &&
				    strchr("\"\\$`", s[1]) != NULL)
					s++;
				*p++ = *s;
			}
		} else if (*s == '\\') {
			if (*++s == '\0') {
				*err = "trailing backslash";
				goto fail;
			}
			*p++ = *s;
		} else
			*p++ = *s;
	}
	if (inword) {
		*p = '\0';
		if (strlist_add(out, w) == -1)
			goto nomem;
	}
	free(w);
	return 0;
nomem:
	*err = "out of memory";
fail:
	free(w);
	strlist_free(out);
	return -1;
}

static void
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
static int
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

/* Is this name already taken by a section of the same namespace? */
static int
name_taken(struct config *cfg, int sect, const char *name, int *line)
{
	int i;

	switch (sect) {
	case S_MODULE:
	case S_MEMBER:
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

/* Begin a section from its header text (inside the brackets). */
static void
begin_section(struct parse *ps, char *text)
{
	struct config *cfg = ps->cfg;
	char *word, *name, *sp;
	size_t i;
	int line, *seen = NULL;
	void *obj = NULL;

	strlist_free(&ps->seen);
	ps->last = NULL;
	ps->sect = S_SKIP;
	ps->keys = NULL;
	word = text + strspn(text, " \t");
	sp = word + strcspn(word, " \t");
	name = sp + strspn(sp, " \t");
	*sp = '\0';
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcmp(word, sections[i].word) == 0)
			break;
	if (i == sizeof(sections) / sizeof(sections[0])) {
		cfg_error(cfg, ps->file, ps->lineno,
		    "unknown section [%s]: expected one of mobkitd, group, "
		    "module, mob, profile, member, route, delivery, schedule",
		    word);
		return;
	}
	if (sections[i].named && *name == '\0') {
		cfg_error(cfg, ps->file, ps->lineno, "[%s] needs a name: "
		    "[%s NAME]", word, word);
		return;
	}
	if (!sections[i].named && *name != '\0') {
		cfg_error(cfg, ps->file, ps->lineno, "[%s] takes no name "
		    "(got \"%s\")", word, name);
		return;
	}
	if (sections[i].named && !valid_name(name)) {
		cfg_error(cfg, ps->file, ps->lineno, "bad name \"%s\": use "
		    "letters, digits, '.', '_' and '-' (at most 64)", name);
		return;
	}
	if ((sections[i].sect == S_MODULE || sections[i].sect == S_MEMBER) &&
	    (strcmp(name, "root") == 0 || strcmp(name, "mob") == 0)) {
		cfg_error(cfg, ps->file, ps->lineno, "[%s %s]: \"%s\" is a "
		    "reserved name (the group %s): choose another", word, name,
		    name, name);
		return;
	}
	if (sections[i].named && name_taken(cfg, sections[i].sect, name,
	    &line)) {
		cfg_error(cfg, ps->file, ps->lineno, "duplicate name \"%s\" "
		    "(first defined at line %d)", name, line);
		return;
	}
	switch (sections[i].sect) {
	case S_MOBKITD:
		seen = &ps->seen_mobkitd;
		obj = cfg;
		break;
	case S_MOB:
		seen = &ps->seen_mob;
		obj = cfg;
		break;
	case S_DELIVERY:
		seen = &ps->seen_delivery;
		obj = cfg;
		break;
	case S_GROUP: {
		struct group_conf *g = calloc(1, sizeof(*g));

		if (g == NULL || (g->name = strdup(name)) == NULL ||
		    push(&cfg->groups, &cfg->ngroups, g) == -1)
			fatal("config");
		g->line = ps->lineno;
		g->strategy = UNSET;
		g->max_restarts = UNSET;
		g->restart_window_ms = UNSET;
		obj = g;
		break;
	}
	case S_MODULE:
	case S_MEMBER: {
		struct child_conf *c = calloc(1, sizeof(*c));

		if (c == NULL || (c->name = strdup(name)) == NULL ||
		    push(&cfg->children, &cfg->nchildren, c) == -1)
			fatal("config");
		child_conf_init(c);
		c->line = ps->lineno;
		c->kind = sections[i].sect == S_MODULE ? KIND_MODULE :
		    KIND_MEMBER;
		obj = c;
		break;
	}
	case S_PROFILE: {
		struct profile_conf *p = calloc(1, sizeof(*p));

		if (p == NULL || (p->name = strdup(name)) == NULL ||
		    push(&cfg->profiles, &cfg->nprofiles, p) == -1)
			fatal("config");
		p->line = ps->lineno;
		p->request_timeout_ms = UNSET;
		p->max_attempts = UNSET;
		p->mailbox_capacity = UNSET;
		p->comms = UNSET;
		p->history_max_bytes = UNSET;
		child_conf_init(&p->tmpl);
		obj = p;
		break;
	}
	case S_ROUTE: {
		struct route_conf *r = calloc(1, sizeof(*r));

		if (r == NULL || (r->id = strdup(name)) == NULL ||
		    push(&cfg->routes, &cfg->nroutes, r) == -1)
			fatal("config");
		r->line = ps->lineno;
		r->retry_max = UNSET;
		r->backoff_ms = UNSET;
		r->rate_limit_per_minute = UNSET;
		obj = r;
		break;
	}
	case S_SCHEDULE: {
		struct schedule_conf *s = calloc(1, sizeof(*s));

		if (s == NULL || (s->id = strdup(name)) == NULL ||
		    push(&cfg->schedules, &cfg->nschedules, s) == -1)
			fatal("config");
		s->line = ps->lineno;
		s->enabled = UNSET;
		s->jitter_ms = UNSET;
		s->catch_up = UNSET;
		obj = s;
		break;
	}
	}
	if (seen != NULL) {
		if (*seen) {
			cfg_error(cfg, ps->file, ps->lineno, "duplicate "
			    "section [%s] (first at line %d)", word, *seen);
			return;
		}
		*seen = ps->lineno;
	}
	ps->sect = sections[i].sect;
	ps->keys = sections[i].keys;
	ps->obj = obj;
}

/*
 * The reader inih calls for each line: count it, refuse an over-long one,
 * handle section headers and note whether it is an indented continuation.
 */
static char *
cfg_reader(char *str, int num, void *arg)
{
	struct parse *ps = arg;
	char *line = NULL, *t, *end;
	size_t cap = 0;
	ssize_t n;

	for (;;) {
		errno = 0;
		n = getline(&line, &cap, ps->fp);
		if (n == -1) {
			if (ferror(ps->fp))
				cfg_error(ps->cfg, ps->file, ps->lineno + 1,
				    "read error: %s", strerror(errno));
			free(line);
			return NULL;
		}
		ps->lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n > LINE_LIMIT || n >= num - 2) {
			cfg_error(ps->cfg, ps->file, ps->lineno, "line is %zd "
			    "characters long, the limit is %d: continue the "
			    "value on indented lines, or use a *_file key",
			    n, LINE_LIMIT);
			ps->last = NULL;
			continue;
		}
		t = line + strspn(line, " \t");
		if (*t == '\0' || *t == ';' || *t == '#') {
			snprintf(str, (size_t)num, "\n");
			free(line);
			ps->cont = 0;
			return str;
		}
		if (*t == '[') {
			if ((end = strchr(t, ']')) == NULL) {
				cfg_error(ps->cfg, ps->file, ps->lineno,
				    "section header without ']'");
				ps->sect = S_SKIP;
			} else {
				*end = '\0';
				begin_section(ps, t + 1);
			}
			ps->cont = 0;
			free(line);
			/* inih still needs to see it to reset its state */
			snprintf(str, (size_t)num, "[x]\n");
			return str;
		}
		ps->cont = (t != line);
		if (!ps->cont && strchr(t, '=') == NULL &&
		    strchr(t, ':') == NULL) {
			cfg_error(ps->cfg, ps->file, ps->lineno, "expected "
			    "\"key = value\", got \"%s\"", t);
			continue;
		}
		snprintf(str, (size_t)num, "%s\n", line);
		free(line);
		return str;
	}
}

/* Store one value into the field a keydef names. */
static int
set_value(struct parse *ps, const struct keydef *k, const char *value)
{
	char *base = ps->obj;
	int64_t v;
	int i, sig;

	switch (k->type) {
	case K_STR:
		free(*(char **)(base + k->off));
		if ((*(char **)(base + k->off) = strdup(value)) == NULL)
			fatal("config");
		return 0;
	case K_MS:
		if (parse_ms(value, &v) == -1)
			goto bad;
		*(int64_t *)(base + k->off) = v;
		return 0;
	case K_INT:
		if (parse_ms(value, &v) == -1 || v > INT_MAX)
			goto bad;
		*(int *)(base + k->off) = (int)v;
		return 0;
	case K_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
		    strcmp(value, "1") == 0)
			*(int *)(base + k->off) = 1;
		else if (strcmp(value, "false") == 0 ||
		    strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
			*(int *)(base + k->off) = 0;
		else
			goto bad;
		return 0;
	case K_ENUM:
	case K_CHOICE:
		for (i = 0; k->names[i] != NULL; i++)
			if (strcmp(value, k->names[i]) == 0)
				break;
		if (k->names[i] == NULL) {
			char all[256];
			size_t o = 0;

			all[0] = '\0';
			for (i = 0; k->names[i] != NULL && o < sizeof(all); i++)
				o += (size_t)snprintf(all + o, sizeof(all) - o,
				    "%s%s", i ? " | " : "", k->names[i]);
			cfg_error(ps->cfg, ps->file, ps->lineno, "%s: bad value "
			    "\"%s\": expected %s", k->name, value, all);
			return -1;
		}
		if (k->type == K_ENUM)
			*(int *)(base + k->off) = i;
		else {
			free(*(char **)(base + k->off));
			if ((*(char **)(base + k->off) = strdup(value)) == NULL)
				fatal("config");
		}
		return 0;
	case K_SIGNAL:
		if ((sig = signal_parse(value)) == -1)
			goto bad;
		*(int *)(base + k->off) = sig;
		return 0;
	case K_LIST: {
		struct strlist *l = (struct strlist *)(base + k->off);
		const char *err;

		strlist_free(l);
		if (split_args(value, l, &err) == -1) {
			cfg_error(ps->cfg, ps->file, ps->lineno, "%s: %s in "
			    "\"%s\"", k->name, err, value);
			return -1;
		}
		return 0;
	}
	}
bad:
	cfg_error(ps->cfg, ps->file, ps->lineno, "%s: bad value \"%s\": %s",
	    k->name, value, k->type == K_MS ? "expected milliseconds (a whole "
	    "number >= 0)" : k->type == K_INT ? "expected a whole number >= 0" :
	    k->type == K_BOOL ? "expected true or false" :
	    "expected a signal name such as TERM");
	return -1;
}

/* env.NAME = value, in [module] and [profile]. */
static int
set_env(struct parse *ps, const char *name, const char *value)
{
	struct strlist *env;
	const char *p;
	char *kv;
	int i;
	size_t nl;

	if (ps->sect == S_MODULE)
		env = &((struct child_conf *)ps->obj)->env;
	else if (ps->sect == S_PROFILE)
		env = &((struct profile_conf *)ps->obj)->tmpl.env;
	else {
		cfg_error(ps->cfg, ps->file, ps->lineno, "env.* keys belong in "
		    "[module] or [profile]");
		return -1;
	}
	p = name + 4;
	if (*p == '\0' || isdigit((unsigned char)*p)) {
		cfg_error(ps->cfg, ps->file, ps->lineno, "bad environment "
		    "variable name \"%s\"", p);
		return -1;
	}
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_') {
			cfg_error(ps->cfg, ps->file, ps->lineno, "bad "
			    "environment variable name \"%s\"", name + 4);
			return -1;
		}
	nl = strlen(name + 4);
	for (i = 0; i < env->n; i++)
		if (strncmp(env->v[i], name + 4, nl) == 0 &&
		    env->v[i][nl] == '=') {
			cfg_error(ps->cfg, ps->file, ps->lineno, "duplicate key "
			    "\"%s\"", name);
			return -1;
		}
	if (asprintf(&kv, "%s=%s", name + 4, value) == -1)
		fatal("config");
	if (strlist_add(env, kv) == -1)
		fatal("config");
	free(kv);
	return 0;
}

/* Append a continuation line to the string value of the last key. */
static int
continue_value(struct parse *ps, const char *name, const char *value)
{
	const struct keydef *k;
	char **sp, *nv;

	if (ps->last == NULL || strcmp(ps->last, name) != 0)
		goto bad;
	for (k = ps->keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			break;
	if (k->name == NULL || k->type != K_STR)
		goto bad;
	sp = (char **)((char *)ps->obj + k->off);
	if (asprintf(&nv, "%s\n%s", *sp, value) == -1)
		fatal("config");
	free(*sp);
	*sp = nv;
	return 1;
bad:
	cfg_error(ps->cfg, ps->file, ps->lineno, "indented line continues "
	    "\"%s\", which takes a single line", name);
	return 1;
}

/* The inih handler: one key = value of the current section. */
static int
cfg_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct parse *ps = arg;
	const struct keydef *k;
	char *lp;

	(void)section;
	if (ps->sect == S_SKIP)
		return 1;
	if (ps->sect == S_NONE) {
		cfg_error(ps->cfg, ps->file, ps->lineno, "\"%s\" is outside "
		    "any section", name);
		return 1;
	}
	if (ps->cont)
		return continue_value(ps, name, value);
	if (strlist_has(&ps->seen, name)) {
		cfg_error(ps->cfg, ps->file, ps->lineno, "duplicate key \"%s\"",
		    name);
		ps->last = NULL;
		return 1;
	}
	(void)strlist_add(&ps->seen, name);
	ps->last = NULL;
	if (strncmp(name, "env.", 4) == 0)
		return set_env(ps, name, value), 1;
	for (k = ps->keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			break;
	if (k->name == NULL) {
		cfg_error(ps->cfg, ps->file, ps->lineno, "unknown key \"%s\" in "
		    "this section", name);
		return 1;
	}
	if (set_value(ps, k, value) == 0) {
		snprintf(ps->lastbuf, sizeof(ps->lastbuf), "%s", name);
		ps->last = ps->lastbuf;
	}
	if (k->lineoff != NOL) {
		lp = (char *)ps->obj + k->lineoff;
		*(int *)lp = ps->lineno;
	}
	return 1;
}

/* Make a relative path relative to the config file's directory. */
static void
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
static FILE *
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
static void
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

static void
check_profile(struct config *cfg, struct profile_conf *p)
{
	if (p->provider == NULL && (p->provider = strdup("echo")) == NULL)
		fatal("config");
	if (strcmp(p->provider, "openai") == 0 && p->model == NULL)
		cfg_error(cfg, cfg->path, p->line, "[profile %s]: provider "
		    "openai needs \"model\"", p->name);
	if (p->system != NULL && p->system_file != NULL)
		cfg_error(cfg, cfg->path, p->line, "[profile %s]: system and "
		    "system_file are exclusive", p->name);
	if (p->system_file != NULL) {
		absolutize(cfg, &p->system_file);
		p->system = read_text(cfg, p->system_file, p->line,
		    "system_file");
	}
	if (p->request_timeout_ms == UNSET)
		p->request_timeout_ms = 60000;
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

/* Warnings: what is valid but will not work as it stands. */
static void
config_warn(struct config *cfg)
{
	const struct profile_conf *p;
	const char *v;
	char buf[1400];
	int i;

	for (i = 0; i < cfg->nprofiles; i++) {
		p = cfg->profiles[i];
		if (p->api_key_env == NULL ||
		    ((v = getenv(p->api_key_env)) != NULL && *v != '\0'))
			continue;
		snprintf(buf, sizeof(buf), "%s:%d: warning: [profile %s]: "
		    "api_key_env: %s is %s in mobkitd's environment", cfg->path,
		    p->line, p->name, p->api_key_env, v == NULL ? "not set" :
		    "empty");
		(void)strlist_add(&cfg->warnings, buf);
	}
}

/* Members follow modules so that the array is in start order by kind. */
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
		if (cfg->children[i]->kind == KIND_MEMBER)
			v[n++] = cfg->children[i];
	free(cfg->children);
	cfg->children = v;
}

/* Validate everything and fill defaults. */
static void
config_finish(struct config *cfg)
{
	int i, *mark;

	if (cfg->control_socket == NULL &&
	    (cfg->control_socket = strdup(DEF_CONTROL_SOCKET)) == NULL)
		fatal("config");
	absolutize(cfg, &cfg->control_socket);
	absolutize(cfg, &cfg->state_dir);
	if (cfg->mob_id == NULL && (cfg->mob_id = strdup("mob")) == NULL)
		fatal("config");
	if (cfg->smtp_url == NULL &&
	    (cfg->smtp_url = strdup("smtp://127.0.0.1:25")) == NULL)
		fatal("config");
	if (cfg->mail_from == NULL &&
	    (cfg->mail_from = strdup("mobkit@localhost")) == NULL)
		fatal("config");
	check_daemon(cfg);
	for (i = 0; i < cfg->ngroups; i++)
		check_group(cfg, cfg->groups[i]);
	for (i = 0; i < cfg->nprofiles; i++)
		check_profile(cfg, cfg->profiles[i]);
	for (i = 0; i < cfg->nchildren; i++) {
		struct child_conf *c = cfg->children[i];

		if (c->kind == KIND_MODULE)
			check_module(cfg, c);
		else
			check_member(cfg, c);
		check_child(cfg, c);
	}
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
	for (i = 0; i < cfg->nroutes; i++)
		check_route(cfg, cfg->routes[i]);
	for (i = 0; i < cfg->nschedules; i++)
		check_schedule(cfg, cfg->schedules[i]);
	order_children(cfg);
	if (cfg->errors.n == 0)
		config_warn(cfg);
}

/* Parse and validate a config file; problems land in cfg->errors. */
struct config *
config_load(const char *path)
{
	struct config *cfg;
	struct parse ps;
	char *rp, *tmp;
	int r;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return NULL;
	cfg->path = strdup(path);
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
	memset(&ps, 0, sizeof(ps));
	ps.cfg = cfg;
	ps.file = path;
	if ((ps.fp = open_regular(cfg, path, 0, "config file")) == NULL)
		return cfg;
	r = ini_parse_stream(cfg_reader, &ps, cfg_handler, &ps);
	fclose(ps.fp);
	strlist_free(&ps.seen);
	if (r > 0 && cfg->errors.n == 0)
		cfg_error(cfg, path, r, "syntax error");
	if (r < 0 && cfg->errors.n == 0)
		cfg_error(cfg, path, 0, "cannot parse (error %d)", r);
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
	DUPS(name);
	DUPS(command);
	DUPS(args);
	DUPS(group);
	DUPS(cwd);
	DUPS(user);
	DUPS(profile);
	DUPS(instructions);
	DUPS(instructions_file);
#undef DUPS
	if (strlist_copy(&d->argv, &c->argv) == -1 ||
	    strlist_copy(&d->depends, &c->depends) == -1 ||
	    strlist_copy(&d->env, &c->env) == -1 ||
	    strlist_copy(&d->pass_env, &c->pass_env) == -1 ||
	    strlist_copy(&d->peers, &c->peers) == -1)
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
	strlist_free(&c->argv);
	strlist_free(&c->depends);
	strlist_free(&c->env);
	strlist_free(&c->pass_env);
	strlist_free(&c->peers);
	free(c);
}

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
	for (i = 0; i < cfg->nprofiles; i++) {
		struct profile_conf *p = cfg->profiles[i];

		free(p->name);
		free(p->provider);
		free(p->model);
		free(p->base_url);
		free(p->api_key_env);
		free(p->system);
		free(p->system_file);
		free(p->tmpl.cwd);
		free(p->tmpl.user);
		strlist_free(&p->tmpl.env);
		strlist_free(&p->tmpl.pass_env);
		free(p);
	}
	free(cfg->profiles);
	for (i = 0; i < cfg->nroutes; i++) {
		struct route_conf *r = cfg->routes[i];

		free(r->id);
		free(r->recipient);
		free(r->channel);
		free(r->sink);
		free(r->target);
		free(r);
	}
	free(cfg->routes);
	for (i = 0; i < cfg->nschedules; i++) {
		struct schedule_conf *s = cfg->schedules[i];

		free(s->id);
		free(s->interval);
		free(s->cron);
		free(s->timezone);
		free(s->member);
		free(s->message);
		free(s);
	}
	free(cfg->schedules);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->control_socket);
	free(cfg->state_dir);
	free(cfg->mob_id);
	strlist_free(&cfg->pass_env);
	free(cfg->smtp_url);
	free(cfg->mail_from);
	strlist_free(&cfg->errors);
	strlist_free(&cfg->warnings);
	free(cfg);
}
