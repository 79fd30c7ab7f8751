/*
 * logs.h: mobkitd's log settings, SIGUSR1, and the logs verb (logs.c).
 */
#ifndef MOBKIT_LOGS_H
#define MOBKIT_LOGS_H

struct config;

/* [mobkitd] log_format, log_dir, ...: before the first line, and reload. */
void	 logs_apply(const struct config *);
/* SIGUSR1: open every log file again. */
void	 logs_reopen(void);

#endif
