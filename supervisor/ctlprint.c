/*
 * ctlprint.c: mobkitctl's output for people.  Every verb's result is
 * printed here when --json is not given: lists as aligned tables (a
 * header, then one row per item), status as a tree, single objects as
 * "key  value" lines, times as local wall-clock times and as "3s ago" /
 * "in 2m".  Colour (states, headers) only when standard output is a
 * terminal and NO_COLOR is unset or empty.  What comes from the daemon
 * is shown with its control characters replaced, so that a child's name
 * or text cannot move the terminal's cursor.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctlagents.h"
#include "ctlprint.h"

static int	 colour;

#define SGR_BOLD	"1"
#define SGR_DIM		"2"
#define SGR_RED		"31"
#define SGR_GREEN	"32"
#define SGR_YELLOW	"33"
#define SGR_CYAN	"36"

void
ctlp_init(void)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	colour = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0') &&
	    (term == NULL || strcmp(term, "dumb") != 0);
}

/* Start and end a colour, when colour is on. */
static void
sgr_on(const char *sgr)
{
	if (colour && sgr != NULL)
		printf("\033[%sm", sgr);
}

static void
sgr_off(const char *sgr)
{
	if (colour && sgr != NULL)
		fputs("\033[0m", stdout);
}

/* The colour of a state word (children, inputs, deliveries, daemon). */
static const char *
state_sgr(const char *s)
{
	static const char *const good[] = { "healthy", "running",
	    "completed", "consumed", "sent", "accepted", "ok", NULL };
	static const char *const busy[] = { "starting", "restarting",
	    "stopping", "queued", "pending", "deduplicated", NULL };
	static const char *const bad[] = { "failed", "exhausted", "abandoned",
	    "terminated", "degraded", "rejected", "lagged", NULL };
	int i;

	if (s == NULL)
		return NULL;
	for (i = 0; good[i] != NULL; i++)
		if (strcmp(s, good[i]) == 0)
			return SGR_GREEN;
	for (i = 0; busy[i] != NULL; i++)
		if (strcmp(s, busy[i]) == 0)
			return SGR_YELLOW;
	for (i = 0; bad[i] != NULL; i++)
		if (strcmp(s, bad[i]) == 0)
			return SGR_RED;
	if (strcmp(s, "stopped") == 0)
		return SGR_DIM;
	return NULL;
}

/* --- values ------------------------------------------------------------- */

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "-";
}

static long long
jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* An integer member as text, "-" when it is not one (null, missing). */
static const char *
jnum(json_t *o, const char *k, char *buf, size_t sz)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		return "-";
	snprintf(buf, sz, "%lld", (long long)json_integer_value(v));
	return buf;
}

