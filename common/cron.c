/*
 * cron.c: the next due time of a schedule.
 *
 * Local times come from the C library's time zone database (TZ, tzset,
 * localtime_r, mktime), so daylight saving follows tzdata.  The rules at a
 * change of offset:
 *  - a cron slot that does not exist that day (02:30 when clocks spring
 *    from 02:00 to 03:00) fires once, at the instant that wall time would
 *    have been under the old offset (03:30 new time);
 *  - a cron slot that happens twice (01:30 when clocks fall back) fires
 *    once, at its first occurrence;
 *  - interval slots (aligned to multiples of the interval in local time)
 *    that do not exist are skipped, and repeated ones fire once.
 * The caller's process must not depend on TZ: it is set here.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cron.h"

#define INTERVAL_MAX_DAYS	36600	/* a century */

static const char *const month_names[] = { "jan", "feb", "mar", "apr",
    "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu",
    "fri", "sat", NULL };
static const char *const field_names[] = { "minute", "hour", "day of month",
    "month", "day of week" };

/* A number or (for month and dow) a three-letter name. */
static int
field_value(const char **p, int field, int *out)
{
	const char *const *names = field == 3 ? month_names : field == 4 ?
	    dow_names : NULL;
	char *end;
	long v;
	int i;

	if (isdigit((unsigned char)**p)) {
		v = strtol(*p, &end, 10);
		if (end - *p > 4)
			return -1;
		*p = end;
		*out = (int)v;
		return 0;
	}
	for (i = 0; names != NULL && names[i] != NULL; i++)
		if (strncasecmp(*p, names[i], 3) == 0) {
			*p += 3;
			*out = field == 3 ? i + 1 : i;
			return 0;
		}
	return -1;
}

/* Parse one field into a bit set of [lo, hi]. */
static int
field_parse(const char *s, int field, int lo, int hi, uint64_t *bits,
    int *star, char *err, size_t errsz)
{
	const char *p = s;
	int a, b, step, tstar;

	*bits = 0;
	*star = s[0] == '*';
	for (;;) {
		step = 1;
		tstar = *p == '*';
		if (*p == '*') {
			a = lo;
			b = hi;
			p++;
		} else {
			if (field_value(&p, field, &a) == -1)
				goto bad;
			b = a;
			if (*p == '-') {
				p++;
				if (field_value(&p, field, &b) == -1)
					goto bad;
			}
		}
		if (*p == '/') {
			char *end;
			long v;

			p++;
			v = strtol(p, &end, 10);
			if (end == p || v < 1 || v > hi)
				goto bad;
			step = (int)v;
			p = end;
			if (a == b && !tstar)
				b = hi;		/* "5/15": from 5 to the end */
		}
		if (a < lo || b > (field == 4 ? 7 : hi) || a > b) {
			snprintf(err, errsz, "%s: \"%s\" is out of range %d-%d",
			    field_names[field], s, lo, field == 4 ? 7 : hi);
			return -1;
		}
		for (; a <= b; a += step)
			*bits |= (uint64_t)1 << (field == 4 && a == 7 ? 0 : a);
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			goto bad;
	}
bad:
	snprintf(err, errsz, "%s: cannot read \"%s\"", field_names[field], s);
	return -1;
}

static int
days_in(int month, int leap)
{
	static const int d[] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	return month == 2 && leap ? 29 : d[month];
}

int
cron_parse(const char *expr, struct cron *c, char *err, size_t errsz)
{
	static const int lo[] = { 0, 0, 1, 1, 0 }, hi[] = { 59, 23, 31, 12, 6 };
	char buf[256], *f[6], *save = NULL, *tok;
	uint64_t bits[5];
	int n = 0, i, stars[5], m, d, possible = 0;

	snprintf(buf, sizeof(buf), "%s", expr);
	for (tok = strtok_r(buf, " \t", &save); tok != NULL && n < 6;
	    tok = strtok_r(NULL, " \t", &save))
		f[n++] = tok;
	if (n != 5) {
		snprintf(err, errsz, "expected 5 fields (minute hour "
		    "day-of-month month day-of-week), got %d", n);
		return -1;
	}
	for (i = 0; i < 5; i++)
		if (field_parse(f[i], i, lo[i], hi[i], &bits[i], &stars[i], err,
		    errsz) == -1)
			return -1;
	memset(c, 0, sizeof(*c));
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->month = (uint16_t)bits[3];
	c->dow = (uint8_t)bits[4];
	c->dom_star = stars[2];
	c->dow_star = stars[4];
	if (c->dow_star || !c->dom_star) {
		/* the day of month decides (alone, or OR-ed with a weekday) */
		for (m = 1; m <= 12; m++)
			for (d = 1; d <= days_in(m, 1); d++)
				if ((c->month >> m & 1) && (c->dom >> d & 1))
					possible = 1;
		if (!possible && c->dow_star) {
			snprintf(err, errsz, "day of month \"%s\" never falls "
			    "in month \"%s\"", f[2], f[3]);
			return -1;
		}
	}
	return 0;
}

int
interval_parse(const char *expr, int64_t *seconds, char *err, size_t errsz)
{
	char *end;
	long long v, unit;

	if (strncmp(expr, "*/", 2) != 0)
		goto bad;
	v = strtoll(expr + 2, &end, 10);
	if (end == expr + 2 || v < 1 || end[0] == '\0' || end[1] != '\0')
		goto bad;
	switch (*end) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		goto bad;
	}
	if (v > INTERVAL_MAX_DAYS * 86400LL / unit) {	/* nor overflow */
		snprintf(err, errsz, "interval: \"%s\" is longer than %d days",
		    expr, INTERVAL_MAX_DAYS);
		return -1;
	}
	*seconds = v * unit;
	return 0;
