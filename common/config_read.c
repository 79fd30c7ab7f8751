/*
 * config_read.c: the reader inih is fed through, and the handler of each
 * key = value.
 *
 * Debian's libinih passes no line number to the handler and cuts lines at
 * 200 bytes, so we feed it through a reader of our own: it counts lines,
 * refuses an over-long line by name, parses section headers itself (so an
 * empty section and a duplicate one are seen) and tells the handler whether
 * a line is an indented continuation of the previous value.
 *
 * inih also ends a value at a ';' that follows a blank (an inline
 * comment), and knows no quotes.  In a value split like a shell would
 * (args, discover, include, the lists), a ';' inside quotes is the
 * user's: the reader hands it to inih as \x1f and the handler puts it
 * back.  Where a comment cuts a value of words (those, and the free texts
 * system, instructions, message), or cuts inside quotes, a warning says
 * what the value became: that is seldom what was meant.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "log.h"

/* A section header line: begun here; inih sees a dummy one. */
static char *
reader_header(struct parse *ps, char *t, char *str, int num)
{
	char *end;

	if ((end = strchr(t, ']')) == NULL) {
		cfg_error(ps->cfg, ps->file, ps->lineno,
		    "section header without ']'");
		ps->sect = S_SKIP;
	} else {
		*end = '\0';
		begin_section(ps, t + 1);
	}
	ps->cont = 0;
	/* inih still needs to see it to reset its state */
	snprintf(str, (size_t)num, "[x]\n");
	return str;
}

/* The next line without its end, counted; NULL at the end of the file. */
static char *
reader_line(struct parse *ps, char **line, size_t *cap, ssize_t *len)
{
	ssize_t n;

	errno = 0;
	if ((n = getline(line, cap, ps->fp)) == -1) {
		if (ferror(ps->fp))
			cfg_error(ps->cfg, ps->file, ps->lineno + 1,
			    "read error: %s", strerror(errno));
		return NULL;
	}
	ps->lineno++;
	while (n > 0 && ((*line)[n - 1] == '\n' || (*line)[n - 1] == '\r'))
		(*line)[--n] = '\0';
	*len = n;
	return *line;
}

#define PROTECTED	'\x1f'	/* a quoted ';' on its way through inih */