/* A duration: 950ms, 12s, 3m05s, 2h10m, 4d03h. */
static void
fmt_span(char *buf, size_t sz, long long ms)
{
	long long s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, sz, "%lldms", ms);
	else if (s < 60)
		snprintf(buf, sz, "%llds", s);
	else if (s < 3600)
		snprintf(buf, sz, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, sz, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, sz, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

/* A coarse duration for "ago" and "in": 3s, 2m, 1h05m, 3d. */
static void
fmt_coarse(char *buf, size_t sz, long long ms)
{
	long long s = ms / 1000;

	if (s < 60)
		snprintf(buf, sz, "%llds", s);
	else if (s < 3600)
		snprintf(buf, sz, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, sz, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, sz, "%lldd", s / 86400);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An epoch ms relative to now: "3s ago", "in 2m", "now". */
static const char *
fmt_rel(char *buf, size_t sz, long long at)
{
	long long d = now_ms() - at;
	char s[24];

	if (d > -1000 && d < 1000)
		snprintf(buf, sz, "now");
	else if (d > 0) {
		fmt_coarse(s, sizeof(s), d);
		snprintf(buf, sz, "%s ago", s);
	} else {
		fmt_coarse(s, sizeof(s), -d);
		snprintf(buf, sz, "in %s", s);
	}
	return buf;
}

/* Local wall-clock time, with milliseconds: "Dec 02 17:23:45.134". */
void
ctlp_local(long long ms, char *buf, size_t sz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char b[32];

	localtime_r(&t, &tm);
	strftime(b, sizeof(b), "%b %d %H:%M:%S", &tm);
	snprintf(buf, sz, "%s.%03lld", b, ms % 1000);
}

/* Local wall-clock time to the second, with its date: for due times. */
static const char *
fmt_when(char *buf, size_t sz, long long ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, sz, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

/* "17:23:45 (3s ago)"-like: a local time and how far it is from now. */
static const char *
fmt_at(char *buf, size_t sz, json_t *v)
{
	char w[32], r[48];

	if (!json_is_integer(v))
		return "-";
	snprintf(buf, sz, "%s (%s)", fmt_when(w, sizeof(w),
	    (long long)json_integer_value(v)), fmt_rel(r, sizeof(r),
	    (long long)json_integer_value(v)));
	return buf;
}

/* --- tables ------------------------------------------------------------- */

#define TAB_MAXCOL	12

struct cell {
	char		*s;
	const char	*sgr;
};

struct tab {
	int		 ncol;
	unsigned	 right;		/* bit i: column i aligned right */
	struct cell	*c;		/* row-major, the header row first */
	size_t		 n, cap;
	size_t		 maxw[TAB_MAXCOL];	/* 0: no limit */
};

/* Columns on the screen of a UTF-8 string (one per code point). */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/*
 * A copy of s fit for a terminal: control characters become a space
 * (newline, tab) or '?', and at most max columns (0: all) with "…".
 */
static char *
clean(const char *s, size_t max)
{
	size_t i, o = 0, w = 0, len = strlen(s);
	char *d;
	unsigned char ch;

	if ((d = malloc(len + 4)) == NULL)
		exit(1);
	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if ((ch & 0xc0) != 0x80 && max > 0 && ++w > max) {
			memcpy(d + o, "\xe2\x80\xa6", 3);	/* … */
			o += 3;
			break;
		}
		if (ch == '\n' || ch == '\t' || ch == '\r')
			d[o++] = ' ';
		else if (ch < 0x20 || ch == 0x7f)
			d[o++] = '?';
		else
			d[o++] = (char)ch;
	}
	d[o] = '\0';
	return d;
}

static void
tab_cell(struct tab *t, const char *sgr, const char *s)
{
	size_t col;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		if ((t->c = reallocarray(t->c, t->cap, sizeof(*t->c))) ==
		    NULL)
			exit(1);
	}
	col = t->n % (size_t)t->ncol;
	t->c[t->n].s = clean(s != NULL ? s : "-", t->maxw[col]);
	t->c[t->n++].sgr = sgr;
}

/* A cell from a printf format. */
static void __attribute__((format(printf, 3, 4)))
tab_fmt(struct tab *t, const char *sgr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tab_cell(t, sgr, buf);
}

/* A table with its header: NULL-terminated column names. */
static void
tab_init(struct tab *t, unsigned right, ...)
{
	const char *h;
	va_list ap;

	memset(t, 0, sizeof(*t));
	t->right = right;
	va_start(ap, right);
	while ((h = va_arg(ap, const char *)) != NULL && t->ncol < TAB_MAXCOL)
		t->ncol++;
	va_end(ap);
	va_start(ap, right);
	while ((h = va_arg(ap, const char *)) != NULL)
		tab_cell(t, SGR_BOLD, h);
	va_end(ap);
}

/* Print the table, columns two spaces apart, no trailing blanks. */
static void
tab_print(struct tab *t)
{
	size_t w[TAB_MAXCOL] = { 0 }, i, cw, pad, ncol = (size_t)t->ncol;
	int col, last, end = 0;

	for (i = 0; i < t->n; i++)
		if ((cw = width(t->c[i].s)) > w[i % ncol])
			w[i % ncol] = cw;
	for (i = 0; i < t->n; i++) {
		col = (int)(i % ncol);
		if (col == 0)	/* the row ends at its last cell not empty */
			for (end = t->ncol - 1; end > 0 && (i + (size_t)end >=
			    t->n || t->c[i + (size_t)end].s[0] == '\0'); end--)
				;
		last = col == end;
		if (col > end) {
			free(t->c[i].s);
			continue;
		}
		pad = w[col] - width(t->c[i].s);
		if (t->right & (1u << col))
			printf("%*s", (int)pad, "");
		sgr_on(t->c[i].sgr);
		fputs(t->c[i].s, stdout);
		sgr_off(t->c[i].sgr);
		if (!last && !(t->right & (1u << col)))
			printf("%*s", (int)pad, "");
		fputs(last ? "\n" : "  ", stdout);
		free(t->c[i].s);
	}
	free(t->c);
	memset(t, 0, sizeof(*t));
}

/* --- generic output: any object or array -------------------------------- */

/* A value on one line: text as it is, null "-", lists "a, b", else JSON. */
static char *
flat(json_t *v)
{
	json_t *x;
	size_t i, len = 0;
	char *s, *d;

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (v == NULL || json_is_null(v))
		return strdup("-");
	if (json_is_true(v))
		return strdup("yes");
	if (json_is_false(v))
		return strdup("no");
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (!json_is_string(x))
				goto as_json;
		json_array_foreach(v, i, x)
			len += strlen(json_string_value(x)) + 2;
		if ((d = calloc(1, len + 2)) == NULL)
			exit(1);
		json_array_foreach(v, i, x) {
			if (i > 0)
				strcat(d, ", ");
			strcat(d, json_string_value(x));
		}
		if (len == 0)
			strcpy(d, "-");
		return d;
	}
as_json:
	s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	return s != NULL ? s : strdup("?");
}

/* A value of key k for people: epoch and duration ms as times. */
static char *
human_value(const char *k, json_t *v)
{
	size_t kl = strlen(k);
	char buf[96], sp[32];

	if (json_is_integer(v) && kl > 6 && strcmp(k + kl - 6, "_in_ms") == 0) {
		fmt_span(sp, sizeof(sp), (long long)json_integer_value(v));
		snprintf(buf, sizeof(buf), "in %s", sp);
		return strdup(buf);
	}
	if (json_is_integer(v) && kl > 3 && strcmp(k + kl - 3, "_ms") == 0) {
		if (json_integer_value(v) > 100000000000LL)	/* epoch */
			return strdup(fmt_at(buf, sizeof(buf), v));
		fmt_span(buf, sizeof(buf), (long long)json_integer_value(v));
		return strdup(buf);
	}
	return flat(v);
}

/* A key for people: "input_id" -> "input id". */
static void
human_key(const char *k, char *buf, size_t sz)
{
	size_t i;

	snprintf(buf, sz, "%s", k);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '_')
			buf[i] = ' ';
}

