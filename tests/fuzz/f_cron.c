/*
 * f_cron.c: schedules through the public cron.h API.  An input is three
 * lines: an expression (five cron fields, or an interval: star, slash, N,
 * then s, m, h or d), a time zone (UTC, +HH:MM or an IANA name) and a time
 * in seconds (taken into 1970..3058, what a scheduler can be asked).  A
 * due time is strictly after the time asked, the next one later still.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "fuzz.h"

#define HORIZON	(1LL << 35)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* The next line of s (cut in place), or "" when none is left. */
static char *
line(char **s)
{
	char *l = *s, *nl;

	if ((nl = strchr(l, '\n')) != NULL) {
		*nl = '\0';
		*s = nl + 1;
	} else
		*s = l + strlen(l);
	return l;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *s, *expr, *tz, err[256];
	struct when w;
	long long after;
	int64_t n1, n2;

	if ((text = strndup((const char *)data, size)) == NULL)
		return 0;
	s = text;
	expr = line(&s);
	tz = line(&s);
	after = strtoll(line(&s), NULL, 10);
	if (after < 0 || after >= HORIZON)
		after = (long long)((unsigned long long)after % HORIZON);
	memset(&w, 0, sizeof(w));
	err[0] = '\0';
	if (cron_parse(expr, &w.cron, err, sizeof(err)) == 0)
		w.is_cron = 1;
	else if (interval_parse(expr, &w.every_s, err, sizeof(err)) == 0)
		FUZZ_ASSERT(w.every_s > 0);
	else {
		FUZZ_ASSERT(err[0] != '\0');
		goto out;
	}
	err[0] = '\0';
	if (zone_parse(tz, &w, err, sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0');
		goto out;
	}
	n1 = when_next(&w, after);
	FUZZ_ASSERT(n1 == -1 || n1 > after);
	if (n1 != -1 && n1 < HORIZON) {
		n2 = when_next(&w, n1);
		FUZZ_ASSERT(n2 == -1 || n2 > n1);
	}
out:
	free(text);
	return 0;
}
