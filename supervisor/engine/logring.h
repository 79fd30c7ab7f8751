/*
 * logring.h: what a child printed (logring.c).  Each line of a child's
 * stdout and stderr goes to mobkitd's stderr, to the child's ring (the
 * last log_buffer_bytes of it, for `mobkitctl logs`), to DIR/NAME.log
 * when log_dir is set, and to whoever follows the child's lines.
 */
#ifndef ENGINE_LOGRING_H
#define ENGINE_LOGRING_H

#include <stddef.h>
#include <stdint.h>

struct config;

enum { LR_STDOUT, LR_STDERR };

struct logline {
	uint64_t	 ts_ms;		/* wall clock */
	int		 stream;	/* LR_STDOUT, LR_STDERR */
	const char	*text;		/* NUL-terminated */
	size_t		 len;
};

/* Told of each line as it is kept, and of a child removed. */
struct logring_taps {
	void	 (*line)(const char *name, const struct logline *);
	void	 (*gone)(const char *name);
};

void	 logring_configure(const struct config *);
void	 logring_line(const char *name, int stream, const char *line);
void	 logring_forget(const char *name);
void	 logring_reopen(void);
void	 logring_set_taps(const struct logring_taps *);
const char *logring_stream_name(int stream);
/* Call fn for the last n lines of name's ring (n < 0: all): the count. */
size_t	 logring_walk(const char *name, int64_t n,
	    void (*fn)(const char *, const struct logline *, void *), void *);

#endif
