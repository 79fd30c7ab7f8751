/*
 * chaosload SOCKET MEMBERS SECONDS OUT: keyed load on a control socket.
 *
 * CONNS connections, each with one keyed send in flight, spread over
 * members m0..m(MEMBERS-1); key "k<N>", text "chaos <N>".  Every answer
 * is appended to OUT as "KEY MEMBER OUTCOME INPUT_ID", so the chaos check
 * knows exactly what was acknowledged.  A connection that the daemon
 * closes (it was killed) stops; so does the whole run after SECONDS or
 * once every connection is gone.  Prints "sent N answered N accepted N".
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "../bench/benchlib.h"
#include "frame.h"
#include "mpack.h"
#include "timeutil.h"

#define CONNS	16

struct conn {
	int	 fd;
	struct rbuf r;
	int	 busy;
	int	 dead;
	long	 n;		/* the send in flight */
};

static FILE	*out;
static int	 members;
static long	 answered, accepted;

/* Record one answer. */
static void
on_reply(void *arg, const msgpack_object *m)
{
	struct conn *c = arg;
	const msgpack_object *res = mp_find(m, "result");
	char outcome[32] = "error", id[64] = "-";

	c->busy = 0;
	if (res != NULL && res->type == MSGPACK_OBJECT_MAP) {
		(void)mp_copy_str(res, "outcome", outcome, sizeof(outcome));
		if (mp_copy_str(res, "input_id", id, sizeof(id)) == -1)
			(void)mp_copy_str(res, "existing_input_id", id,
			    sizeof(id));
	}
	answered++;
	if (strcmp(outcome, "accepted") == 0)
		accepted++;
	fprintf(out, "k%ld m%ld %s %s\n", c->n, c->n % members, outcome, id);
}

int
main(int argc, char *argv[])
{
	struct conn conns[CONNS];
	struct pollfd pfd[CONNS];
	const char *args[4];
	char text[64], member[32], key[32];
	uint64_t end;
	long next = 0;
	int i, live;

	if (argc != 5) {
		fprintf(stderr, "usage: chaosload SOCKET MEMBERS SECONDS OUT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	members = atoi(argv[2]);
	end = mono_ms() + (uint64_t)atoi(argv[3]) * 1000;
	if (members < 1 || (out = fopen(argv[4], "w")) == NULL) {
		perror(argv[4]);
		return 1;
	}
	memset(conns, 0, sizeof(conns));
	for (i = 0; i < CONNS; i++)
		conns[i].fd = ctl_connect(argv[1]);
	for (;;) {
		live = 0;
		for (i = 0; i < CONNS; i++) {
			struct conn *c = &conns[i];

			if (c->dead)
				continue;
			live++;
			if (c->busy || mono_ms() >= end)
				continue;
			c->n = next++;
			snprintf(member, sizeof(member), "m%ld", c->n % members);
			snprintf(text, sizeof(text), "chaos %ld", c->n);
			snprintf(key, sizeof(key), "k%ld", c->n);
			args[0] = member;
			args[1] = text;
			args[2] = "--key";
			args[3] = key;
			if (ctl_send_request(c->fd, "send", 4, args) == -1) {
				c->dead = 1;
				continue;
			}
			c->busy = 1;
		}
		if (live == 0)
			break;
		if (mono_ms() >= end) {
			int busy = 0;

			for (i = 0; i < CONNS; i++)
				busy += !conns[i].dead && conns[i].busy;
			if (busy == 0)
				break;
		}
		for (i = 0; i < CONNS; i++) {
			pfd[i].fd = conns[i].dead ? -1 : conns[i].fd;
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, CONNS, 200) <= 0)
			continue;
		for (i = 0; i < CONNS; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				if (ctl_pump(conns[i].fd, &conns[i].r,
				    on_reply, &conns[i]) == -1) {
					conns[i].dead = 1;
					close(conns[i].fd);
				}
	}
	fclose(out);
	for (i = 0; i < CONNS; i++)
		free(conns[i].r.buf);
	printf("sent %ld answered %ld accepted %ld\n", next, answered,
	    accepted);
	return 0;
}
