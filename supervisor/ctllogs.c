/*
 * ctllogs.c: mobkitctl's output for `logs NAME [-n N] [-f]`.  For people,
 * a line each: the local time, the stream, the text; with --json one
 * object a line, {"ts_ms","name","stream","line"}.  A follower that read
 * too slowly is told how many lines it missed: a {"gap":{"lines":N}}
 * item, printed where the lines were.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctllogs.h"

/*
 * Colour only on a terminal, NO_COLOR unset or empty and TERM not dumb,
 * as for every other verb (ctlprint.c).
 */
static int
use_colour(void)
{
	static int known, on;
	const char *nc, *term;

	if (!known) {
		known = 1;
		nc = getenv("NO_COLOR");
		term = getenv("TERM");
		on = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0') &&
		    (term == NULL || strcmp(term, "dumb") != 0);
	}
	return on;
}

/*
 * The text of a line on a terminal: a child's control characters (an
 * escape sequence that would retitle or clear the screen) shown as '?',
 * tabs kept.  A pipe or a file gets the line as it came.
 */
static void
put_text(const char *s)
{
	static int known, tty;

	if (!known) {
		known = 1;
		tty = isatty(STDOUT_FILENO);
	}
	if (!tty) {
		fputs(s, stdout);
		return;
	}
	for (; *s != '\0'; s++)
		putchar(((unsigned char)*s < 0x20 && *s != '\t') ||
		    *s == 0x7f ? '?' : *s);
}

/* One line for people: "2026-12-02 14:03:07.123 stderr text". */
static void
print_human(json_t *e)
{
	long long ms = (long long)json_integer_value(json_object_get(e,
	    "ts_ms"));
	const char *stream = json_string_value(json_object_get(e, "stream"));
	const char *line = json_string_value(json_object_get(e, "line"));
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];
	int err;

	if (stream == NULL)
		stream = "?";
	err = strcmp(stream, "stderr") == 0;
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s.%03lld %s%s%s ", buf, ms % 1000, err && use_colour() ?
	    "\033[31m" : "", stream, err && use_colour() ? "\033[0m" : "");
	put_text(line != NULL ? line : "");
	putchar('\n');
}

int
print_log_item(const char *verb, const union ctl_args *a, json_t *e,
    int json_out)
{
	json_t *gap, *o;
	char *s;

	if (strcmp(verb, "logs") != 0)
		return 0;
	gap = json_object_get(e, "gap");
	if (json_out) {
		o = json_object();
		if (gap != NULL)
			json_object_set(o, "gap", gap);
		else {
			json_object_set(o, "ts_ms", json_object_get(e,
			    "ts_ms"));
		}
		json_object_set_new(o, "name", json_string(a->logs.name));
		if (gap == NULL) {
			json_object_set(o, "stream", json_object_get(e,
			    "stream"));
			json_object_set(o, "line", json_object_get(e, "line"));
		}
		if ((s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) !=
		    NULL)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	} else if (gap != NULL)
		printf("-- %lld lines skipped: mobkitctl read too slowly --\n",
		    (long long)json_integer_value(json_object_get(gap,
		    "lines")));
	else
		print_human(e);
	fflush(stdout);
	return 1;
}
