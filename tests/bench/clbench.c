/*
 * clbench INPUTS MEMBERS SOCKET...: keyed inputs per second through one
 * or several nodes.
 *
 * CONNS connections per socket, each with one keyed send in flight (key
 * "b<run>-<N>", members m0..m(MEMBERS-1) in turn), and one events
 * --follow subscriber per socket counting input.consumed (a node shows
 * the events of the members it runs; those from before the start, a
 * subscriber's replay of the buffer, are not counted).  The figure: INPUTS from the first
 * send to the last consumed, per second.  Prints "RATE" (inputs/s) alone
 * on a line; exits 1 when not every input was consumed within 120 s.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "benchlib.h"
#include "frame.h"
#include "mpack.h"
#include "timeutil.h"

#define CONNS	16		/* per socket */
#define MAXSOCK	8

struct conn {
	int	 fd;
	struct rbuf r;
	int	 busy;
};

static long	 consumed, accepted, refused;
static uint64_t	 last_us;
static int64_t	 since_ms;	/* wall: older events are a replay */

static void
on_reply(void *arg, const msgpack_object *m)
{
	struct conn *c = arg;
	const msgpack_object *res = mp_find(m, "result");
	char outcome[32] = "";

	c->busy = 0;
	if (res != NULL && res->type == MSGPACK_OBJECT_MAP)
		(void)mp_copy_str(res, "outcome", outcome, sizeof(outcome));
	if (strcmp(outcome, "accepted") == 0)
		accepted++;
	else
		refused++;
}

static void
on_event(void *arg, const msgpack_object *m)
{
	const msgpack_object *item = mp_find(m, "item");
	const msgpack_object *ts;
	char type[64];

	(void)arg;
	if (item != NULL &&
	    mp_copy_str(item, "event_type", type, sizeof(type)) == 0 &&
	    strcmp(type, "input.consumed") == 0 &&
	    (ts = mp_find(item, "timestamp_ms")) != NULL &&
	    ts->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    (int64_t)ts->via.u64 >= since_ms) {
		consumed++;
		last_us = mono_us();
	}
}

int
main(int argc, char *argv[])
{
	struct conn conns[MAXSOCK * (CONNS + 1)];
	struct pollfd pfd[MAXSOCK * (CONNS + 1)];
	const char *fargs[3] = { "--follow", "--type", "input.consumed" };
	const char *args[4];
	char text[64], member[32], key[64];
	uint64_t t0, deadline;
	long total, sent = 0;
	int members, nsock, nconn, nall, i;

	if (argc < 4 || argc - 3 > MAXSOCK) {
		fprintf(stderr, "usage: clbench INPUTS MEMBERS SOCKET...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	total = atol(argv[1]);
	members = atoi(argv[2]);
	nsock = argc - 3;
	nconn = nsock * CONNS;
	nall = nconn + nsock;
	memset(conns, 0, sizeof(conns));
	since_ms = (int64_t)wall_ms();
	/* the subscribers first (conns[nconn..]), then the senders */
	for (i = 0; i < nsock; i++) {
		conns[nconn + i].fd = ctl_connect(argv[3 + i]);
		ctl_request(conns[nconn + i].fd, "events", 3, fargs);
	}
	for (i = 0; i < nconn; i++)
		conns[i].fd = ctl_connect(argv[3 + i % nsock]);
	usleep(200000);
	t0 = mono_us();
	deadline = mono_ms() + 120000;
	while (consumed < total && mono_ms() < deadline) {
		for (i = 0; i < nconn && sent < total; i++) {
			if (conns[i].busy)
				continue;
			snprintf(member, sizeof(member), "m%ld", sent % members);
			snprintf(text, sizeof(text), "bench %ld", sent);
			snprintf(key, sizeof(key), "b%lx-%ld", (long)t0, sent);
			args[0] = member;
			args[1] = text;
			args[2] = "--key";
			args[3] = key;
			ctl_request(conns[i].fd, "send", 4, args);
			conns[i].busy = 1;
			sent++;
		}
		for (i = 0; i < nall; i++) {
			pfd[i].fd = conns[i].fd;
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, nall, 1000) <= 0)
			continue;
		for (i = 0; i < nall; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP))
				if (ctl_pump(conns[i].fd, &conns[i].r,
				    i >= nconn ? on_event : on_reply,
				    &conns[i]) == -1) {
					fprintf(stderr, "clbench: connection "
					    "%d closed\n", i);
					return 1;
				}
	}
	for (i = 0; i < nall; i++) {
		close(conns[i].fd);
		free(conns[i].r.buf);
	}
	if (consumed < total || refused > 0) {
		fprintf(stderr, "clbench: %ld of %ld consumed, %ld refused\n",
		    consumed, total, refused);
		return 1;
	}
	printf("%.0f\n", (double)total / ((double)(last_us - t0) / 1e6));
	return 0;
}
