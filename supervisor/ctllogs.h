/*
 * ctllogs.h: mobkitctl's output for `logs NAME [-n N] [-f]` (ctllogs.c).
 */
#ifndef CTLLOGS_H
#define CTLLOGS_H

#include <jansson.h>

#include "ctlverbs.h"

/* A stream item of verb: printed and 1 when the verb is logs, else 0. */
int	 print_log_item(const char *verb, const union ctl_args *, json_t *,
	    int json_out);

#endif
