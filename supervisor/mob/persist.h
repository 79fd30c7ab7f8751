/*
 * persist.h: what the mob keeps in the store (mob/persist.c): inputs to
 * write with the next commit, a finished one recalled by its key, and the
 * sink through which the store loads rows into the mob and pulls changes.
 */
#ifndef MOB_PERSIST_H
#define MOB_PERSIST_H

#include <stdint.h>

struct mbox;
struct input;

void	 persist_register(void);
void	 persist_input(struct mbox *, struct input *);
void	 persist_input_drop(struct input *);
int	 persist_recall(const char *member, const char *key, int64_t since_ms,
	    struct input *);

#endif
