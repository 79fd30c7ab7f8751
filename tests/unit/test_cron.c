/* test_cron.c: cron and interval parsing, next due times across DST in two
 * IANA zones (America/New_York, Europe/Berlin), fixed offsets. */
#include <string.h>

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

Suite *
cron_suite(void)
{
	Suite *s = suite_create("cron");
	TCase *tc = tcase_create("next");

	tcase_add_test(tc, t_utc);
	tcase_add_test(tc, t_new_york);
	tcase_add_test(tc, t_berlin);
	tcase_add_test(tc, t_errors);
	suite_add_tcase(s, tc);
	return s;
}
