/*
 * m_delivery.c: mobkit-delivery's side of the msg target.  The file sink
 * writes into a memory file whatever path it is given; HTTP and SMTP are
 * fuzz_httpc.c.
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "child.h"
#include "frame.h"
#include "fuzz.h"
#include "httpc.h"
#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"

static int	fuzz_open(const char *, int, ...);

#define open	fuzz_open
#define main	delivery_main
#include "../../delivery/delivery.c"
#undef main
#undef open

static int	memfd = -1;

/* Any path opens the memory file; "" fails as a missing file would. */
static int
fuzz_open(const char *path, int flags, ...)
{
	(void)flags;
	if (*path == '\0') {
		errno = ENOENT;
		return -1;
	}
	return dup(memfd);
}

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
fuzz_delivery_init(void)
{
	if ((memfd = memfd_create("fuzz.jsonl", 0)) == -1)
		fuzz_fail("memfd_create: %m");
	S.loop = ev_default_loop(0);
	S.mk.loop = S.loop;
	S.mk.name = "mobkit-delivery";
	S.mk.peer = fuzz_sink_peer(S.loop, sink_msg, sink_gone, NULL, NULL);
}

void
fuzz_delivery_msg(const msgpack_object *m)
{
	fuzz_child_msg(&S.mk, on_msg, m);
}

void
fuzz_delivery_reset(void)
{
	while (S.list != NULL)
		dl_free(S.list);
	if (ftruncate(memfd, 0) == -1)
		fuzz_fail("ftruncate: %m");
}
