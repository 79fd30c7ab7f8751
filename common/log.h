/* log.h: the tiny logging API shared by every mobkit binary. */
#ifndef MOBKIT_LOG_H
#define MOBKIT_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum log_level { LOG_L_ERROR, LOG_L_WARN, LOG_L_INFO, LOG_L_DEBUG };

/* One record, as log_fmt formats it. */
struct log_rec {
	int		 level;
	const char	*tag;		/* "warn", "fatal": mobkitd's own */
	const char	*child;		/* a child's line: its name, else NULL */
	const char	*stream;	/* a child's line: "stdout", "stderr" */
	const char	*msg;
	struct timespec	 ts;
};

#define LOG_FMT_TIME	0x01	/* text: the time first */
#define LOG_FMT_PRIO	0x02	/* text: "<N>" first (the journal) */
#define LOG_FMT_JSON	0x04	/* {"ts","level","child","msg"} */
#define LOG_FMT_BARE	0x08	/* text: no role (mobkitd adds it) */
#define LOG_LINE_MAX	65536	/* a formatted line, at most */

void	log_init(const char *role, int level);
void	log_setlevel(int level);
void	log_set_bare(int);
int	log_getlevel(void);
int	log_parselevel(const char *s);	/* -1 when unknown */
const char *log_role(void);
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_child(const char *name, const char *stream, const char *line);
int	log_line_level(const char *line);
size_t	log_fmt(char *buf, size_t sz, const struct log_rec *, int flags);
int	log_file_flags(void);
/* mobkitd: log_format, mobkitd.log, the journal */
void	log_set_format(int json);
void	log_set_file(const char *path, int64_t max, int keep);
int	log_is_journal(void);
/* mobkitd: a bounded queue instead of blocking writes (see log.c) */
void	log_queue_start(size_t cap);
size_t	log_flush(void);
size_t	log_pending(void);
void	log_reopen(void);
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
