/*
 * deliveries.h: deliveries and their attempts (mob/deliveries.c).
 */
#ifndef MOB_DELIVERIES_H
#define MOB_DELIVERIES_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "config.h"

struct child;
struct client;

void	 deliveries_ready(struct child *);
void	 deliveries_gone(struct child *);
struct msg_view;
int	 delivery_attempt_msg(struct child *, const struct msg_view *);
void	 delivery_restore(const void *blob, size_t len);
void	 delivery_adopt(const void *blob, size_t len);


#endif
