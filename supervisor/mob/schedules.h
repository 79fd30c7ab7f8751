/*
 * schedules.h: schedules and their claims (mob/schedules.c).
 */
#ifndef MOB_SCHEDULES_H
#define MOB_SCHEDULES_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "config.h"

struct child;
struct client;

int64_t	 claim_note(const char *schedule, int64_t due_ms);
const char *schedule_fire(const char *id, int64_t due_ms, char *input_id,
	    size_t idsz);
void	 schedules_push(void);
struct msg_view;
int	 schedule_fire_msg(struct child *, const struct msg_view *);


#endif
