/*
 * cron.c: the next due time of a schedule.
 *
 * Local times come from the zone's tzfile (TZif, RFC 8536), read here:
 * its table of transitions, then the POSIX TZ rule of its footer for the
 * times after the table, so daylight saving follows tzdata.  The process
 * environment is never touched (no TZ, no tzset): setenv in a process
 * with threads races every getenv, and TZ would leak into the children.
 * The rules at a change of offset:
 *  - a cron slot that does not exist that day (02:30 when clocks spring
 *    from 02:00 to 03:00) fires once, at the instant that wall time would
 *    have been under the old offset (03:30 new time);
 *  - a cron slot that happens twice (01:30 when clocks fall back) fires
 *    once, at its first occurrence;
 *  - interval slots (aligned to multiples of the interval in local time)
 *    that do not exist are skipped, and repeated ones fire once.
 * Zones are cached by name for the life of the process (one thread only).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cron.h"

#define INTERVAL_MAX_DAYS	36600	/* a century */

static int32_t	zone_offset(const struct when *, int64_t t);
static int	zone_ok(const char *name);

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

/* @yearly ... @hourly as the five fields they stand for, else expr. */
static const char *
cron_macro(const char *expr)
{
	static const struct {
		const char	*name, *fields;
	} m[] = {
		{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
		{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
		{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
		{ "@hourly", "0 * * * *" },
	};
	size_t i, len = strcspn(expr, " \t");

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (strlen(m[i].name) == len && strncmp(expr, m[i].name,
		    len) == 0 && expr[len + strspn(expr + len, " \t")] == '\0')
			return m[i].fields;
	return expr;
}

int
cron_parse(const char *expr, struct cron *c, char *err, size_t errsz)
{
	static const int lo[] = { 0, 0, 1, 1, 0 }, hi[] = { 59, 23, 31, 12, 6 };
	char buf[256], *f[6], *save = NULL, *tok;
	uint64_t bits[5];
	int n = 0, i, stars[5], m, d, possible = 0;

	expr += strspn(expr, " \t");
	if (expr[0] == '@' && (expr = cron_macro(expr))[0] == '@') {
		snprintf(err, errsz, "unknown macro \"%.*s\" (@yearly, "
		    "@annually, @monthly, @weekly, @daily, @midnight, @hourly)",
		    (int)strcspn(expr, " \t"), expr);
		return -1;
	}
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
	if (!zone_ok(tz)) {
		snprintf(err, errsz, "timezone: %s is not a time zone file "
		    "(TZif)", path);
		return -1;
	}
	snprintf(w->zone, sizeof(w->zone), "%s", tz);
	return 0;
}

/* --- local time -------------------------------------------------------- */

static void
to_local(const struct when *w, int64_t t, struct tm *tm)
{
	time_t tt;

	tt = (time_t)(t + (w->fixed ? w->offset_s : zone_offset(w, t)));
	gmtime_r(&tt, tm);
}

/*
 * The first instant whose local time is the given slot.  Returns 0, or 1
 * when the slot does not exist (a gap), with *out the instant it would be
 * under the offset before the gap.
 */
static int
slot_instant(const struct when *w, const struct tm *slot, int64_t *out)
{
	struct tm tm = *slot;
	int64_t local, best = INT64_MAX, t;
	int32_t off[4];
	int i;

	local = (int64_t)timegm(&tm);		/* the wall clock, as UTC */
	if (w->fixed) {
		*out = local - w->offset_s;
		return 0;
	}
	/* the offsets around: before and after any change near the slot */
	off[0] = zone_offset(w, local - 86400);
	off[1] = zone_offset(w, local);
	off[2] = zone_offset(w, local + 86400);
	off[3] = zone_offset(w, local - off[1]);
	for (i = 0; i < 4; i++) {
		t = local - off[i];
		if (zone_offset(w, t) == off[i] && t < best)
			best = t;
	}
	if (best != INT64_MAX) {
		*out = best;
		return 0;
	}
	*out = local - off[0];		/* a gap: under the offset before */
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
	return w->is_cron ? cron_next(w, after_s) : interval_next(w, after_s);
}

/* --- time zones: the tzfile and its POSIX TZ footer ------------------- */

#define TZ_FILE_MAX	(1024 * 1024)
#define TZ_MAXCOUNT	100000		/* far above any real zone */
#define TZ_FAR		(1LL << 50)	/* seconds: no overflow below */

struct tzdate {
	int		 kind;		/* 'J' 1..365 no leap day, 'D' 0..365, 'M' */
	int		 n, m, wk, wd;
	int32_t		 time;		/* seconds after local midnight */
};

struct tzrule {
	int32_t		 std_off, dst_off;	/* seconds east of UTC */
	int		 has_dst;
	struct tzdate	 start, end;
};

struct tzdata {
	int64_t		*trans;		/* ascending */
	uint8_t		*idx;		/* the type from each transition on */
	int32_t		*off;		/* per type: seconds east of UTC */
	int		 ntrans, ntypes;
	int		 has_rule;
	struct tzrule	 rule;
};

/* Big-endian integers of the tzfile. */
static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A signed 64-bit big-endian integer. */
static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The year of a day count from 1970-01-01. */
static int64_t
year_of_days(int64_t z)
{
	int64_t era, doe, yoe, y, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return y + (mp >= 10);
}

/* A leap year of the Gregorian calendar? */
static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* A number of at most max digits. */
static int
rule_num(const char **p, int max, int *out)
{
	int n = 0, i;

	for (i = 0; i < max && isdigit((unsigned char)**p); i++, (*p)++)
		n = n * 10 + (**p - '0');
	if (i == 0)
		return -1;
	*out = n;
	return 0;
}

/* [+-]hh[:mm[:ss]], hours up to maxh: seconds. */
static int
rule_hms(const char **p, int maxh, int32_t *out)
{
	int sign = 1, h, m = 0, sec = 0;

	if (**p == '+' || **p == '-')
		sign = *(*p)++ == '-' ? -1 : 1;
	if (rule_num(p, 3, &h) == -1 || h > maxh)
		return -1;
	if (**p == ':') {
		(*p)++;
		if (rule_num(p, 2, &m) == -1 || m > 59)
			return -1;
		if (**p == ':') {
			(*p)++;
			if (rule_num(p, 2, &sec) == -1 || sec > 59)
				return -1;
		}
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	return 0;
}

/* A zone abbreviation: <...> or three or more letters. */
static int
rule_name(const char **p)
{
	const char *s = *p;

	if (*s == '<') {
		while (*++s != '>')
			if (*s == '\0')
				return -1;
		*p = s + 1;
		return 0;
	}
	while (isalpha((unsigned char)*s))
		s++;
	if (s - *p < 3)
		return -1;
	*p = s;
	return 0;
}

/* Jn, n or Mm.w.d, then an optional /time (default 02:00). */
static int
rule_date(const char **p, struct tzdate *d)
{
	memset(d, 0, sizeof(*d));
	if (**p == 'J') {
		(*p)++;
		d->kind = 'J';
		if (rule_num(p, 3, &d->n) == -1 || d->n < 1 || d->n > 365)
			return -1;
	} else if (**p == 'M') {
		(*p)++;
		d->kind = 'M';
		if (rule_num(p, 2, &d->m) == -1 || d->m < 1 || d->m > 12 ||
		    *(*p)++ != '.' || rule_num(p, 1, &d->wk) == -1 ||
		    d->wk < 1 || d->wk > 5 || *(*p)++ != '.' ||
		    rule_num(p, 1, &d->wd) == -1 || d->wd > 6)
			return -1;
	} else {
		d->kind = 'D';
		if (rule_num(p, 3, &d->n) == -1 || d->n > 365)
			return -1;
	}
	d->time = 7200;
	if (**p == '/') {
		(*p)++;
		if (rule_hms(p, 167, &d->time) == -1)
			return -1;
	}
	return 0;
}

/* A POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3"; 0 or -1. */
static int
rule_parse(const char *s, struct tzrule *r)
{
	const char *p = s;
	int32_t v;

	memset(r, 0, sizeof(*r));
	if (rule_name(&p) == -1 || rule_hms(&p, 24, &v) == -1)
		return -1;
	r->std_off = r->dst_off = -v;		/* POSIX counts west */
	if (*p == '\0')
		return 0;
	if (rule_name(&p) == -1)
		return -1;
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if (rule_hms(&p, 24, &v) == -1)
			return -1;
		r->dst_off = -v;
	}
	if (*p == '\0')		/* no rule given: the US one */
		p = ",M3.2.0,M11.1.0";
	if (*p++ != ',' || rule_date(&p, &r->start) == -1 || *p++ != ',' ||
	    rule_date(&p, &r->end) == -1 || *p != '\0')
		return -1;
	return 0;
}

/* The UTC instant of a rule's date in year y, at off from UTC. */
static int64_t
rule_instant(const struct tzdate *d, int64_t y, int32_t off)
{
	int64_t day, first;
	int wday, dom, dim;
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (d->kind == 'J')
		day = days_from_civil(y, 1, 1) + d->n - 1 +
		    (is_leap(y) && d->n >= 60);
	else if (d->kind == 'D')
		day = days_from_civil(y, 1, 1) + d->n;
	else {
		first = days_from_civil(y, d->m, 1);
		wday = (int)(((first + 4) % 7 + 7) % 7);	/* 1970: Thu */
		dim = mdays[d->m - 1] + (d->m == 2 && is_leap(y));
		dom = (d->wd - wday + 7) % 7 + (d->wk - 1) * 7;
		while (dom >= dim)
			dom -= 7;
		day = first + dom;
	}
	return day * 86400 + d->time - off;
}

/* The offset at t by the rule. */
static int32_t
rule_offset(const struct tzrule *r, int64_t t)
{
	int64_t y, start, end;

	if (!r->has_dst || t > TZ_FAR || t < -TZ_FAR)
		return r->std_off;	/* far beyond any calendar that matters */
	y = year_of_days((t + r->std_off) / 86400 -
	    ((t + r->std_off) % 86400 < 0));
	start = rule_instant(&r->start, y, r->std_off);
	end = rule_instant(&r->end, y, r->dst_off);
	if (start < end)
		return t >= start && t < end ? r->dst_off : r->std_off;
	return t >= end && t < start ? r->std_off : r->dst_off;
}

/* Free a zone read by tzdata_parse. */
void
tzdata_free(struct tzdata *tz)
{
	if (tz == NULL)
		return;
	free(tz->trans);
	free(tz->idx);
	free(tz->off);
	free(tz);
}

/*
 * A TZif file (RFC 8536) in memory: the 64-bit data of version 2 and
 * later, else the 32-bit data of version 1; NULL if it is not one.
 */
struct tzdata *
tzdata_parse(const void *buf, size_t len)
{
	const unsigned char *b = buf, *p, *e = b + len, *nl;
	uint64_t cnt[6], tsz = 4, skip;
	struct tzdata *tz;
	char footer[256];
	int i;

	if (len < 44 || memcmp(b, "TZif", 4) != 0)
		return NULL;
	for (i = 0; i < 6; i++)
		cnt[i] = be32(b + 20 + 4 * i);	/* isut isstd leap time type char */
	p = b + 44;
	if (b[4] >= '2') {
		skip = cnt[3] * 5 + cnt[4] * 6 + cnt[5] + cnt[2] * 8 + cnt[1] +
		    cnt[0];
		if (skip + 44 > (uint64_t)(e - p) ||
		    memcmp(p + skip, "TZif", 4) != 0)
			return NULL;
		p += skip;
		for (i = 0; i < 6; i++)
			cnt[i] = be32(p + 20 + 4 * i);
		p += 44;
		tsz = 8;
	}
	if (cnt[3] > TZ_MAXCOUNT || cnt[4] == 0 || cnt[4] > 256 ||
	    cnt[5] > TZ_MAXCOUNT || cnt[2] > TZ_MAXCOUNT ||
	    cnt[1] > 256 || cnt[0] > 256)
		return NULL;
	skip = cnt[3] * (tsz + 1) + cnt[4] * 6 + cnt[5] + cnt[2] * (tsz + 4) +
	    cnt[1] + cnt[0];
	if (skip > (uint64_t)(e - p))
		return NULL;
	if ((tz = calloc(1, sizeof(*tz))) == NULL ||
	    (tz->trans = calloc(cnt[3] + 1, sizeof(*tz->trans))) == NULL ||
	    (tz->idx = calloc(cnt[3] + 1, 1)) == NULL ||
	    (tz->off = calloc(cnt[4], sizeof(*tz->off))) == NULL) {
		tzdata_free(tz);
		return NULL;
	}
	tz->ntrans = (int)cnt[3];
	tz->ntypes = (int)cnt[4];
	for (i = 0; i < tz->ntrans; i++, p += tsz) {
		tz->trans[i] = tsz == 8 ? be64(p) : (int32_t)be32(p);
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
			goto bad;
	}
	for (i = 0; i < tz->ntrans; i++)
		if ((tz->idx[i] = *p++) >= tz->ntypes)
			goto bad;
	for (i = 0; i < tz->ntypes; i++, p += 6) {
		tz->off[i] = (int32_t)be32(p);
		if (tz->off[i] <= -25 * 3600 || tz->off[i] >= 26 * 3600)
			goto bad;
	}
	p += cnt[5] + cnt[2] * (tsz + 4) + cnt[1] + cnt[0];
	/* the footer: "\nTZ string\n" (version 2 and later) */
	if (tsz == 8 && p < e && *p == '\n' &&
	    (nl = memchr(p + 1, '\n', (size_t)(e - p - 1))) != NULL &&
	    nl - p - 1 > 0 && (size_t)(nl - p - 1) < sizeof(footer)) {
		memcpy(footer, p + 1, (size_t)(nl - p - 1));
		footer[nl - p - 1] = '\0';
		if (rule_parse(footer, &tz->rule) == -1)
			goto bad;
		tz->has_rule = 1;
	}
	return tz;
bad:
	tzdata_free(tz);
	return NULL;
}

/* The offset from UTC at t, in seconds east. */
int32_t
tzdata_offset(const struct tzdata *tz, int64_t t)
{
	int lo, hi, mid;

	if (tz->ntrans == 0)
		return tz->has_rule ? rule_offset(&tz->rule, t) : tz->off[0];
	if (t < tz->trans[0])
		return tz->off[0];
	if (t >= tz->trans[tz->ntrans - 1] && tz->has_rule)
		return rule_offset(&tz->rule, t);
	lo = 0;
	hi = tz->ntrans - 1;		/* trans[lo] <= t */
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return tz->off[tz->idx[lo]];
}

/* Read a zone's tzfile. */
static struct tzdata *
zone_load(const char *name)
{
	const char *dir = getenv("TZDIR");
	struct tzdata *tz = NULL;
	char path[512], *buf;
	ssize_t n;
	size_t len = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "/usr/share/zoneinfo",
	    name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if ((buf = malloc(TZ_FILE_MAX)) == NULL) {
		close(fd);
		return NULL;
	}
	while (len < TZ_FILE_MAX && ((n = read(fd, buf + len,
	    TZ_FILE_MAX - len)) > 0 || (n == -1 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	close(fd);
	if (len < TZ_FILE_MAX)
		tz = tzdata_parse(buf, len);
	free(buf);
	return tz;
}

static struct zone_cache {
	char			 name[64];
	struct tzdata		*tz;
	struct zone_cache	*next;
} *zones;

/* A zone by name, read once; NULL if it cannot be read. */
static const struct tzdata *
zone_get(const char *name)
{
	struct zone_cache *z;

	for (z = zones; z != NULL; z = z->next)
		if (strcmp(z->name, name) == 0)
			return z->tz;
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return NULL;
	if ((z->tz = zone_load(name)) == NULL) {
		free(z);
		return NULL;
	}
	snprintf(z->name, sizeof(z->name), "%s", name);
	z->next = zones;
	zones = z;
	return z->tz;
}

/* Can the zone be read and is it a tzfile? */
static int
zone_ok(const char *name)
{
	return zone_get(name) != NULL;
}

/* The offset of a schedule's zone at t; UTC if it cannot be read now. */
static int32_t
zone_offset(const struct when *w, int64_t t)
{
	const struct tzdata *tz = zone_get(w->zone);

	return tz != NULL ? tzdata_offset(tz, t) : 0;
}
