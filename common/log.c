/* log.c: one line per record on stderr, the process role in every line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static const char *log_rolename = "mobkit";
static int log_level = LOG_L_INFO;
static int log_bare;	/* under mobkitd: it adds the time and our name */

/* Set the role printed in every line and the verbosity. */
void
log_init(const char *role, int level)
{
	log_rolename = role;
	log_level = level;
}

void
log_set_bare(int bare)
{
	log_bare = bare;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

const char *
log_role(void)
{
	return log_rolename;
}

/* Map a log_level name from the config to its value. */
int
log_parselevel(const char *s)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

/* Write one record: time, role, level, message, optional strerror. */
static void
log_vwrite(int level, const char *tag, int err, const char *fmt, va_list ap)
{
	char msg[4096], ts[32];
	struct timespec now;
	struct tm tm;

	if (level > log_level)
		return;
	if (log_bare) {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		if (err)
			fprintf(stderr, "%s: %s: %s\n", tag, msg, strerror(err));
		else
			fprintf(stderr, "%s: %s\n", tag, msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		fprintf(stderr, "%s.%03ldZ %s %s: %s: %s\n", ts,
		    now.tv_nsec / 1000000, log_rolename, tag, msg,
		    strerror(err));
	else
		fprintf(stderr, "%s.%03ldZ %s %s: %s\n", ts,
		    now.tv_nsec / 1000000, log_rolename, tag, msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_L_WARN, "warn", err, fmt, ap);
	va_end(ap);
	errno = err;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_WARN, "warn", 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_INFO, "info", 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_DEBUG, "debug", 0, fmt, ap);
	va_end(ap);
}

/* One line of a child's stdout or stderr, tagged with its name. */
void
log_child(const char *name, const char *stream, const char *line)
{
	char ts[32];
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s[%s] %s: %s\n", ts, now.tv_nsec / 1000000,
	    log_rolename, name, stream, line);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_L_ERROR, "fatal", err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_ERROR, "fatal", 0, fmt, ap);
	va_end(ap);
	exit(1);
}