static void	print_table_of(json_t *);

/* An object as aligned "key  value" lines; a list of objects as a table. */
static void
print_object(json_t *o)
{
	struct tab t;
	const char *k;
	json_t *v, *tables = json_object();
	char key[64], *s;

	memset(&t, 0, sizeof(t));
	t.ncol = 2;
	json_object_foreach(o, k, v) {
		if (json_is_array(v) && json_array_size(v) > 0 &&
		    json_is_object(json_array_get(v, 0))) {
			json_object_set(tables, k, v);
			continue;
		}
		human_key(k, key, sizeof(key));
		/* the value says the unit: "backoff 250ms", "retry in 1s" */
		if (json_is_integer(v) && strlen(key) > 3 &&
		    strcmp(key + strlen(key) - 3, " ms") == 0)
			key[strlen(key) - 3] = '\0';
		if (json_is_integer(v) && strlen(key) > 3 &&
		    strcmp(key + strlen(key) - 3, " in") == 0)
			key[strlen(key) - 3] = '\0';
		tab_cell(&t, SGR_BOLD, key);
		s = human_value(k, v);
		tab_cell(&t, json_is_string(v) ? state_sgr(json_string_value(v))
		    : NULL, s);
		free(s);
	}
	tab_print(&t);
	json_object_foreach(tables, k, v) {
		human_key(k, key, sizeof(key));
		printf("%s:\n", key);
		print_table_of(v);
	}
	json_decref(tables);
}

/* A list of objects as a table whose columns are the first one's keys. */
static void
print_table_of(json_t *a)
{
	json_t *first = json_array_get(a, 0), *o, *v;
	struct tab t;
	const char *k;
	char key[64], *s;
	size_t i, j;
	int ncol = 0;

	memset(&t, 0, sizeof(t));
	json_object_foreach(first, k, v)
		if (ncol < TAB_MAXCOL)
			ncol++;
	t.ncol = ncol;
	j = 0;
	json_object_foreach(first, k, v) {
		if (j++ == (size_t)ncol)
			break;
		human_key(k, key, sizeof(key));
		for (i = 0; key[i] != '\0'; i++)
			key[i] = (char)(key[i] >= 'a' && key[i] <= 'z' ?
			    key[i] - 'a' + 'A' : key[i]);
		tab_cell(&t, SGR_BOLD, key);
		t.maxw[t.n - 1] = 60;
		if (json_is_integer(v) && t.n - 1 < 32 && (strlen(k) < 3 ||
		    strcmp(k + strlen(k) - 3, "_ms") != 0))
			t.right |= 1u << (t.n - 1);
	}
	json_array_foreach(a, i, o) {
		j = 0;
		json_object_foreach(first, k, v) {
			if (j++ == (size_t)ncol)
				break;
			v = json_object_get(o, k);
			s = human_value(k, v);
			tab_cell(&t, json_is_string(v) ?
			    state_sgr(json_string_value(v)) : NULL, s);
			free(s);
		}
	}
	tab_print(&t);
}

/* Anything: a table, key-value lines, or the value itself. */
static void
print_any(json_t *res)
{
	json_t *v;
	size_t i;
	char *s;

	if (json_is_object(res))
		print_object(res);
	else if (json_is_array(res) && json_array_size(res) > 0 &&
	    json_is_object(json_array_get(res, 0)))
		print_table_of(res);
	else if (json_is_array(res))
		json_array_foreach(res, i, v) {
			s = flat(v);
			printf("%s\n", s);
			free(s);
		}
	else if (res != NULL && !json_is_null(res)) {
		s = flat(res);
		printf("%s\n", s);
		free(s);
	}
}

/* --- status: a tree ----------------------------------------------------- */

/* Does a group (or a subgroup of it) hold any child of the answer? */
static int
group_has(json_t *res, const char *gname)
{
	json_t *c, *g;
	size_t i;

	json_array_foreach(json_object_get(res, "children"), i, c)
		if (strcmp(jstr(c, "group"), gname) == 0)
			return 1;
	json_array_foreach(json_object_get(res, "groups"), i, g)
		if (strcmp(jstr(g, "parent"), gname) == 0 &&
		    group_has(res, jstr(g, "name")))
			return 1;
	return 0;
}

/* What else people want to know of a child: its last exit, its restart. */
static void
child_note(json_t *c, char *buf, size_t sz)
{
	json_t *le = json_object_get(c, "last_exit");
	char sp[32];
	size_t n;

	buf[0] = '\0';
	if (json_is_object(le)) {
		if (json_object_get(le, "signal") != NULL)
			snprintf(buf, sz, "last exit: signal %s", jstr(le,
			    "signal"));
		else
			snprintf(buf, sz, "last exit: %lld", jint(le, "code"));
		if (json_is_string(json_object_get(le, "reason")) &&
		    (n = strlen(buf)) < sz)
			snprintf(buf + n, sz - n, " (%s)", jstr(le, "reason"));
	}
	if (json_is_integer(json_object_get(c, "next_restart_in_ms")) &&
	    (n = strlen(buf)) < sz) {
		fmt_span(sp, sizeof(sp), jint(c, "next_restart_in_ms"));
		snprintf(buf + n, sz - n, "%srestart in %s", n ? "; " : "", sp);
	}
	if (json_is_string(json_object_get(c, "node_id")) &&
	    (n = strlen(buf)) < sz)
		snprintf(buf + n, sz - n, "%snode %s", n ? "; " : "", jstr(c,
		    "node_id"));
}

