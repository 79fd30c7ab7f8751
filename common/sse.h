/*
 * sse.h: the lines of a Server-Sent Events stream, fed in pieces of any
 * size.  Each complete "data:" line goes to a callback, without "data:",
 * one optional space after it and the line end ("\n" or "\r\n").
 */
#ifndef MOBKIT_SSE_H
#define MOBKIT_SSE_H

#include <stddef.h>

struct sse {
	char	*line;		/* the partial line, NUL-terminated */
	size_t	 len;
	size_t	 max;		/* the longest partial line kept */
};

typedef void (*sse_data_cb)(void *arg, const char *data);

void	sse_init(struct sse *, size_t max);
/* 0, or -1 when a partial line would pass max (it is dropped). */
int	sse_feed(struct sse *, const char *buf, size_t n, sse_data_cb,
	    void *arg);
void	sse_reset(struct sse *);
void	sse_free(struct sse *);

#endif
