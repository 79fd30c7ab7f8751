/* sse.c: Server-Sent Events split into lines, "data:" lines handed on. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sse.h"

void
sse_init(struct sse *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
}

/* Add n bytes to the partial line. */
static void
sse_append(struct sse *s, const char *p, size_t n)
{
	char *nb;

	if ((nb = realloc(s->line, s->len + n + 1)) == NULL)
		fatal("sse: realloc of %zu bytes", s->len + n + 1);
	memcpy(nb + s->len, p, n);
	s->len += n;
	nb[s->len] = '\0';
	s->line = nb;
}

/* A whole line: hand on its data, if it is a data line. */
static void
sse_line(struct sse *s, sse_data_cb cb, void *arg)
{
	if (s->len > 0 && s->line[s->len - 1] == '\r')
		s->line[--s->len] = '\0';
	if (strncmp(s->line, "data:", 5) == 0)
		cb(arg, s->line + 5 + (s->line[5] == ' '));
	s->len = 0;
	s->line[0] = '\0';
}

int
sse_feed(struct sse *s, const char *buf, size_t n, sse_data_cb cb, void *arg)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (buf[i] != '\n')
			continue;
		sse_append(s, buf + start, i - start);
		sse_line(s, cb, arg);
		start = i + 1;
	}
	if (start == n)
		return 0;
	if (s->len + (n - start) > s->max) {
		s->len = 0;
		return -1;
	}
	sse_append(s, buf + start, n - start);
	return 0;
}

/* Forget a partial line (a new response begins). */
void
sse_reset(struct sse *s)
{
	s->len = 0;
}

void
sse_free(struct sse *s)
{
	free(s->line);
	s->line = NULL;
	s->len = 0;
}