static void
status_child(struct tab *t, json_t *c, const char *prefix, int last)
{
	char note[256], rel[48], n1[24], n2[24], n3[24];

	child_note(c, note, sizeof(note));
	tab_fmt(t, NULL, "%s%s %s", prefix, last ? "└─" : "├─", jstr(c,
	    "name"));
	tab_cell(t, state_sgr(jstr(c, "state")), jstr(c, "state"));
	tab_cell(t, NULL, jnum(c, "pid", n1, sizeof(n1)));
	tab_cell(t, NULL, jnum(c, "restarts", n2, sizeof(n2)));
	tab_cell(t, NULL, jnum(c, "budget_left", n3, sizeof(n3)));
	tab_cell(t, SGR_DIM, json_is_integer(json_object_get(c, "since_ms")) ?
	    fmt_rel(rel, sizeof(rel), jint(c, "since_ms")) : "-");
	tab_cell(t, json_is_object(json_object_get(c, "last_exit")) ?
	    SGR_DIM : NULL, note);
}

static void
status_group_row(struct tab *t, json_t *g, const char *lead)
{
	char n1[24], n2[24];

	tab_fmt(t, SGR_BOLD, "%s%s", lead, jstr(g, "name"));
	tab_cell(t, SGR_CYAN, jstr(g, "strategy"));
	tab_cell(t, NULL, "");
	tab_cell(t, NULL, jnum(g, "restarts", n1, sizeof(n1)));
	tab_cell(t, NULL, jnum(g, "budget_left", n2, sizeof(n2)));
	tab_cell(t, NULL, "");
	tab_cell(t, NULL, "");
}

/* A group's children and subgroups below it, as a tree. */
static void
status_group(struct tab *t, json_t *res, const char *gname,
    const char *prefix)
{
	json_t *children = json_object_get(res, "children");
	json_t *groups = json_object_get(res, "groups"), *c, *g;
	size_t i, n = 0, k = 0;
	char sub[512], lead[512];

	json_array_foreach(children, i, c)
		if (strcmp(jstr(c, "group"), gname) == 0)
			n++;
	json_array_foreach(groups, i, g)
		if (strcmp(jstr(g, "parent"), gname) == 0 &&
		    group_has(res, jstr(g, "name")))
			n++;
	json_array_foreach(children, i, c)
		if (strcmp(jstr(c, "group"), gname) == 0)
			status_child(t, c, prefix, ++k == n);
	json_array_foreach(groups, i, g) {
		if (strcmp(jstr(g, "parent"), gname) != 0 ||
		    !group_has(res, jstr(g, "name")))
			continue;
		k++;
		snprintf(lead, sizeof(lead), "%s%s ", prefix, k == n ? "└─" :
		    "├─");
		status_group_row(t, g, lead);
		snprintf(sub, sizeof(sub), "%s%s", prefix, k == n ? "   " :
		    "│  ");
		status_group(t, res, jstr(g, "name"), sub);
	}
}

static void
print_status(json_t *res)
{
	json_t *d = json_object_get(res, "daemon"), *g;
	struct tab t;
	char up[32];
	size_t i;

	fmt_span(up, sizeof(up), jint(d, "uptime_ms"));
	printf("mobkitd pid %lld, ", jint(d, "pid"));
	sgr_on(state_sgr(jstr(d, "state")));
	fputs(jstr(d, "state"), stdout);
	sgr_off(state_sgr(jstr(d, "state")));
	printf(", up %s, config %s\n", up, jstr(d, "config"));
	tab_init(&t, 0x1c, "NAME", "STATE", "PID", "RESTARTS", "BUDGET",
	    "SINCE", "", NULL);
	json_array_foreach(json_object_get(res, "groups"), i, g)
		if (strcmp(jstr(g, "name"), "root") == 0)
			status_group_row(&t, g, "");
	status_group(&t, res, "root", "");
	tab_print(&t);
}

/* --- supervision --------------------------------------------------------- */

/* start, stop, restart: each child's state and pid. */
static void
print_briefs(json_t *res)
{
	struct tab t;
	json_t *c;
	size_t i;
	char n[24];

	tab_init(&t, 0x4, "NAME", "STATE", "PID", NULL);
	if (json_is_object(res))
		res = json_pack("[O]", res);
	else
		json_incref(res);
	json_array_foreach(res, i, c) {
		tab_cell(&t, NULL, jstr(c, "name"));
		tab_cell(&t, state_sgr(jstr(c, "state")), jstr(c, "state"));
		tab_cell(&t, NULL, jnum(c, "pid", n, sizeof(n)));
	}
	json_decref(res);
	tab_print(&t);
}

