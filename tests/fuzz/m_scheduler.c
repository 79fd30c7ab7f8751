/* m_scheduler.c: mobkit-scheduler's side of the msg target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"

#define main	scheduler_main
#include "../../scheduler/scheduler.c"
#undef main

static int
sink_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	(void)p;
	(void)m;
	(void)arg;
	return 0;
}

static void
sink_gone(struct peer *p, const char *why, void *arg)
{
	(void)p;
	(void)why;
	(void)arg;
}

void
fuzz_scheduler_init(void)
{
	S.loop = ev_default_loop(0);
	S.mk.loop = S.loop;
	S.mk.name = "mobkit-scheduler";
	ev_periodic_init(&S.timer, timer_cb, 0., 0., NULL);
	S.mk.peer = fuzz_sink_peer(S.loop, sink_msg, sink_gone, NULL, NULL);
}

void
fuzz_scheduler_msg(const msgpack_object *m)
{
	fuzz_child_msg(&S.mk, on_msg, m);
}

void
fuzz_scheduler_reset(void)
{
	ev_periodic_stop(S.loop, &S.timer);
	table_free();
}
