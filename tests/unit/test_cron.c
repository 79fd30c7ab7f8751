/* test_cron.c: cron and interval parsing, next due times across DST in two
 * IANA zones (America/New_York, Europe/Berlin), fixed offsets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "unit.h"

static struct when
mk(const char *expr, const char *tz)
{
	struct when w;
	char err[256];

	memset(&w, 0, sizeof(w));
	if (strncmp(expr, "*/", 2) == 0 && strchr(expr, ' ') == NULL) {
		ck_assert_msg(interval_parse(expr, &w.every_s, err,
		    sizeof(err)) == 0, "%s: %s", expr, err);
	} else {
		w.is_cron = 1;
		ck_assert_msg(cron_parse(expr, &w.cron, err, sizeof(err)) == 0,
		    "%s: %s", expr, err);
	}
	ck_assert_msg(zone_parse(tz, &w, err, sizeof(err)) == 0, "%s: %s", tz,
	    err);
	return w;
}

#define NEXT(expr, tz, after, want) do {				\
	struct when w_ = mk(expr, tz);					\
	ck_assert_msg(when_next(&w_, (after)) == (int64_t)(want),	\
	    "%s in %s after %lld: got %lld, want %lld", expr, tz,	\
	    (long long)(after), (long long)when_next(&w_, (after)),	\
	    (long long)(want));						\
} while (0)

START_TEST(t_utc)
{
	NEXT("*/15 * * * *", "UTC", 1767226020, 1767226500);
	/* weekdays at 9: Friday 9:00 -> Monday 9:00 */
	NEXT("0 9 * * 1-5", "UTC", 1767344400, 1767603600);
	NEXT("0 9 * * mon-fri", "UTC", 1767344400, 1767603600);
	/* both day fields restricted: the 13th OR a Friday */
	NEXT("0 0 13 * 5", "UTC", 1769904000, 1770336000);
	/* Sunday as 7 */
	NEXT("0 0 * * 7", "UTC", 1767226020, 1767484800);
	/* 29 February: the next leap year */
	NEXT("0 0 29 2 *", "UTC", 1772323200, 1835395200);
	NEXT("*/30s", "UTC", 1767268810, 1767268830);
	NEXT("0 9 * * *", "+05:30", 1767225600, 1767238200);
}
END_TEST

START_TEST(t_new_york)
{
	/* spring forward 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 runs once,
	 * at 03:30 EDT, and the next day at 02:30 EDT */
	NEXT("30 2 * * *", "America/New_York", 1772946000, 1772955000);
	NEXT("30 2 * * *", "America/New_York", 1772955000, 1773037800);
	/* fall back 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 runs once */
	NEXT("30 1 * * *", "America/New_York", 1793505600, 1793511000);
	NEXT("30 1 * * *", "America/New_York", 1793511000, 1793601000);
	/* a 15 minute interval steps over the missing hour */
	NEXT("*/15m", "America/New_York", 1772952300, 1772953200);
}
END_TEST

START_TEST(t_berlin)
{
	/* spring forward 2026-03-29 02:00 CET -> 03:00 CEST */
	NEXT("30 2 * * *", "Europe/Berlin", 1774738800, 1774747800);
	NEXT("30 2 * * *", "Europe/Berlin", 1774747800, 1774830600);
	/* fall back 2026-10-25 03:00 CEST -> 02:00 CET: the first 02:30 */
	NEXT("30 2 * * *", "Europe/Berlin", 1792879200, 1792888200);
	NEXT("30 2 * * *", "Europe/Berlin", 1792888200, 1792978200);
	/* daily interval: local midnight, whatever the offset */
	NEXT("*/1d", "Europe/Berlin", 1774738800, 1774821600);
}
END_TEST

/* Sydney: clocks go forward in October and back in April. */
START_TEST(t_southern)
{
	/* 2026-10-04 02:00 AEST -> 03:00 AEDT: 02:30 runs at 03:30 AEDT */
	NEXT("30 2 * * *", "Australia/Sydney", 1790992800, 1791045000);
	NEXT("30 2 * * *", "Australia/Sydney", 1791045000, 1791127800);
	/* 2026-04-05 03:00 AEDT -> 02:00 AEST: the first 02:30 only */
	NEXT("30 2 * * *", "Australia/Sydney", 1775264400, 1775316600);
	NEXT("30 2 * * *", "Australia/Sydney", 1775316600, 1775406600);
}
END_TEST

/* Beyond the table of the tzfile: the POSIX rule of its footer. */
START_TEST(t_far_future)
{
	/* Berlin 2099-03-29, the last Sunday of March: 02:30 -> 03:30 */
	NEXT("30 2 * * *", "Europe/Berlin", 4078378800, 4078431000);
	/* New York 2090-11-05, the first Sunday of November: 01:30 once */
	NEXT("30 1 * * *", "America/New_York", 3813494400, 3813543000);
	NEXT("30 1 * * *", "America/New_York", 3813543000, 3813633000);
}
END_TEST

/* A tzfile read into memory. */
static struct tzdata *
tz_read(const char *zone)
{
	char path[256], *buf;
	struct tzdata *tz;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	ck_assert_ptr_nonnull(fp = fopen(path, "rb"));
	ck_assert_ptr_nonnull(buf = malloc(1 << 20));
	n = fread(buf, 1, 1 << 20, fp);
	fclose(fp);
	tz = tzdata_parse(buf, n);
	free(buf);
	ck_assert_msg(tz != NULL, "%s: not read as a tzfile", zone);
	return tz;
}