static void
print_transitions(json_t *res)
{
	struct tab t;
	json_t *x;
	size_t i;
	char at[48], rel[48], n[24];

	tab_init(&t, 0x10, "TIME", "NAME", "FROM", "TO", "ATTEMPT", "AGO",
	    NULL);
	json_array_foreach(res, i, x) {
		ctlp_local(jint(x, "at_ms"), at, sizeof(at));
		tab_cell(&t, SGR_DIM, at);
		tab_cell(&t, NULL, jstr(x, "name"));
		tab_cell(&t, state_sgr(json_string_value(json_object_get(x,
		    "from"))), json_is_string(json_object_get(x, "from")) ?
		    jstr(x, "from") : "(new)");
		tab_cell(&t, state_sgr(jstr(x, "to")), jstr(x, "to"));
		tab_cell(&t, NULL, jnum(x, "attempt", n, sizeof(n)));
		tab_cell(&t, SGR_DIM, fmt_rel(rel, sizeof(rel), jint(x,
		    "at_ms")));
	}
	tab_print(&t);
}

static void
print_shutdown(json_t *res)
{
	json_t *d = json_object_get(res, "drain");
	char sp[32];

	fmt_span(sp, sizeof(sp), jint(d, "duration_ms"));
	printf("drained %lld in %s%s\n", jint(d, "drained"), sp,
	    json_is_true(json_object_get(d, "timed_out")) ? " (timed out)" :
	    "");
	print_names(res, "stopped");
	printf("orphans killed: %lld\n", jint(res, "orphans_killed"));
}

/* --- members ------------------------------------------------------------- */

static void
print_members(json_t *res)
{
	struct tab t;
	json_t *m;
	size_t i;
	char n1[24], n2[24], n3[24];
	int node = 0;

	json_array_foreach(res, i, m)
		node |= json_is_string(json_object_get(m, "node_id"));
	tab_init(&t, 0x58, "ID", "PROFILE", "STATE", "PID", "QUEUED",
	    "RUNNING", "RESTARTS", node ? "NODE" : NULL, NULL);
	json_array_foreach(res, i, m) {
		tab_cell(&t, NULL, jstr(m, "id"));
		tab_cell(&t, NULL, jstr(m, "profile"));
		tab_cell(&t, state_sgr(jstr(m, "state")), jstr(m, "state"));
		tab_cell(&t, NULL, jnum(m, "pid", n1, sizeof(n1)));
		tab_cell(&t, NULL, jnum(m, "queued", n2, sizeof(n2)));
		tab_cell(&t, NULL, jstr(m, "running"));
		tab_cell(&t, NULL, jnum(m, "restarts", n3, sizeof(n3)));
		if (node)
			tab_cell(&t, NULL, jstr(m, "node_id"));
	}
	tab_print(&t);
}

/* cluster: the nodes, then where each member runs. */
static void
print_cluster(json_t *res)
{
	struct tab t;
	json_t *x;
	size_t i;
	char n1[24], n2[24];

	tab_init(&t, 0xc, "NODE", "ALIVE", "LAST_SEEN_MS", "MEMBERS", NULL);
	json_array_foreach(json_object_get(res, "nodes"), i, x) {
		tab_cell(&t, NULL, jstr(x, "node_id"));
		tab_cell(&t, json_is_true(json_object_get(x, "alive")) ?
		    state_sgr("healthy") : state_sgr("failed"),
		    json_is_true(json_object_get(x, "alive")) ? "yes" : "no");
		tab_cell(&t, NULL, jnum(x, "last_seen_ms", n1, sizeof(n1)));
		tab_cell(&t, NULL, jnum(x, "members", n2, sizeof(n2)));
	}
	tab_print(&t);
	printf("\n");
	tab_init(&t, 0x4, "MEMBER", "NODE", "LEASE_EXPIRES_IN_MS", NULL);
	json_array_foreach(json_object_get(res, "members"), i, x) {
		tab_cell(&t, NULL, jstr(x, "id"));
		tab_cell(&t, NULL, jstr(x, "node_id"));
		tab_cell(&t, NULL, jnum(x, "lease_expires_in_ms", n1,
		    sizeof(n1)));
	}
	tab_print(&t);
}

/* rebalance: the moves under way. */
static void
print_rebalance(json_t *res)
{
	json_t *x;
	size_t i;

	if (json_array_size(json_object_get(res, "moves")) == 0)
		printf("nothing to move: the members are spread evenly\n");
	json_array_foreach(json_object_get(res, "moves"), i, x)
		printf("%s: moving from %s to %s\n", jstr(x, "member"),
		    jstr(x, "from"), jstr(x, "to"));
}

static void
print_inputs(json_t *res)
{
	struct tab t;
	json_t *x;
	size_t i;
	char n[24];

	tab_init(&t, 0x4, "INPUT", "STATE", "ATTEMPTS", "KEY",
	    "RESULT / ERROR", NULL);
	t.maxw[4] = 60;
	json_array_foreach(res, i, x) {
		tab_cell(&t, NULL, jstr(x, "input_id"));
		tab_cell(&t, state_sgr(jstr(x, "state")), jstr(x, "state"));
		tab_cell(&t, NULL, jnum(x, "attempts", n, sizeof(n)));
		tab_cell(&t, NULL, jstr(x, "key"));
		tab_cell(&t, NULL, json_is_string(json_object_get(x,
		    "result")) ? jstr(x, "result") : jstr(x, "error"));
	}
	tab_print(&t);
}

