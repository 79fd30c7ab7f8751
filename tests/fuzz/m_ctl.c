/*
 * m_ctl.c: mobkitctl's reading of mobkitd's answers (CTL_REPLY results and
 * CTL_STREAM items) through mp_to_json and its printers, output to
 * /dev/null (mobkitctl.c included to reach them).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#define main	mobkitctl_main
#include "../../supervisor/mobkitctl.c"
#undef main

void
fuzz_ctl_init(void)
{
	FILE *null;

	if (getenv("FUZZ_LOG") == NULL && (null = fopen("/dev/null", "w")))
		stdout = null;
}

/* An answer to verb number v (modulo the table); bit 7: --json. */
void
fuzz_ctl_msg(int v, const msgpack_object *m)
{
	const msgpack_object *o;
	json_t *j;

	json_out = (v & 0x80) != 0;
	v = (v & 0x7f) % (int)(sizeof(verbs) / sizeof(verbs[0]));
	if ((o = mp_find(m, "item")) != NULL) {
		j = mp_to_json(o);
		print_event(j);
		json_decref(j);
	}
	if ((o = mp_find(m, "result")) != NULL) {
		j = mp_to_json(o);
		print_result(verbs[v].name, j);
		json_decref(j);
	}
	fflush(stdout);
}
