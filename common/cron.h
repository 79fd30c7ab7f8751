/*
 * cron.h: when a schedule is due.  Five-field cron expressions and step
 * intervals (every N s, m, h or d), in UTC, a fixed offset or an IANA time
 * zone (DST aware).
 */
#ifndef MOBKIT_CRON_H
#define MOBKIT_CRON_H

#include <stddef.h>
#include <stdint.h>

struct cron {
	uint64_t	 minute;	/* bit i: minute i */
	uint32_t	 hour;
	uint32_t	 dom;		/* bit 1..31 */
	uint16_t	 month;		/* bit 1..12 */
	uint8_t		 dow;		/* bit 0..6, Sunday 0 */
	int		 dom_star, dow_star;
};

struct when {
	int		 is_cron;
	struct cron	 cron;
	int64_t		 every_s;	/* interval */
	int		 fixed;		/* fixed offset, no zone */
	int		 offset_s;	/* for fixed */
	char		 zone[64];	/* IANA name, or "" */
};

/* 0, or -1 with err set to what is wrong with which part. */
int	cron_parse(const char *expr, struct cron *, char *err, size_t errsz);
int	interval_parse(const char *expr, int64_t *seconds, char *err,
	    size_t errsz);
int	zone_parse(const char *tz, struct when *, char *err, size_t errsz);
/* The first due time strictly after after_s (seconds); -1 if none. */
int64_t	when_next(const struct when *, int64_t after_s);

/* A tzfile (TZif) in memory, read without the process environment. */
struct tzdata;
struct tzdata *tzdata_parse(const void *buf, size_t len);	/* NULL: not one */
int32_t	tzdata_offset(const struct tzdata *, int64_t t);	/* s east of UTC */
void	tzdata_free(struct tzdata *);

#endif
