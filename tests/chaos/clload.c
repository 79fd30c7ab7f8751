/*
 * clload SECONDS MEMBERS OUT SOCKET...: keyed load on a cluster's nodes.
 *
 * CONNS connections, each to a node picked at random, each with one
 * keyed send in flight, spread over members m0..m(MEMBERS-1); key
 * "k<N>", text "chaos <N>".  Every answer is appended to OUT as "KEY
 * MEMBER OUTCOME INPUT_ID" (INPUT_ID the existing one for a duplicate).
 * A connection that its node closes (killed) is opened again on a node
 * picked at random, and the send that was in flight is sent again there
 * with the same key, as a client that never saw an answer would: the
 * cluster's keys decide whether it is new.  New sends stop after
 * SECONDS; the sends still unanswered are retried for GRACE seconds
 * more.  Prints "sent N answered N accepted N deduplicated N retried N
 * abandoned N".
 */
#include <sys/socket.h>
#include <sys/un.h>

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

#define CONNS	12
#define GRACE	60

struct conn {
	int	 fd;		/* -1: not connected */
	struct rbuf r;
	int	 busy;		/* a send in flight */
	int	 owed;		/* n is to be sent (again) */
	long	 n;
	uint64_t retry_ms;	/* when to try connecting again */
};

static FILE	*out;
static int	 members, nsocks;
static char	**socks;
static long	 answered, accepted, dedup, retried, abandoned;

static int
try_connect(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%.100s",
	    socks[random() % nsocks]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
on_reply(void *arg, const msgpack_object *m)
{
	struct conn *c = arg;
	const msgpack_object *res = mp_find(m, "result");
	char outcome[32] = "error", id[64] = "-";

	if (!c->busy)
		return;
	c->busy = 0;
	c->owed = 0;
	if (res != NULL && res->type == MSGPACK_OBJECT_MAP) {
		(void)mp_copy_str(res, "outcome", outcome, sizeof(outcome));
		if (mp_copy_str(res, "existing_input_id", id,
		    sizeof(id)) == -1)
			(void)mp_copy_str(res, "input_id", id, sizeof(id));
	}
	answered++;
	if (strcmp(outcome, "accepted") == 0)
		accepted++;
	else if (strcmp(outcome, "deduplicated") == 0)
		dedup++;
	fprintf(out, "k%ld m%ld %s %s\n", c->n, c->n % members, outcome, id);
	fflush(out);
}

/* The node went away: the send in flight is owed, on another connection. */
static void
lost(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->r.len = 0;
	if (c->busy) {
		c->busy = 0;
		c->owed = 1;
		retried++;
	}
	c->retry_ms = mono_ms() + 50;
}

int
main(int argc, char *argv[])
{
	struct conn conns[CONNS];
	struct pollfd pfd[CONNS];
	const char *args[4];
	char text[64], member[32], key[32];
	uint64_t end, hard;
	long next = 0;
	int i, pending;

	if (argc < 5) {
		fprintf(stderr, "usage: clload SECONDS MEMBERS OUT SOCKET...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid());
	end = mono_ms() + (uint64_t)atoi(argv[1]) * 1000;
	hard = end + GRACE * 1000;
	members = atoi(argv[2]);
	if (members < 1 || (out = fopen(argv[3], "w")) == NULL) {
		perror(argv[3]);
		return 1;
	}
	socks = argv + 4;
	nsocks = argc - 4;
	memset(conns, 0, sizeof(conns));
	for (i = 0; i < CONNS; i++)
		conns[i].fd = -1;
	for (;;) {
		uint64_t now = mono_ms();

		for (i = 0; i < CONNS; i++) {
			struct conn *c = &conns[i];

			if (c->fd == -1) {
				if (now < c->retry_ms ||
				    (!c->owed && now >= end))
					continue;
				if ((c->fd = try_connect()) == -1) {
					c->retry_ms = now + 50;
					continue;
				}
			}
			if (c->busy || (!c->owed && now >= end))
				continue;
			if (!c->owed)
				c->n = next++;
			snprintf(member, sizeof(member), "m%ld", c->n % members);
			snprintf(text, sizeof(text), "chaos %ld", c->n);
			snprintf(key, sizeof(key), "k%ld", c->n);
			args[0] = member;
			args[1] = text;
			args[2] = "--key";
			args[3] = key;
			c->busy = 1;
			if (ctl_send_request(c->fd, "send", 4, args) == -1)
				lost(c);
		}
		pending = 0;
		for (i = 0; i < CONNS; i++)
			pending += conns[i].busy || conns[i].owed;
		if (now >= end && pending == 0)
			break;
		if (now >= hard) {
			for (i = 0; i < CONNS; i++)
				abandoned += conns[i].busy || conns[i].owed;
			break;
		}
		for (i = 0; i < CONNS; i++) {
			pfd[i].fd = conns[i].fd;
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, CONNS, 50) <= 0)
			continue;
		for (i = 0; i < CONNS; i++)
			if (conns[i].fd != -1 &&
			    (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    ctl_pump(conns[i].fd, &conns[i].r, on_reply,
			    &conns[i]) == -1)
				lost(&conns[i]);
	}
	fclose(out);
	for (i = 0; i < CONNS; i++)
		free(conns[i].r.buf);
	printf("sent %ld answered %ld accepted %ld deduplicated %ld "
	    "retried %ld abandoned %ld\n", next, answered, accepted, dedup,
	    retried, abandoned);
	return 0;
}
