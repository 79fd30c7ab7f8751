/*
 * wire.h: the worker's pure helpers (no process state), unit-tested:
 * request URLs, Retry-After, tool function names, the context sent.
 */
#ifndef MOBKIT_WIRE_H
#define MOBKIT_WIRE_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#define FNAME_MAX	64	/* ^[a-zA-Z0-9_-]{1,64}$ */

/* base (trailing slashes dropped, or dflt) + path + "?" query (escaped). */
char	*url_build(const char *base, const char *dflt, const char *path,
	    json_t *query);
/* A Retry-After value (seconds or an HTTP date) in ms from now, or -1. */
long	 retry_after_value(const char *v, time_t now);
/* A raw header line: its delay in ms when it is Retry-After or
 * retry-after-ms, else -1. */
long	 retry_after_header(const char *line, size_t n, time_t now);
/* The function name offered for SERVER's TOOL (out: FNAME_MAX + 1). */
void	 tool_fname(const char *server, const char *tool, char *out,
	    size_t outsz);

/* context.c */
/* A history item with the provider's fields only; NULL for a non-message. */
json_t	*msg_strip(json_t *m);
/* The estimated characters of a message. */
size_t	 msg_chars(json_t *m);
/* Is m a user message? */
int	 msg_is_user(json_t *m);
/*
 * The messages to send: history then added, stripped; with max_tokens >
 * 0, the oldest whole turns of history left out until it fits (at 4
 * characters a token, system_chars counted); *dropped says how many
 * messages went.
 */
json_t	*context_messages(json_t *history, json_t *added,
	    size_t system_chars, long max_tokens, size_t *dropped);

#endif
