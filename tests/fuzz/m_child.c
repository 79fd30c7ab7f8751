/*
 * m_child.c: the child side of the root protocol (common/child.c included
 * to reach its dispatch), so that the msg target hands a process every
 * message as mkchild_serve does: STOP ends its loop, PING is answered with
 * PONG (the watchdog), the rest goes to the process's own handler.
 */
#include "fuzz.h"

#include "../../common/child.c"

/* One message from mobkitd to a child process served by cb. */
void
fuzz_child_msg(struct mkchild *mk, mkchild_msg_cb cb, const msgpack_object *m)
{
	serve_cb = cb;
	(void)serve_msg(mk->peer, m, mk);
}
