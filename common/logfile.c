/*
 * logfile.c: a log file rotated by size (see logfile.h).  Regular files
 * only: a write to one does not wait for a reader, so the loop that
 * writes it is never held up for long; anything else in its place is
 * refused and reported like a full disk.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logfile.h"
#include "timeutil.h"

#define LF_RETRY_MS	1000

struct logfile *
logfile_new(const char *path, int64_t max, int keep)
{
	struct logfile *lf;

	if ((lf = calloc(1, sizeof(*lf))) == NULL ||
	    (lf->path = strdup(path)) == NULL) {
		free(lf);
		return NULL;
	}
	lf->fd = -1;
	logfile_limits(lf, max, keep);
	return lf;
}

void
logfile_free(struct logfile *lf)
{
	if (lf == NULL)
		return;
	if (lf->fd != -1)
		close(lf->fd);
	free(lf->path);
	free(lf);
}

void
logfile_limits(struct logfile *lf, int64_t max, int keep)
{
	lf->max = max;
	lf->keep = keep;
}

/* Say what failed (with errno's text) for the caller's report. */
static void
lf_fail(struct logfile *lf, const char *what, int err)
{
	snprintf(lf->err, sizeof(lf->err), "%s: %s", what, strerror(err));
}

/* Open the file for appending: 0, or -1 with lf->err set. */
static int
lf_open(struct logfile *lf)
{
	struct stat st;
	int fd;

	fd = open(lf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK, 0640);
	if (fd == -1) {
		lf_fail(lf, "open", errno);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		lf_fail(lf, "fstat", errno);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(lf->err, sizeof(lf->err), "not a regular file");
		close(fd);
		return -1;
	}
	lf->fd = fd;
	lf->size = st.st_size;
	return 0;
}

/* NAME.log -> NAME.log.1 -> ... -> NAME.log.keep, then a new NAME.log. */
static int
lf_rotate(struct logfile *lf)
{
	char from[PATH_MAX], to[PATH_MAX];
	int i, n, ofd = lf->fd;

	/* shift only the files there are: .1 ... .n, the first gap ends it */
	for (n = 0; n < lf->keep - 1; n++) {
		snprintf(from, sizeof(from), "%s.%d", lf->path, n + 1);
		if (access(from, F_OK) == -1)
			break;
	}
	for (i = n; i >= 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", lf->path, i);
		snprintf(to, sizeof(to), "%s.%d", lf->path, i + 1);
		if (rename(from, to) == -1 && errno != ENOENT) {
			lf_fail(lf, "rotate: rename", errno);
			return -1;
		}
	}
	snprintf(to, sizeof(to), "%s.1", lf->path);
	if (lf->keep > 0 ? rename(lf->path, to) : unlink(lf->path)) {
		if (errno != ENOENT) {
			lf_fail(lf, lf->keep > 0 ? "rotate: rename" :
			    "rotate: unlink", errno);
			return -1;
		}
	}
	close(ofd);
	lf->fd = -1;
	return lf_open(lf);	/* failing, it is opened again later */
}

/* Write all of p, or -1 with lf->err set (and lf->partial if cut). */
static int
lf_put(struct logfile *lf, const char *p, size_t len)
{
	ssize_t n;
	size_t done = 0;

	while (done < len) {
		n = write(lf->fd, p + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			lf_fail(lf, "write", n == 0 ? ENOSPC : errno);
			lf->partial = done > 0;
			lf->size += (off_t)done;
			return -1;
		}
		done += (size_t)n;
	}
	lf->size += (off_t)len;
	return 0;
}

/* Open (if needed), rotate (if due) and write: 0 or -1. */
static int
lf_try(struct logfile *lf, const char *line, size_t len)
{
	if (lf->fd == -1 && lf_open(lf) == -1)
		return -1;
	if (lf->max > 0 && lf->size > 0 && lf->size + (off_t)len > lf->max &&
	    lf_rotate(lf) == -1)
		return -1;
	if (lf->partial) {	/* end the line a failure cut */
		if (lf_put(lf, "\n", 1) == -1)
			return -1;
		lf->partial = 0;
	}
	return lf_put(lf, line, len);
}

int
logfile_write(struct logfile *lf, const char *line, size_t len)
{
	uint64_t now;

	if (lf->broken) {
		now = mono_ms();
		if (now < lf->retry_at) {
			lf->lost++;
			return LF_SKIPPED;
		}
		if (lf_try(lf, line, len) == -1) {
			lf->retry_at = now + LF_RETRY_MS;
			lf->lost++;
			return LF_SKIPPED;
		}
		lf->broken = 0;
		return LF_RECOVERED;
	}
	if (lf_try(lf, line, len) == 0)
		return LF_OK;
	lf->broken = 1;
	lf->retry_at = mono_ms() + LF_RETRY_MS;
	lf->lost = 1;
	return LF_BROKE;
}

int
logfile_reopen(struct logfile *lf)
{
	if (lf->fd != -1) {
		close(lf->fd);
		lf->fd = -1;
	}
	lf->partial = 0;
	if (lf_open(lf) == 0) {
		if (!lf->broken)
			return LF_OK;
		lf->broken = 0;
		return LF_RECOVERED;
	}
	lf->retry_at = mono_ms() + LF_RETRY_MS;
	if (lf->broken)
		return LF_SKIPPED;
	lf->broken = 1;
	lf->lost = 0;
	return LF_BROKE;
}