static void
print_send(json_t *res)
{
	json_t *r = json_object_get(res, "result");
	const char *st, *txt;

	sgr_on(state_sgr(jstr(res, "outcome")));
	fputs(jstr(res, "outcome"), stdout);
	sgr_off(state_sgr(jstr(res, "outcome")));
	if (json_is_string(json_object_get(res, "input_id")))
		printf(" %s", jstr(res, "input_id"));
	if (json_is_string(json_object_get(res, "existing_input_id")) &&
	    strcmp(jstr(res, "existing_input_id"), jstr(res, "input_id")) != 0)
		printf(" (as %s)", jstr(res, "existing_input_id"));
	if (json_is_string(json_object_get(res, "reason")))
		printf(": %s", jstr(res, "reason"));
	if (json_is_object(r)) {
		st = jstr(r, "status");
		fputs("\n", stdout);
		sgr_on(state_sgr(st));
		fputs(st, stdout);
		sgr_off(state_sgr(st));
		txt = json_is_string(json_object_get(r, "text")) ?
		    jstr(r, "text") : json_is_string(json_object_get(r,
		    "error")) ? jstr(r, "error") : NULL;
		/* a text from standard input ends with its newline: one */
		if (txt != NULL)
			printf(": %.*s", (int)(strlen(txt) - (*txt != '\0' &&
			    txt[strlen(txt) - 1] == '\n')), txt);
	}
	printf("\n");
}

static void
print_spawn(json_t *res)
{
	printf("%s: spawned (profile %s), ", jstr(res, "id"), jstr(res,
	    "profile"));
	sgr_on(state_sgr(jstr(res, "state")));
	fputs(jstr(res, "state"), stdout);
	sgr_off(state_sgr(jstr(res, "state")));
	printf("\n");
}

/* wire, unwire: {"wired"|"unwired": [A, B], "changed": B}. */
static void
print_wire(const char *verb, json_t *res)
{
	json_t *p = json_object_get(res, verb);
	const char *a = json_string_value(json_array_get(p, 0));
	const char *b = json_string_value(json_array_get(p, 1));

	if (json_is_false(json_object_get(res, "changed")))
		printf("%s - %s: already %s\n", a ? a : "-", b ? b : "-",
		    strcmp(verb, "wired") == 0 ? "wired" : "not wired");
	else
		printf("%s %s - %s\n", verb, a ? a : "-", b ? b : "-");
}

static void
print_tools(json_t *res)
{
	struct tab t;
	json_t *x;
	size_t i;

	tab_init(&t, 0, "SERVER", "TOOL", "DESCRIPTION", NULL);
	t.maxw[2] = 70;
	json_array_foreach(res, i, x) {
		tab_cell(&t, NULL, jstr(x, "server"));
		tab_cell(&t, NULL, jstr(x, "name"));
		tab_cell(&t, SGR_DIM, jstr(x, "description"));
	}
	tab_print(&t);
}

/* call: the text of each content block; other blocks as JSON. */
static void
print_call(json_t *res)
{
	json_t *b;
	size_t i;
	char *s;

	json_array_foreach(json_object_get(res, "content"), i, b) {
		if (json_is_string(json_object_get(b, "text")))
			printf("%s\n", jstr(b, "text"));
		else {
			s = json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER);
			printf("%s\n", s != NULL ? s : "");
			free(s);
		}
	}
}

/* --- modules: routes, deliveries, schedules ------------------------------ */

static void
print_routes(json_t *res)
{
	struct tab t;
	json_t *r;
	size_t i;
	char n1[24], n2[24], n3[24];

	tab_init(&t, 0xe0, "ID", "RECIPIENT", "CHANNEL", "SINK", "TARGET",
	    "RETRY", "BACKOFF_MS", "PER_MIN", "SOURCE", NULL);
	t.maxw[4] = 48;
	json_array_foreach(res, i, r) {
		tab_cell(&t, NULL, jstr(r, "id"));
		tab_cell(&t, NULL, jstr(r, "recipient"));
		tab_cell(&t, NULL, jstr(r, "channel"));
		tab_cell(&t, NULL, jstr(r, "sink"));
		tab_cell(&t, NULL, jstr(r, "target"));
		tab_cell(&t, NULL, jnum(r, "retry_max", n1, sizeof(n1)));
		tab_cell(&t, NULL, jnum(r, "backoff_ms", n2, sizeof(n2)));
		tab_cell(&t, NULL, jnum(r, "rate_limit_per_minute", n3,
		    sizeof(n3)));
		tab_cell(&t, SGR_DIM, jstr(r, "source"));
	}
	tab_print(&t);
}

/* The last attempt of a delivery. */
static json_t *
last_attempt(json_t *d)
{
	json_t *a = json_object_get(d, "attempts");

	return json_array_size(a) > 0 ? json_array_get(a,
	    json_array_size(a) - 1) : NULL;
}

static void
print_deliveries(json_t *res)
{
	struct tab t;
	json_t *d, *la;
	size_t i;
	char rel[48];

	tab_init(&t, 0x20, "DELIVERY", "ROUTE", "STATUS", "SINK", "RECIPIENT",
	    "ATTEMPTS", "LAST", "ERROR", NULL);
	t.maxw[7] = 60;
	json_array_foreach(res, i, d) {
		la = last_attempt(d);
		tab_cell(&t, NULL, jstr(d, "delivery_id"));
		tab_cell(&t, NULL, json_is_string(json_object_get(d, "route")) ?
		    jstr(d, "route") : jstr(d, "route_id"));
		tab_cell(&t, state_sgr(jstr(d, "status")), jstr(d, "status"));
		tab_cell(&t, NULL, jstr(d, "sink"));
		tab_cell(&t, NULL, jstr(d, "recipient"));
		tab_fmt(&t, NULL, "%zu", json_array_size(json_object_get(d,
		    "attempts")));
		tab_cell(&t, SGR_DIM, la != NULL && json_is_integer(
		    json_object_get(la, "at_ms")) ? fmt_rel(rel, sizeof(rel),
		    jint(la, "at_ms")) : "-");
		tab_cell(&t, NULL, la != NULL ? jstr(la, "error") : "-");
	}
	tab_print(&t);
}

