/*
 * f_tz.c: time zone handling on damaged tzfiles (common/cron.c included,
 * to reach the parsed zone and the zone cache).  An input is 8 bytes of a
 * time (big-endian, taken into 1970..3058), one byte picking a schedule,
 * then the bytes of a tzfile.  What tzdata_parse accepts must hold
 * together (ascending transitions, known types, offsets within a day or
 * so) and tzdata_offset must agree with it at and around every
 * transition; the same file as a schedule's zone (TZDIR) must give due
 * times strictly after the time asked, the next one later still.
 */
#include <sys/mman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#include "../../common/cron.c"

#define HORIZON		(1LL << 35)
#define OFF_OK(o)	((o) > -25 * 3600 && (o) < 26 * 3600)

static int	tzfd = -1;
static char	zonename[16];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	if ((tzfd = memfd_create("fuzz.tzif", 0)) == -1)
		fuzz_fail("memfd_create: %m");
	snprintf(zonename, sizeof(zonename), "%d", tzfd);
	/* a zone named by the memory file's number */
	if (setenv("TZDIR", "/proc/self/fd", 1) == -1)
		fuzz_fail("setenv: %m");
	return 0;
}

/* The offset at t is one the zone can have. */
static void
offset_at(const struct tzdata *tz, int64_t t)
{
	int32_t o = tzdata_offset(tz, t);

	FUZZ_ASSERT(OFF_OK(o));
}

/* What tzdata_parse accepted, against itself. */
static void
check_zone(const struct tzdata *tz, int64_t t)
{
	int i;

	FUZZ_ASSERT(tz->ntypes >= 1 && tz->ntrans >= 0);
	for (i = 0; i < tz->ntypes; i++)
		FUZZ_ASSERT(OFF_OK(tz->off[i]));
	for (i = 0; i < tz->ntrans; i++) {
		FUZZ_ASSERT(tz->idx[i] < tz->ntypes);
		FUZZ_ASSERT(i == 0 || tz->trans[i] > tz->trans[i - 1]);
		if (i < tz->ntrans - 1 || !tz->has_rule)
			FUZZ_ASSERT(tzdata_offset(tz, tz->trans[i]) ==
			    tz->off[tz->idx[i]]);
		if (tz->trans[i] > INT64_MIN)
			offset_at(tz, tz->trans[i] - 1);
	}
	if (tz->ntrans > 0 && tz->trans[0] > INT64_MIN)
		FUZZ_ASSERT(tzdata_offset(tz, tz->trans[0] - 1) == tz->off[0]);
	if (tz->has_rule) {
		FUZZ_ASSERT(OFF_OK(tz->rule.std_off) &&
		    OFF_OK(tz->rule.dst_off));
		if (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1]) {
			int32_t o = tzdata_offset(tz, t);

			FUZZ_ASSERT(o == tz->rule.std_off ||
			    o == tz->rule.dst_off);
		}
	}
	offset_at(tz, t);
	offset_at(tz, INT64_MIN);
	offset_at(tz, INT64_MAX);
	offset_at(tz, 0);
}

/* Forget every zone read, so that the next input is read afresh. */
static void
zones_forget(void)
{
	struct zone_cache *z;

	while ((z = zones) != NULL) {
		zones = z->next;
		tzdata_free(z->tz);
		free(z);
	}
}

/* The file as a schedule's zone: due times move forward. */
static void
through_schedule(const void *buf, size_t len, int pick, int64_t after)
{
	static const char *const exprs[] = { "30 2 * * *", "0 0 * * 1-5",
	    "*/1d", "*/90m", "15 */3 * * *", "0 12 1 * *" };
	struct when w;
	char err[256];
	int64_t n1, n2;
	const char *b = buf;
	ssize_t n;

	zones_forget();
	if (ftruncate(tzfd, 0) == -1 || lseek(tzfd, 0, SEEK_SET) == -1)
		fuzz_fail("memfd: %m");
	while (len > 0) {
		if ((n = write(tzfd, b, len)) <= 0)
			fuzz_fail("memfd write: %m");
		b += n;
		len -= (size_t)n;
	}
	memset(&w, 0, sizeof(w));
	pick %= (int)(sizeof(exprs) / sizeof(exprs[0]));
	if (cron_parse(exprs[pick], &w.cron, err, sizeof(err)) == 0)
		w.is_cron = 1;
	else
		FUZZ_ASSERT(interval_parse(exprs[pick], &w.every_s, err,
		    sizeof(err)) == 0);
	err[0] = '\0';
	if (zone_parse(zonename, &w, err, sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0');
		return;
	}
	n1 = when_next(&w, after);
	FUZZ_ASSERT(n1 == -1 || n1 > after);
	if (n1 != -1 && n1 < HORIZON) {
		n2 = when_next(&w, n1);
		FUZZ_ASSERT(n2 == -1 || n2 > n1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tzdata *tz;
	uint64_t u = 0;
	int64_t after;
	int i;

	if (size < 9)
		return 0;
	for (i = 0; i < 8; i++)
		u = u << 8 | data[i];
	after = (int64_t)(u % (uint64_t)HORIZON);
	if ((tz = tzdata_parse(data + 9, size - 9)) != NULL) {
		check_zone(tz, after);
		tzdata_free(tz);
	}
	through_schedule(data + 9, size - 9, data[8], after);
	return 0;
}
