/*
 * f_sse.c: the LLM event stream.  The first byte picks the line limit,
 * the cut points and the HTTP status; the rest is the response body.
 * common/sse.c must hand on exactly the data lines a whole-buffer split
 * finds (when no line passes the limit); then the same bytes go through
 * mobkit-worker's whole stream path (sse.c, the JSON chunks, tool calls,
 * RUN_DONE) as every response of an openai turn.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sse.h"

struct seen {
	char	*all;		/* the data lines, each followed by \n */
	size_t	 len;
	int	 n;
};

static void
add(struct seen *s, const char *p, size_t n)
{
	if ((s->all = realloc(s->all, s->len + n + 2)) == NULL)
		fuzz_fail("realloc");
	memcpy(s->all + s->len, p, n);
	s->len += n;
	s->all[s->len++] = '\n';
	s->all[s->len] = '\0';
	s->n++;
}

static void
on_data(void *arg, const char *data)
{
	add(arg, data, strlen(data));
}

/* The reference: split the whole buffer at \n, keep "data:" lines. */
static void
reference(const char *buf, size_t len, struct seen *s)
{
	const char *p = buf, *nl, *end = buf + len;
	size_t n, start;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n >= 5 && memcmp(p, "data:", 5) == 0) {
			start = 5 + (n > 5 && p[5] == ' ');
			/* the callback sees a C string: it ends at a NUL */
			add(s, p + start, strnlen(p + start, n - start));
		}
		p = nl + 1;
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	fuzz_worker_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 200, 200, 200, 200, 200, 429,
	    500 };
	struct seen got = { NULL, 0, 0 }, want = { NULL, 0, 0 };
	const char *buf = (const char *)data + 1;
	size_t len, off = 0, n, chunk;
	struct sse s;
	int over = 0;

	if (size < 1)
		return 0;
	len = size - 1;
	chunk = (size_t)(data[0] & 0x1f) + 1;
	sse_init(&s, data[0] & 0x20 ? 16 : 1 << 20);
	while (off < len) {
		n = len - off < chunk ? len - off : chunk;
		if (sse_feed(&s, buf + off, n, on_data, &got) == -1)
			over = 1;
		off += n;
		chunk = chunk * 5 % 37 + 1;
	}
	sse_free(&s);
	if (!over) {
		reference(buf, len, &want);
		FUZZ_ASSERT(got.n == want.n && got.len == want.len &&
		    (got.len == 0 || memcmp(got.all, want.all, got.len) == 0));
	}
	free(got.all);
	free(want.all);
	fuzz_worker_stream(buf, len, (unsigned)(data[0] & 0x1f) + 1,
	    statuses[data[0] >> 5]);
	return 0;
}