static void
print_attempts(json_t *attempts)
{
	struct tab t;
	json_t *a;
	size_t i;
	char at[64], n[24];

	tab_init(&t, 0x1, "ATTEMPT", "STATUS", "AT", "ERROR", NULL);
	json_array_foreach(attempts, i, a) {
		tab_cell(&t, NULL, jnum(a, "attempt", n, sizeof(n)));
		tab_cell(&t, state_sgr(jstr(a, "status")), jstr(a, "status"));
		tab_cell(&t, SGR_DIM, fmt_at(at, sizeof(at), json_object_get(a,
		    "at_ms")));
		tab_cell(&t, NULL, jstr(a, "error"));
	}
	tab_print(&t);
}

static void
print_deliver(json_t *res)
{
	sgr_on(state_sgr(jstr(res, "status")));
	fputs(jstr(res, "status"), stdout);
	sgr_off(state_sgr(jstr(res, "status")));
	printf(" %s: %s -> %s %s (route %s)%s\n", jstr(res, "delivery_id"),
	    jstr(res, "recipient"), jstr(res, "sink"), jstr(res, "target"),
	    json_is_string(json_object_get(res, "route")) ? jstr(res, "route") :
	    jstr(res, "route_id"), json_is_true(json_object_get(res,
	    "replayed")) ? ", replayed" : "");
	if (json_array_size(json_object_get(res, "attempts")) > 0)
		print_attempts(json_object_get(res, "attempts"));
}

static void
print_schedules(json_t *res)
{
	struct tab t;
	json_t *s;
	size_t i;
	char next[64], lastc[64];

	tab_init(&t, 0, "ID", "KIND", "EXPR", "TIMEZONE", "ENABLED", "MEMBER",
	    "NEXT DUE", "LAST CLAIM", NULL);
	json_array_foreach(res, i, s) {
		tab_cell(&t, NULL, jstr(s, "schedule_id"));
		tab_cell(&t, NULL, jstr(s, "kind"));
		tab_cell(&t, NULL, jstr(s, "expr"));
		tab_cell(&t, NULL, jstr(s, "timezone"));
		tab_cell(&t, json_is_true(json_object_get(s, "enabled")) ?
		    NULL : SGR_DIM, json_is_true(json_object_get(s, "enabled"))
		    ? "yes" : "no");
		tab_cell(&t, NULL, jstr(s, "member"));
		tab_cell(&t, NULL, fmt_at(next, sizeof(next), json_object_get(s,
		    "next_due_ms")));
		tab_cell(&t, SGR_DIM, fmt_at(lastc, sizeof(lastc),
		    json_object_get(s, "last_claim_due_ms")));
	}
	tab_print(&t);
}

static void
print_tick(json_t *res)
{
	struct tab t;
	json_t *d, *v;
	size_t i;
	char at[64];

	printf("tick at %s: %zu dispatched\n", fmt_at(at, sizeof(at),
	    json_object_get(res, "tick_ms")), json_array_size(
	    json_object_get(res, "dispatched")));
	if (json_array_size(json_object_get(res, "dispatched")) > 0) {
		tab_init(&t, 0, "SCHEDULE", "CLAIM", "MEMBER", "INPUT", NULL);
		json_array_foreach(json_object_get(res, "dispatched"), i, d) {
			tab_cell(&t, NULL, jstr(d, "schedule_id"));
			tab_cell(&t, NULL, jstr(d, "claim_key"));
			tab_cell(&t, NULL, jstr(d, "member_id"));
			tab_cell(&t, NULL, jstr(d, "input_id"));
		}
		tab_print(&t);
	}
	if (json_array_size(json_object_get(res, "skipped_claims")) > 0) {
		printf("skipped:");
		json_array_foreach(json_object_get(res, "skipped_claims"), i,
		    v)
			printf(" %s", json_is_string(v) ? json_string_value(v) :
			    "?");
		printf("\n");
	}
}

static void
print_route_add(json_t *res)
{
	printf("route %s: %s/%s -> %s %s (retry %lld, backoff %lld ms, "
	    "%lld/min)\n", jstr(res, "id"), jstr(res, "recipient"), jstr(res,
	    "channel"), jstr(res, "sink"), jstr(res, "target"), jint(res,
	    "retry_max"), jint(res, "backoff_ms"), jint(res,
	    "rate_limit_per_minute"));
}

/* --- events -------------------------------------------------------------- */

/* The colour of an event type. */
static const char *
type_sgr(json_t *e)
{
	const char *t = jstr(e, "event_type");

	if (strcmp(t, "child.transition") == 0)
		return state_sgr(jstr(json_object_get(e, "payload"), "to"));
	if (strstr(t, "fail") != NULL || strstr(t, "error") != NULL ||
	    strstr(t, "exhausted") != NULL || strstr(t, "refused") != NULL)
		return SGR_RED;
	if (strncmp(t, "lifecycle.", 10) == 0)
		return SGR_CYAN;
	return NULL;
}

