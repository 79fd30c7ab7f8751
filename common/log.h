/* log.h: the tiny logging API shared by every mobkit binary. */
#ifndef MOBKIT_LOG_H
#define MOBKIT_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_L_ERROR, LOG_L_WARN, LOG_L_INFO, LOG_L_DEBUG };

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
