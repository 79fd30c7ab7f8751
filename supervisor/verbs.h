/*
 * verbs.h: how a domain serves control verbs.  The verbs and their
 * arguments are declared once, for mobkitctl and mobkitd, in
 * common/ctlverbs.c; a domain file binds the verbs it serves to its
 * handlers in a table and registers it with CTL_VERBS(table), before
 * main() runs.  control.c checks each request against the verb's fields
 * and calls the handler with the arguments decoded.
 *
 * A handler answers 0 (the packed result is the reply), -1 (ctl_fail's
 * message is the error), or 1 (it answers later, by client id).
 */
#ifndef MOBKIT_VERBS_H
#define MOBKIT_VERBS_H

#include <stddef.h>

#include <msgpack.h>

#include "ctlverbs.h"

struct client;
typedef int (*ctl_verb_fn)(struct client *, const union ctl_args *,
	    msgpack_packer *);

struct ctl_handler {
	const char	*verb;		/* a name in ctl_verbs */
	ctl_verb_fn	 fn;
};

void	 ctl_verbs_register(const struct ctl_handler *, size_t);
/* The handler of a verb, or NULL: every verb of ctl_verbs must have one. */
ctl_verb_fn ctl_handler_find(const char *verb);

#define CTL_VERBS(table)						\
static void __attribute__((constructor))				\
table##_register(void)							\
{									\
	ctl_verbs_register(table, sizeof(table) / sizeof(table[0]));	\
}

#endif