/* Is name a key whose value is split like a shell would? */
static int
split_key(const struct parse *ps, const char *name)
{
	const struct keydef *k;

	if (strcmp(name, "args") == 0 || strcmp(name, "discover") == 0 ||
	    strcmp(name, "include") == 0)
		return 1;
	for (k = ps->keys; k != NULL && k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k->type == K_LIST;
	return 0;
}

/* Is name a key of free text, where a ';' is likely meant? */
static int
text_key(const char *name)
{
	return strcmp(name, "system") == 0 ||
	    strcmp(name, "instructions") == 0 || strcmp(name, "message") == 0;
}

/* The warning for a value that a comment at cut ends. */
static void
cut_warning(struct parse *ps, const char *name, const char *val,
    const char *cut, int split)
{
	char where[PATH_MAX + 16], *v, *p, *msg;
	size_t n;

	while (*val == ' ' || *val == '\t')
		val++;
	n = (size_t)(cut - val);
	while (n > 0 && isspace((unsigned char)val[n - 1]))
		n--;
	if ((v = strndup(val, n)) == NULL)
		fatal("config");
	for (p = v; (p = strchr(p, PROTECTED)) != NULL; p++)
		*p = ';';
	if (asprintf(&msg, "%s: warning: `;` starts a comment here; the value "
	    "is cut to \"%s\" (%s: to keep the `;`, %s)",
	    config_where(ps->cfg, ps->lineno, where, sizeof(where)), v, name,
	    split ? "quote it or write \\;" : "write it without the blank "
	    "before it") == -1 || strlist_add(&ps->cfg->warnings, msg) == -1)
		fatal("config");
	free(msg);
	free(v);
}

/*
 * The value val of the key name on this line: its quoted ';' (in a split
 * value) turned into PROTECTED, and a warning when a comment cuts it.
 */
static void
semicolons(struct parse *ps, const char *name, char *val)
{
	int split = split_key(ps, name), q = 0, esc = 0, blank = 0;
	int protect = split && strchr(val, PROTECTED) == NULL;
	char *p;

	for (p = val; *p != '\0'; p++) {
		if (*p == ';' && blank) {
			if (q != 0 && protect) {
				*p = PROTECTED;
				ps->protected = 1;
				blank = 0;
				continue;
			}
			if (q != 0 || split || text_key(name))
				cut_warning(ps, name, val, p, split);
			return;
		}
		blank = isspace((unsigned char)*p) != 0;
		if (esc)
			esc = 0;
		else if (q != '\'' && *p == '\\' && p[1] != '\0' &&
		    (q == 0 || strchr("\"\\$`", p[1]) != NULL))
			esc = 1;
		else if (q == 0 && (*p == '\'' || *p == '"'))
			q = *p;
		else if (q != 0 && *p == q)
			q = 0;
	}
}

/*
 * A key line t (or a continuation of the key ps->last): where its value
 * starts, as inih splits it (at the first '=' or ':'), then semicolons().
 */
static void
value_semicolons(struct parse *ps, char *t)
{
	char name[128], *p;
	size_t n;
	int blank = 0;

	if (ps->cont) {
		if (ps->last != NULL)
			semicolons(ps, ps->last, t);
		return;
	}
	for (p = t; *p != '\0' && *p != '=' && *p != ':'; p++) {
		if (*p == ';' && blank)
			return;		/* inih will refuse the line */
		blank = isspace((unsigned char)*p) != 0;
	}
	if (*p == '\0')
		return;
	n = (size_t)(p - t);
	while (n > 0 && isspace((unsigned char)t[n - 1]))
		n--;
	if (n >= sizeof(name))
		return;
	memcpy(name, t, n);
	name[n] = '\0';
	semicolons(ps, name, p + 1);
}

/*
 * One line read: what inih is to see of it (in str), or NULL when it is
 * not for inih (refused, said) and the next line must be read.
 */
static char *
reader_one(struct parse *ps, char *line, ssize_t n, char *str, int num)
{
	char *t;

	ps->protected = 0;
	if (n > LINE_LIMIT || n >= num - 2) {
		cfg_error(ps->cfg, ps->file, ps->lineno, "line is %zd "
		    "characters long, the limit is %d: continue the value on "
		    "indented lines, or use a *_file key", n, LINE_LIMIT);
		ps->last = NULL;
		return NULL;
	}
	t = line + strspn(line, " \t");
	if (*t == '\0' || *t == ';' || *t == '#') {
		snprintf(str, (size_t)num, "\n");
		ps->cont = 0;
		return str;
	}
	if (*t == '[')
		return reader_header(ps, t, str, num);
	ps->cont = (t != line);
	if (!ps->cont && strchr(t, '=') == NULL && strchr(t, ':') == NULL) {
		cfg_error(ps->cfg, ps->file, ps->lineno, "expected \"key = "
		    "value\", got \"%s\"", t);
		return NULL;
	}
	if (ps->sect != S_SKIP && ps->sect != S_NONE)
		value_semicolons(ps, t);
	snprintf(str, (size_t)num, "%s\n", line);
	return str;
}

/*
 * The reader inih calls for each line: count it, refuse an over-long one,
 * handle section headers and note whether it is an indented continuation.
 */
char *
cfg_reader(char *str, int num, void *arg)
{
	struct parse *ps = arg;
	char *line = NULL, *r = NULL;
	size_t cap = 0;
	ssize_t n;

	while (r == NULL && reader_line(ps, &line, &cap, &n) != NULL)
		r = reader_one(ps, line, n, str, num);
	free(line);
	return r;
}

/* A string field takes a copy of value. */
static void
set_str(char **field, const char *value)
{
	free(*field);
	if ((*field = strdup(value)) == NULL)
		fatal("config");
}

/* One of k->names: its index (K_ENUM) or the word (K_CHOICE). */
static int
set_enum(struct parse *ps, const struct keydef *k, const char *value)
{
	char *base = ps->obj, all[256];
	size_t o = 0;
	int i;

	for (i = 0; k->names[i] != NULL; i++)
		if (strcmp(value, k->names[i]) == 0)
			break;
	if (k->names[i] == NULL) {
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
	else
		set_str((char **)(base + k->off), value);
	return 0;
}

/* A list of words, split like a shell would. */
static int
set_list(struct parse *ps, const struct keydef *k, const char *value)
{
	struct strlist *l = (struct strlist *)((char *)ps->obj + k->off);
	const char *err;

	strlist_free(l);
	if (split_args(value, l, &err) == -1) {
		cfg_error(ps->cfg, ps->file, ps->lineno, "%s: %s in \"%s\"",
		    k->name, err, value);
		return -1;
	}
	return 0;
}

/* true/yes/1 or false/no/0; -1 for anything else. */
static int
parse_bool(const char *value)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
	    strcmp(value, "1") == 0)
		return 1;
	if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
	    strcmp(value, "0") == 0)
		return 0;
	return -1;
}

