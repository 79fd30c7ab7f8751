/*
 * ctlprint.h: mobkitctl's output for people (ctlprint.c): aligned tables,
 * a tree for status, local wall-clock and relative times, colour only on
 * a terminal and never with NO_COLOR.  --json output is not printed here.
 */
#ifndef CTLPRINT_H
#define CTLPRINT_H

#include <jansson.h>

/* Decide on colour: stdout a terminal, NO_COLOR unset or empty. */
void	 ctlp_init(void);
/* The result of a verb, for people. */
void	 ctlp_result(const char *verb, json_t *res);
/* One event of the stream, on one line. */
void	 ctlp_event(json_t *e);
/* A local wall-clock time of epoch ms: "Dec 02 17:23:45.134". */
void	 ctlp_local(long long ms, char *buf, size_t sz);

#endif
