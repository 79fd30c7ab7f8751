/*
 * ctlagents.c: mobkitctl's output for the agents' verbs: a conversation
 * as a transcript, token usage as a table, what rediscover changed, and
 * the reply of send --stream as it arrives.  With --json the verbs print
 * their JSON as mobkitctl.c does for every verb, except send --stream:
 * one object a line ({"delta":..} items, then the result).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctlagents.h"

static size_t	 shown;		/* bytes of deltas printed (send --stream) */

/* A string member, or "" (or "-" for null). */
static const char *
str_of(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : "-";
}

static long long
int_of(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* HH:MM:SS.mmm of an epoch ms, local time. */
static void
hms(long long ms, char *buf, size_t sz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char b[16];

	localtime_r(&t, &tm);
	strftime(b, sizeof(b), "%H:%M:%S", &tm);
	snprintf(buf, sz, "%s.%03lld", b, ms % 1000);
}

/* A message's content: text as it is, anything else as JSON. */
static void
print_content(json_t *c)
{
	char *s;

	if (json_is_string(c))
		printf("%s\n", json_string_value(c));
	else if (c != NULL && !json_is_null(c)) {
		s = json_dumps(c, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%s\n", s != NULL ? s : "");
		free(s);
	}
}

/* One tool call of an assistant message: -> name(arguments) [id]. */
static void
print_call(json_t *tc)
{
	json_t *f = json_object_get(tc, "function");

	printf("  -> %s(%s) [%s]\n", str_of(f, "name"), str_of(f,
	    "arguments"), str_of(tc, "id"));
}

/* conversation: "[time] role (input): text", tool calls under it. */
void
print_conversation(json_t *res)
{
	json_t *m, *tc;
	size_t i, j;
	char at[32];

	json_array_foreach(res, i, m) {
		if (json_object_get(m, "gap") != NULL) {
			printf("(%lld older turns dropped)\n", int_of(
			    json_object_get(m, "gap"), "turns_dropped"));
			continue;
		}
		hms(int_of(m, "at_ms"), at, sizeof(at));
		printf("[%s] %s", at, str_of(m, "role"));
		if (json_is_string(json_object_get(m, "input_id")))
			printf(" (%s)", str_of(m, "input_id"));
		if (json_is_string(json_object_get(m, "tool_call_id")))
			printf(" [%s]", str_of(m, "tool_call_id"));
		printf(": ");
		print_content(json_object_get(m, "content"));
		if (!json_is_string(json_object_get(m, "content")))
			printf("\n");
		json_array_foreach(json_object_get(m, "tool_calls"), j, tc)
			print_call(tc);
	}
}

/* usage: an aligned table, a total when there are several members. */
void
print_usage(json_t *res)
{
	long long tin = 0, tout = 0, tturns = 0;
	json_t *u;
	size_t i;
	int w = json_array_size(res) > 1 ? 7 : 2;	/* "(total)" */

	json_array_foreach(res, i, u)
		if ((int)strlen(str_of(u, "id")) > w)
			w = (int)strlen(str_of(u, "id"));
	printf("%-*s %14s %14s %8s\n", w, "ID", "INPUT_TOKENS",
	    "OUTPUT_TOKENS", "TURNS");
	json_array_foreach(res, i, u) {
		printf("%-*s %14lld %14lld %8lld\n", w, str_of(u, "id"),
		    int_of(u, "input_tokens"), int_of(u, "output_tokens"),
		    int_of(u, "turns"));
		tin += int_of(u, "input_tokens");
		tout += int_of(u, "output_tokens");
		tturns += int_of(u, "turns");
	}
	if (json_array_size(res) > 1)
		printf("%-*s %14lld %14lld %8lld\n", w, "(total)", tin, tout,
		    tturns);
}

/* A list of pairs [[A,B]..] as "A-B A-B". */
static void
print_pairs(json_t *res, const char *key)
{
	json_t *p;
	size_t i;

	printf("%s:", key);
	json_array_foreach(json_object_get(res, key), i, p)
		printf(" %s-%s", json_string_value(json_array_get(p, 0)),
		    json_string_value(json_array_get(p, 1)));
	printf("\n");
}

void
print_rediscover(json_t *res)
{
	print_names(res, "spawned");
	print_names(res, "retired");
	print_pairs(res, "wired");
	print_pairs(res, "unwired");
}

/* send --stream: a delta as it comes; 1 when the item was one. */
int
print_stream_item(json_t *e, int json_out)
{
	json_t *d = json_object_get(e, "delta");
	char *s;

	if (!json_is_string(d))
		return 0;
	if (json_out) {
		s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s != NULL ? s : "{}");
		free(s);
	} else {
		fputs(json_string_value(d), stdout);
		shown += strlen(json_string_value(d));
	}
	fflush(stdout);
	return 1;
}

/*
 * send --stream: the result; people see the text already (or now, if no
 * piece came: a deduplicated input, a turn without pieces), and what
 * went wrong.
 */
void
print_stream_result(json_t *res, int json_out)
{
	json_t *r = json_object_get(res, "result");
	const char *st;
	char *s;
	int ok;

	if (json_out) {
		s = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s != NULL ? s : "{}");
		free(s);
		return;
	}
	st = json_string_value(json_object_get(r, "status"));
	ok = st != NULL && strcmp(st, "completed") == 0;
	if (shown == 0 && ok && json_is_string(json_object_get(r, "text")))
		fputs(str_of(r, "text"), stdout);	/* no piece came */
	if (shown > 0 || ok)
		printf("\n");
	if (!json_is_object(r))
		printf("%s %s%s%s\n", str_of(res, "outcome"), str_of(res,
		    "input_id"), json_is_string(json_object_get(res,
		    "reason")) ? ": " : "", json_is_string(json_object_get(res,
		    "reason")) ? str_of(res, "reason") : "");
	else if (st == NULL || strcmp(st, "completed") != 0)
		printf("%s: %s\n", st ? st : "?", str_of(r, "error"));
}