bad:
	snprintf(err, errsz, "interval: bad value \"%s\": expected */Ns, */Nm, "
	    "*/Nh or */Nd", expr);
	return -1;
}

int
zone_parse(const char *tz, struct when *w, char *err, size_t errsz)
{
	char path[512];
	const char *dir = getenv("TZDIR");
	struct stat st;
	int h, m;

	w->fixed = 0;
	w->offset_s = 0;
	w->zone[0] = '\0';
	if (strcmp(tz, "UTC") == 0 || strcmp(tz, "Z") == 0) {
		w->fixed = 1;
		return 0;
	}
	if ((tz[0] == '+' || tz[0] == '-') && strlen(tz) == 6 &&
	    sscanf(tz + 1, "%2d:%2d", &h, &m) == 2 && h <= 23 && m <= 59 &&
	    tz[3] == ':') {
		w->fixed = 1;
		w->offset_s = (tz[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "/usr/share/zoneinfo",
	    tz);
	if (strstr(tz, "..") != NULL || tz[0] == '/' || strlen(tz) >=
	    sizeof(w->zone) || stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "timezone: unknown \"%s\": expected UTC, "
		    "+HH:MM or an IANA name such as Europe/Paris", tz);
		return -1;
	}
	snprintf(w->zone, sizeof(w->zone), "%s", tz);
	return 0;
}

/* --- local time -------------------------------------------------------- */

static void
use_zone(const struct when *w)
{
	static char current[64] = "\001";

	if (w->fixed || strcmp(current, w->zone) == 0)
		return;
	setenv("TZ", w->zone, 1);
	tzset();
	snprintf(current, sizeof(current), "%s", w->zone);
}

static void
to_local(const struct when *w, int64_t t, struct tm *tm)
{
	time_t tt;

	if (w->fixed) {
		tt = (time_t)(t + w->offset_s);
		gmtime_r(&tt, tm);
	} else {
		tt = (time_t)t;
		localtime_r(&tt, tm);
	}
}

static int
same_slot(const struct tm *a, const struct tm *b)
{
	return a->tm_year == b->tm_year && a->tm_mon == b->tm_mon &&
	    a->tm_mday == b->tm_mday && a->tm_hour == b->tm_hour &&
	    a->tm_min == b->tm_min && a->tm_sec == b->tm_sec;
}

/*
 * The first instant whose local time is the given slot.  Returns 0, or 1
 * when the slot does not exist (a gap), with *out the instant it would be
 * under the offset before the gap.
 */
static int
slot_instant(const struct when *w, const struct tm *slot, int64_t *out)
{
	struct tm tm, back;
	int64_t best = INT64_MAX, t;
	int isdst;

	if (w->fixed) {
		tm = *slot;
		*out = (int64_t)timegm(&tm) - w->offset_s;
		return 0;
	}
	for (isdst = 0; isdst <= 1; isdst++) {
		tm = *slot;
		tm.tm_isdst = isdst;
		t = (int64_t)mktime(&tm);
		to_local(w, t, &back);
		if (same_slot(&back, slot) && t < best)
			best = t;
	}
	if (best != INT64_MAX) {
		*out = best;
		return 0;
	}
	tm = *slot;
	tm.tm_isdst = 0;
	*out = (int64_t)mktime(&tm);
	return 1;
}

static int
day_matches(const struct cron *c, const struct tm *day)
{
	int dom = c->dom >> day->tm_mday & 1, dow = c->dow >> day->tm_wday & 1;

	if (!(c->month >> (day->tm_mon + 1) & 1))
		return 0;
	if (c->dom_star && c->dow_star)
		return 1;
	if (c->dom_star)
		return dow;
	if (c->dow_star)
		return dom;
	return dom || dow;	/* both restricted: either will do */
}

static int64_t
cron_next(const struct when *w, int64_t after)
{
	const struct cron *c = &w->cron;
	struct tm start, day, slot;
	int64_t best, t;
	int n, h, m;
	time_t base;

	to_local(w, after, &start);
	start.tm_hour = start.tm_min = start.tm_sec = 0;
	base = timegm(&start);			/* the local date, as UTC */
	for (n = 0; n < 366 * 8; n++) {
		time_t dt = base + (time_t)n * 86400;

		gmtime_r(&dt, &day);
		if (!day_matches(c, &day))
			continue;
		best = INT64_MAX;
		for (h = 0; h < 24; h++) {
			if (!(c->hour >> h & 1))
				continue;
			for (m = 0; m < 60; m++) {
				if (!(c->minute >> m & 1))
					continue;
				slot = day;
				slot.tm_hour = h;
				slot.tm_min = m;
				slot.tm_sec = 0;
				(void)slot_instant(w, &slot, &t);
				if (t > after && t < best)
					best = t;
			}
		}
		if (best != INT64_MAX)
			return best;
	}
	return -1;
}

/* Multiples of the interval in local time, strictly after `after`. */
static int64_t
interval_next(const struct when *w, int64_t after)
{
	struct tm tm, slot;
	int64_t local, step = w->every_s, k, t;
	int i;

	to_local(w, after, &tm);
	local = (int64_t)timegm(&tm);		/* local wall clock as UTC */
	k = local / step + 1;
	if (local < 0 && local % step != 0)
		k--;
	for (i = 0; i < 100000; i++, k++) {
		time_t lt = (time_t)(k * step);

		gmtime_r(&lt, &slot);
		if (slot_instant(w, &slot, &t) == 1)
			continue;		/* does not exist today */
		if (t > after)
			return t;
	}
	return -1;
}

int64_t
when_next(const struct when *w, int64_t after_s)
{
	use_zone(w);
	return w->is_cron ? cron_next(w, after_s) : interval_next(w, after_s);
}