/* Our reading of the tzfile agrees with the C library's, 1902 to 2100. */
START_TEST(t_zones_match_libc)
{
	static const char *zones[] = { "Europe/Berlin", "America/New_York",
	    "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo",
	    "Pacific/Chatham", "Europe/Dublin", "America/St_Johns",
	    "Africa/Casablanca", "Asia/Tehran", "Pacific/Apia",
	    "Europe/Moscow", "Australia/Lord_Howe", "Etc/GMT+5" };
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	struct tzdata *tz;
	struct tm tm;
	size_t i;
	int64_t t;
	time_t tt;
	int bad = 0;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		tz = tz_read(zones[i]);
		setenv("TZ", zones[i], 1);	/* the test only: no threads */
		tzset();
		for (t = -2145916800LL; t < 4102444800LL;
		    t += 86400 * 3 + 3607) {
			tt = (time_t)t;
			localtime_r(&tt, &tm);
			if (tzdata_offset(tz, t) != tm.tm_gmtoff && bad++ < 5)
				fprintf(stderr, "%s at %lld: offset %d, libc "
				    "%ld\n", zones[i], (long long)t,
				    tzdata_offset(tz, t), tm.tm_gmtoff);
		}
		tzdata_free(tz);
	}
	if (old != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
	ck_assert_int_eq(bad, 0);
}
END_TEST

/* Not tzfiles, or damaged ones: refused, never read past the end. */
START_TEST(t_tzfile_bad)
{
	static const char slim[] = "TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1\0\0\0\0";
	struct tzdata *tz;
	char buf[512];
	size_t n;

	ck_assert_ptr_null(tzdata_parse("", 0));
	ck_assert_ptr_null(tzdata_parse("TZif", 4));
	ck_assert_ptr_null(tzdata_parse("not a zone file at all, no, not at "
	    "all, really not", 50));
	/* a version 2 header whose second part is missing */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, slim, sizeof(slim) - 1);
	ck_assert_ptr_null(tzdata_parse(buf, sizeof(slim) - 1));
	/* version 1, one type (+01:00), no transitions */
	n = sizeof(slim) - 1;
	buf[4] = '\0';
	buf[n++] = 0; buf[n++] = 0; buf[n++] = 0x0e; buf[n++] = 0x10;
	buf[n++] = 0; buf[n++] = 0;
	ck_assert_ptr_nonnull(tz = tzdata_parse(buf, n));
	ck_assert_int_eq(tzdata_offset(tz, 0), 3600);
	ck_assert_int_eq(tzdata_offset(tz, 4102444800LL), 3600);
	tzdata_free(tz);
	/* cut short: refused */
	ck_assert_ptr_null(tzdata_parse(buf, n - 1));
}
END_TEST

START_TEST(t_errors)
{
	struct cron c;
	struct when w;
	int64_t s;
	char err[256];

	ck_assert_int_eq(cron_parse("* * *", &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "expected 5 fields"));
	ck_assert_int_eq(cron_parse("60 * * * *", &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "minute"));
	ck_assert_int_eq(cron_parse("*/0 * * * *", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(cron_parse("0 0 30 2 *", &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "never falls"));
	ck_assert_int_eq(cron_parse("0 0 31 4,6 *", &c, err, sizeof(err)), -1);
	/* with a weekday too, the OR rule makes it possible */
	ck_assert_int_eq(cron_parse("0 0 30 2 1", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(cron_parse("0 0 * * 8", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(cron_parse("1,2,x * * * *", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(interval_parse("*/0m", &s, err, sizeof(err)), -1);
	ck_assert_int_eq(interval_parse("*/5x", &s, err, sizeof(err)), -1);
	ck_assert_int_eq(zone_parse("Mars/Olympus", &w, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "timezone"));
	ck_assert_int_eq(zone_parse("+25:00", &w, err, sizeof(err)), -1);
	ck_assert_int_eq(zone_parse("../etc/passwd", &w, err, sizeof(err)), -1);
	ck_assert_int_eq(cron_parse("5/15 1-3,7 * jan-mar sun", &c, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(c.minute, (1ULL << 5) | (1ULL << 20) | (1ULL << 35) |
	    (1ULL << 50));
	ck_assert_uint_eq(c.hour, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 7));
}
END_TEST

/* @yearly ... @hourly are the five fields they stand for. */
START_TEST(t_macros)
{
	static const char *const pairs[][2] = {
		{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
		{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
		{ "@daily", "0 0 * * *" }, { " @midnight ", "0 0 * * *" },
		{ "@hourly", "0 * * * *" },
	};
	struct cron a, b;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		ck_assert_int_eq(cron_parse(pairs[i][0], &a, err, sizeof(err)),
		    0);
		ck_assert_int_eq(cron_parse(pairs[i][1], &b, err, sizeof(err)),
		    0);
		ck_assert_mem_eq(&a, &b, sizeof(a));
	}
	ck_assert_int_eq(cron_parse("@fortnightly", &a, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown macro \"@fortnightly\""));
	ck_assert_int_eq(cron_parse("@daily 5", &a, err, sizeof(err)), -1);
}
END_TEST

Suite *
cron_suite(void)
{
	Suite *s = suite_create("cron");
	TCase *tc = tcase_create("next");

	tcase_add_test(tc, t_utc);
	tcase_add_test(tc, t_new_york);
	tcase_add_test(tc, t_berlin);
	tcase_add_test(tc, t_southern);
	tcase_add_test(tc, t_far_future);
	tcase_add_test(tc, t_zones_match_libc);
	tcase_add_test(tc, t_tzfile_bad);
	tcase_add_test(tc, t_errors);
	tcase_add_test(tc, t_macros);
	suite_add_tcase(s, tc);
	return s;
}
