/* m_router.c: mobkit-router's side of the msg target (router.c included). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define main	router_main
#include "../../router/router.c"
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
fuzz_router_init(void)
{
	R.loop = ev_default_loop(0);
	R.mk.loop = R.loop;
	R.mk.name = "mobkit-router";
	R.mk.peer = fuzz_sink_peer(R.loop, sink_msg, sink_gone, NULL, NULL);
}

void
fuzz_router_msg(const msgpack_object *m)
{
	fuzz_child_msg(&R.mk, on_msg, m);
}

void
fuzz_router_reset(void)
{
	table_free();
}