/* Store one value into the field a keydef names. */
static int
set_value(struct parse *ps, const struct keydef *k, const char *value)
{
	char *base = ps->obj;
	int64_t v;
	size_t n;
	int b, sig, ms;

	switch (k->type) {
	case K_STR:
		set_str((char **)(base + k->off), value);
		return 0;
	case K_MS:
		if (parse_ms(value, &v) == -1)
			break;
		*(int64_t *)(base + k->off) = v;
		return 0;
	case K_INT:
		if (parse_ms(value, &v) == -1 || v > INT_MAX)
			break;
		*(int *)(base + k->off) = (int)v;
		return 0;
	case K_BOOL:
		if ((b = parse_bool(value)) == -1)
			break;
		*(int *)(base + k->off) = b;
		return 0;
	case K_ENUM:
	case K_CHOICE:
		return set_enum(ps, k, value);
	case K_SIGNAL:
		if ((sig = signal_parse(value)) == -1)
			break;
		*(int *)(base + k->off) = sig;
		return 0;
	case K_LIST:
		return set_list(ps, k, value);
	}
	/* K_MS is any 64-bit count: only a *_ms key counts milliseconds */
	ms = k->type == K_MS && (n = strlen(k->name)) > 3 &&
	    strcmp(k->name + n - 3, "_ms") == 0;
	cfg_error(ps->cfg, ps->file, ps->lineno, "%s: bad value \"%s\": %s",
	    k->name, value, ms ? "expected milliseconds (a whole number "
	    ">= 0)" : k->type == K_MS || k->type == K_INT ?
	    "expected a whole number >= 0" :
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

	if (ps->sect == S_MODULE || ps->sect == S_MCP)
		env = &((struct child_conf *)ps->obj)->env;
	else if (ps->sect == S_PROFILE)
		env = &((struct profile_conf *)ps->obj)->tmpl.env;
	else {
		cfg_error(ps->cfg, ps->file, ps->lineno, "env.* keys belong in "
		    "[module], [mcp] or [profile]");
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

/* [mobkitd] include = PATTERN...: any number of these lines. */
void
cfg_include_add(struct parse *ps, const char *value)
{
	struct config *cfg = ps->cfg;
	struct strlist l;
	const char *err;
	int i, *nv;

	if (split_args(value, &l, &err) == -1) {
		cfg_error(cfg, ps->file, ps->lineno, "include: %s in \"%s\"",
		    err, value);
		return;
	}
	for (i = 0; i < l.n; i++) {
		if ((nv = reallocarray(ps->include_line,
		    (size_t)cfg->include.n + 1, sizeof(*nv))) == NULL ||
		    strlist_add(&cfg->include, l.v[i]) == -1)
			fatal("config");
		ps->include_line = nv;
		nv[cfg->include.n - 1] = ps->lineno;
	}
	strlist_free(&l);
}

/* One key = value of the current section. */
static int
handle(struct parse *ps, const char *name, const char *value)
{
	const struct keydef *k;
	char *lp;

	if (ps->sect == S_SKIP)
		return 1;
	if (ps->sect == S_NONE) {
		cfg_error(ps->cfg, ps->file, ps->lineno, "\"%s\" is outside "
		    "any section", name);
		return 1;
	}
	if (ps->cont)
		return continue_value(ps, name, value);
	if (ps->sect == S_MOBKITD && strcmp(name, "include") == 0) {
		cfg_include_add(ps, value);
		return 1;
	}
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
	if (profile_prefixed_key(ps, name, value))
		return 1;
	if (ps->sect == S_MCP && strncmp(name, "header.", 7) == 0)
		return mcp_header_set(ps, name, value), 1;
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

/*
 * The inih handler: one key = value of the current section, its quoted
 * ';' given back first.
 */
int
cfg_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct parse *ps = arg;
	char *v, *p;
	int r;

	(void)section;
	if (!ps->protected)
		return handle(ps, name, value);
	if ((v = strdup(value)) == NULL)
		fatal("config");
	for (p = v; (p = strchr(p, PROTECTED)) != NULL; p++)
		*p = ';';
	r = handle(ps, name, v);
	free(v);
	return r;
}
