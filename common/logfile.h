/*
 * logfile.h: one log file that rotates by size (logfile.c).  NAME.log is
 * renamed NAME.log.1 (and .1 to .2, ... up to keep files) once the next
 * line would take it past max bytes; reopen() is for SIGUSR1 (logrotate
 * moved the file: write a new one).  A write never waits on a reader (a
 * FIFO in the file's place is refused) and a failure (a full disk, an
 * unwritable directory) never stops the caller: the file is "broken",
 * lines are counted as lost, and it is tried again at most once a
 * second; the caller is told when it breaks and when it works again, so
 * that it can say so once.
 */
#ifndef MOBKIT_LOGFILE_H
#define MOBKIT_LOGFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct logfile {
	char		*path;
	int		 fd;		/* -1: not open */
	off_t		 size;
	int64_t		 max;		/* rotate past this; 0: never */
	int		 keep;		/* NAME.log.1 ... NAME.log.keep */
	int		 broken;	/* failing: lines are lost */
	uint64_t	 retry_at;	/* mono ms: try again from then */
	uint64_t	 lost;		/* lines lost since it broke */
	int		 partial;	/* a line was cut by a failure */
	char		 err[256];	/* what failed, for the report */
};

enum { LF_OK, LF_BROKE, LF_RECOVERED, LF_SKIPPED };

struct logfile *logfile_new(const char *path, int64_t max, int keep);
void	 logfile_free(struct logfile *);
void	 logfile_limits(struct logfile *, int64_t max, int keep);
/* One whole line (ends in '\n'): an LF_* for the caller to report. */
int	 logfile_write(struct logfile *, const char *line, size_t len);
/* Close and open the file again (SIGUSR1): an LF_* as above. */
int	 logfile_reopen(struct logfile *);

#endif
