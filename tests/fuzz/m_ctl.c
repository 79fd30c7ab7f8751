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

#include <setjmp.h>

#include "fuzz.h"

static jmp_buf	ctl_jmp;
static int	ctl_jmp_set;

/* mobkitctl exits on some answers (a lagged stream): back to the target. */
static void __attribute__((noreturn))
ctl_exit(int code)
{
	if (!ctl_jmp_set)
		fuzz_fail("mobkitctl: exit(%d) outside an answer", code);
	longjmp(ctl_jmp, 1);
}

#define main	mobkitctl_main
#define exit	ctl_exit
#include "../../supervisor/mobkitctl.c"
#undef exit
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
	json_t *volatile j = NULL;

	json_out = (v & 0x80) != 0;
	v = (v & 0x7f) % (int)ctl_nverbs;
	ctl_jmp_set = 1;
	if (setjmp(ctl_jmp) != 0)
		goto out;	/* it exited: the rest is not read */
	if ((o = mp_find(m, "item")) != NULL) {
		j = mp_to_json(o);
		print_event(j);
		json_decref(j);
		j = NULL;
	}
	if ((o = mp_find(m, "result")) != NULL) {
		j = mp_to_json(o);
		print_result(ctl_verbs[v].name, j);
		json_decref(j);
		j = NULL;
	}
out:
	json_decref(j);
	ctl_jmp_set = 0;
	fflush(stdout);
}