/* A payload on one line: key=value, strings with a space quoted. */
static void
print_payload(json_t *p)
{
	const char *k;
	json_t *v;
	char *s, *c;
	int first = 1;

	if (!json_is_object(p)) {
		if (p != NULL && !json_is_null(p)) {
			s = flat(p);
			c = clean(s, 0);
			fputs(c, stdout);
			free(c);
			free(s);
		}
		return;
	}
	json_object_foreach(p, k, v) {
		s = json_is_string(v) ? strdup(json_string_value(v)) :
		    json_is_null(v) ? strdup("-") : json_dumps(v, JSON_COMPACT |
		    JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
		c = clean(s != NULL ? s : "?", 200);
		printf(json_is_string(v) && (strchr(c, ' ') != NULL ||
		    *c == '\0') ? "%s%s=\"%s\"" : "%s%s=%s", first ? "" : " ",
		    k, c);
		first = 0;
		free(c);
		free(s);
	}
}

/* One event: local time, source, name, type, payload. */
void
ctlp_event(json_t *e)
{
	char at[48], *c;

	ctlp_local(jint(e, "timestamp_ms"), at, sizeof(at));
	sgr_on(SGR_DIM);
	fputs(at, stdout);
	sgr_off(SGR_DIM);
	printf("  %-10s ", jstr(e, "source"));
	c = clean(jstr(e, "name"), 0);
	sgr_on(SGR_BOLD);
	printf("%-16s", c);
	sgr_off(SGR_BOLD);
	free(c);
	c = clean(jstr(e, "event_type"), 0);
	printf(" ");
	sgr_on(type_sgr(e));
	if (json_object_size(json_object_get(e, "payload")) > 0) {
		printf("%-24s", c);
		sgr_off(type_sgr(e));
		printf(" ");
		print_payload(json_object_get(e, "payload"));
	} else {
		fputs(c, stdout);
		sgr_off(type_sgr(e));
	}
	free(c);
	printf("\n");
}

/* --- the verbs ------------------------------------------------------------ */

void
ctlp_result(const char *verb, json_t *res)
{
	if (res == NULL || json_is_null(res))
		return;
	if (strcmp(verb, "status") == 0)
		print_status(res);
	else if (strcmp(verb, "start") == 0 || strcmp(verb, "stop") == 0 ||
	    strcmp(verb, "restart") == 0)
		print_briefs(res);
	else if (strcmp(verb, "kill") == 0)
		printf("%s: sent %s to pid %lld\n", jstr(res, "name"),
		    jstr(res, "signal"), jint(res, "pid"));
	else if (strcmp(verb, "transitions") == 0)
		print_transitions(res);
	else if (strcmp(verb, "reload") == 0) {
		print_names(res, "added");
		print_names(res, "removed");
		print_names(res, "changed");
		print_names(res, "unchanged");
	} else if (strcmp(verb, "shutdown") == 0)
		print_shutdown(res);
	else if (strcmp(verb, "is-healthy") == 0 || strcmp(verb,
	    "events") == 0)
		;	/* the exit status says it; the stream said it all */
	else if (strcmp(verb, "members") == 0)
		print_members(res);
	else if (strcmp(verb, "cluster") == 0)
		print_cluster(res);
	else if (strcmp(verb, "rebalance") == 0)
		print_rebalance(res);
	else if (strcmp(verb, "spawn") == 0)
		print_spawn(res);
	else if (strcmp(verb, "send") == 0)
		print_send(res);
	else if (strcmp(verb, "inputs") == 0)
		print_inputs(res);
	else if (strcmp(verb, "wire") == 0)
		print_wire("wired", res);
	else if (strcmp(verb, "unwire") == 0)
		print_wire("unwired", res);
	else if (strcmp(verb, "reconcile") == 0) {
		print_names(res, "spawned");
		print_names(res, "retired");
		print_names(res, "retained");
	} else if (strcmp(verb, "routes") == 0)
		print_routes(res);
	else if (strcmp(verb, "route add") == 0)
		print_route_add(res);
	else if (strcmp(verb, "route rm") == 0)
		printf("route %s removed\n", jstr(res, "removed"));
	else if (strcmp(verb, "deliveries") == 0)
		print_deliveries(res);
	else if (strcmp(verb, "deliver") == 0)
		print_deliver(res);
	else if (strcmp(verb, "schedules") == 0)
		print_schedules(res);
	else if (strcmp(verb, "tick") == 0)
		print_tick(res);
	else if (strcmp(verb, "conversation") == 0)
		print_conversation(res);
	else if (strcmp(verb, "usage") == 0)
		print_usage(res);
	else if (strcmp(verb, "rediscover") == 0)
		print_rediscover(res);
	else if (strcmp(verb, "tools") == 0)
		print_tools(res);
	else if (strcmp(verb, "call") == 0)
		print_call(res);
	else
		print_any(res);		/* resolve, reset, retire, ... */
}

/* key: a list of names on one line. */
void
print_names(json_t *res, const char *key)
{
	json_t *v;
	size_t i;
	char *c;

	printf("%s:", key);
	json_array_foreach(json_object_get(res, key), i, v) {
		c = clean(json_is_string(v) ? json_string_value(v) : "?", 0);
		printf(" %s", c);
		free(c);
	}
	printf("\n");
}
