/*
 * mobbench BINDIR TESTBINDIR: the mob's figures, each beside a baseline
 * measured in the same run.
 *
 * Inputs: 100 echo members; a load client on the control socket (CONNS
 * connections, each with one send in flight) and one events --follow
 * subscriber that sees every input.consumed.  Throughput is inputs from
 * send to consumed per second at full load; latency is send to consumed
 * at half that rate, open loop.  In memory, then with state_dir.  The
 * baseline: the same number of in-flight messages ping-ponged through one
 * relay process to an echo process over socketpairs.
 *
 * Members: 1000 members spawned to all ready (READY=1 from mobkitd),
 * beside the bare respawner starting 1000 trivial children; the memory of
 * an idle worker (RSS and PSS).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>
#include <uthash.h>

#include "frame.h"
#include "mpack.h"
#include "proto.h"
#include "benchlib.h"
#include "timeutil.h"

#define CONNS		64
#define MEMBERS		100

static const char *bindir, *testbin;
static char dir[64], sockpath[128];

struct rec {
	char		id[64];
	uint64_t	sent_us;
	UT_hash_handle	hh;
};

struct conn {
	int	 fd;
	struct rbuf r;
	int	 busy;
	uint64_t sent_us;
};

static struct rec	*recs;
static struct rec	*early;		/* consumed before its accept arrived */
static uint64_t		*lat;
static size_t		 nlat, caplat;
static uint64_t		 consumed, last_consumed_us;

static void
count(uint64_t latency, uint64_t at)
{
	if (nlat == caplat) {
		caplat = caplat ? caplat * 2 : 65536;
		lat = realloc(lat, caplat * sizeof(*lat));
	}
	lat[nlat++] = latency;
	consumed++;
	if (at > last_consumed_us)
		last_consumed_us = at;
}

static void
on_reply(void *arg, const msgpack_object *m)
{
	struct conn *c = arg;
	const msgpack_object *res = mp_find(m, "result");
	struct rec *r;
	char id[64];

	c->busy = 0;
	if (res == NULL || mp_copy_str(res, "input_id", id, sizeof(id)) == -1)
		return;
	HASH_FIND_STR(early, id, r);
	if (r != NULL) {
		count(r->sent_us - c->sent_us, r->sent_us);
		HASH_DEL(early, r);
		free(r);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		exit(1);
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->sent_us = c->sent_us;
	HASH_ADD_STR(recs, id, r);
}

static void
on_event(void *arg, const msgpack_object *m)
{
	const msgpack_object *item = mp_find(m, "item"), *p;
	struct rec *r;
	char id[64];
	uint64_t now = mono_us();

	(void)arg;
	if (item == NULL || (p = mp_find(item, "payload")) == NULL ||
	    mp_copy_str(p, "input_id", id, sizeof(id)) == -1)
		return;
	HASH_FIND_STR(recs, id, r);
	if (r == NULL) {
		/* its accept is still on the way: remember when (in sent_us) */
		if ((r = calloc(1, sizeof(*r))) == NULL)
			exit(1);
		snprintf(r->id, sizeof(r->id), "%s", id);
		r->sent_us = now;
		HASH_ADD_STR(early, id, r);
		return;
	}
	count(now - r->sent_us, now);
	HASH_DEL(recs, r);
	free(r);
}

/*
 * Send `total` inputs across the members; rate 0 = as fast as the
 * connections allow, else an open-loop schedule of rate per second.
 * Returns inputs per second from the first send to the last consumed.
 */
static double
load(int total, double rate)
{
	struct conn conns[CONNS + 1];
	struct pollfd pfd[CONNS + 1];
	const char *args[2];
	char text[64], member[32];
	uint64_t t0, next_us;
	int i, sent = 0;
	const char *fargs[3] = { "--follow", "--type", "input.consumed" };

	memset(conns, 0, sizeof(conns));
	consumed = 0;
	nlat = 0;
	last_consumed_us = 0;
	conns[CONNS].fd = ctl_connect(sockpath);
	ctl_request(conns[CONNS].fd, "events", 3, fargs);
	for (i = 0; i < CONNS; i++)
		conns[i].fd = ctl_connect(sockpath);
	usleep(100000);
	t0 = next_us = mono_us();
	while (consumed < (uint64_t)total) {
		uint64_t now = mono_us();

		for (i = 0; i < CONNS && sent < total; i++) {
			if (conns[i].busy)
				continue;
			if (rate > 0 && now < next_us)
				break;
			snprintf(member, sizeof(member), "m%d", sent % MEMBERS);
			snprintf(text, sizeof(text), "job %d", sent);
			args[0] = member;
			args[1] = text;
			conns[i].sent_us = mono_us();
			ctl_request(conns[i].fd, "send", 2, args);
			conns[i].busy = 1;
			sent++;
			if (rate > 0)
				next_us += (uint64_t)(1e6 / rate);
		}
		for (i = 0; i <= CONNS; i++) {
			pfd[i].fd = conns[i].fd;
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, CONNS + 1, rate > 0 ? 1 : 1000) <= 0)
			continue;
		for (i = 0; i <= CONNS; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP))
				if (ctl_pump(conns[i].fd, &conns[i].r,
				    i == CONNS ? on_event : on_reply,
				    &conns[i]) == -1) {
					fprintf(stderr, "mobbench: connection "
					    "%d closed\n", i);
					exit(1);
				}
	}
	for (i = 0; i <= CONNS; i++) {
		close(conns[i].fd);
		free(conns[i].r.buf);
	}
	return (double)total / ((double)(last_consumed_us - t0) / 1e6);
}

static pid_t
start_mobkitd(int members, int durable, int notify_fd, const char *nsock)
{
	char cfg[160], exe[512];
	FILE *fp;
	pid_t pid;
	int i;

	snprintf(cfg, sizeof(cfg), "%s/mob.ini", dir);
	fp = fopen(cfg, "w");
	fprintf(fp, "[mobkitd]\ncontrol_socket = %s\nlog_level = error\n"
	    "drain_timeout_ms = 1000\n", sockpath);
	if (durable)
		fprintf(fp, "state_dir = %s/state\n", dir);
	fprintf(fp, "[profile p]\nprovider = echo\nmailbox_capacity = 100000\n");
	for (i = 0; i < members; i++)
		fprintf(fp, "[member m%d]\nprofile = p\n", i);
	fclose(fp);
	snprintf(exe, sizeof(exe), "%s/mobkitd", bindir);
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		if (nsock != NULL)
			setenv("NOTIFY_SOCKET", nsock, 1);
		else
			unsetenv("NOTIFY_SOCKET");
		execl(exe, exe, "-c", cfg, (char *)NULL);
		_exit(127);
	}
	(void)notify_fd;
	return pid;
}

static void
stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}

/* Wait until every member reports healthy. */
static void
await_members(int n)
{
	const char *args[1] = { NULL };
	struct conn c;
	uint64_t end = mono_ms() + 60000;
	int healthy = 0;

	while (mono_ms() < end) {
		char *p;

		memset(&c, 0, sizeof(c));
		c.fd = ctl_connect(sockpath);
		ctl_request(c.fd, "members", 0, args);
		c.r.cap = 1 << 22;
		c.r.buf = malloc(c.r.cap);
		usleep(50000);
		while ((c.r.len += (size_t)read(c.fd, c.r.buf + c.r.len,
		    c.r.cap - c.r.len)) < FRAME_HDR)
			;
		healthy = 0;
		for (p = c.r.buf; (p = memmem(p, c.r.len - (size_t)(p - c.r.buf),
		    "healthy", 7)) != NULL; p += 7)
			healthy++;
		close(c.fd);
		free(c.r.buf);
		if (healthy >= n)
			return;
		usleep(100000);
	}
	fprintf(stderr, "mobbench: only %d of %d members healthy\n", healthy, n);
	exit(1);
}

/* The baseline: messages through one relay process to an echo process. */
static double
relay_baseline(int total, double rate)
{
	int a[2], b[2], i, sent = 0, got = 0;
	pid_t relay, echo;
	char msg[32];
	uint64_t t0, next_us, sent_at[CONNS];
	int inflight[CONNS], slot;

	(void)i;

	socketpair(AF_UNIX, SOCK_STREAM, 0, a);
	socketpair(AF_UNIX, SOCK_STREAM, 0, b);
	if ((echo = fork()) == 0) {
		char buf[65536];
		ssize_t n;

		while ((n = read(b[1], buf, sizeof(buf))) > 0)
			if (write(b[1], buf, (size_t)n) != n)
				_exit(1);
		_exit(0);
	}
	if ((relay = fork()) == 0) {
		struct pollfd p[2] = { { a[1], POLLIN, 0 }, { b[0], POLLIN, 0 } };
		char buf[65536];
		ssize_t n;

		for (;;) {
			poll(p, 2, -1);
			if (p[0].revents & POLLIN) {
				if ((n = read(a[1], buf, sizeof(buf))) <= 0)
					_exit(0);
				(void)!write(b[0], buf, (size_t)n);
			}
			if (p[1].revents & POLLIN) {
				if ((n = read(b[0], buf, sizeof(buf))) <= 0)
					_exit(0);
				(void)!write(a[1], buf, (size_t)n);
			}
		}
	}
	/* messages are 16 bytes: "slot(8) pad"; CONNS in flight */
	nlat = 0;
	memset(inflight, 0, sizeof(inflight));
	t0 = next_us = mono_us();
	while (got < total) {
		uint64_t now = mono_us();
		char buf[65536];
		ssize_t n, k;

		for (slot = 0; slot < CONNS && sent < total; slot++) {
			if (inflight[slot])
				continue;
			if (rate > 0 && now < next_us)
				break;
			snprintf(msg, sizeof(msg), "%08d%08d", slot, sent);
			sent_at[slot] = mono_us();
			(void)!write(a[0], msg, 16);
			inflight[slot] = 1;
			sent++;
			if (rate > 0)
				next_us += (uint64_t)(1e6 / rate);
		}
		struct pollfd p = { a[0], POLLIN, 0 };
		if (poll(&p, 1, rate > 0 ? 1 : 1000) <= 0)
			continue;
		if ((n = read(a[0], buf, sizeof(buf) - (sizeof(buf) % 16))) <= 0)
			break;
		/* the stream may split a message; keep it simple: 16-aligned
		 * reads from a 16-byte protocol on a local socket */
		for (k = 0; k + 16 <= n; k += 16) {
			char s[9];

			memcpy(s, buf + k, 8);
			s[8] = '\0';
			slot = atoi(s);
			if (nlat == caplat) {
				caplat = caplat ? caplat * 2 : 65536;
				lat = realloc(lat, caplat * sizeof(*lat));
			}
			lat[nlat++] = mono_us() - sent_at[slot];
			inflight[slot] = 0;
			got++;
		}
	}
	close(a[0]);
	kill(relay, SIGKILL);
	kill(echo, SIGKILL);
	waitpid(relay, NULL, 0);
	waitpid(echo, NULL, 0);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	return (double)total / ((double)(mono_us() - t0) / 1e6);
}

/* The pids of mobkit-worker processes whose parent is pid. */
static int
worker_pids(pid_t parent, pid_t *v, int max)
{
	char cmd[] = "pgrep -P %d -x mobkit-worker", buf[64], line[32];
	FILE *fp;
	int n = 0;

	snprintf(buf, sizeof(buf), cmd, (int)parent);
	if ((fp = popen(buf, "r")) == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), fp) != NULL)
		v[n++] = atoi(line);
	pclose(fp);
	return n;
}

/* Time from start to READY=1 on our notify socket. */
static double
members_ready(int n, double *rss_mb, double *pss_mb)
{
	struct sockaddr_un sun;
	char nsock[160], buf[256];
	int fd, i, k;
	uint64_t t0, t1;
	pid_t pid, pids[2000];
	long rss = 0, pss = 0;
	ssize_t r;

	snprintf(nsock, sizeof(nsock), "%s/notify", dir);
	unlink(nsock);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%.100s", nsock);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	t0 = mono_us();
	pid = start_mobkitd(n, 0, fd, nsock);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 60000) <= 0) {
			fprintf(stderr, "mobbench: no READY=1\n");
			exit(1);
		}
		r = recv(fd, buf, sizeof(buf) - 1, 0);
		buf[r > 0 ? r : 0] = '\0';
		if (strstr(buf, "READY=1") != NULL)
			break;
	}
	t1 = mono_us();
	sleep(1);
	k = worker_pids(pid, pids, 2000);
	for (i = 0; i < k; i++) {
		rss += proc_field(pids[i], "status", "VmRSS:");
		pss += proc_field(pids[i], "smaps_rollup", "Pss:");
	}
	*rss_mb = k ? (double)rss / k / 1024.0 : 0;
	*pss_mb = k ? (double)pss / k / 1024.0 : 0;
	stop(pid);
	close(fd);
	unlink(nsock);
	return (double)(t1 - t0) / 1000.0;
}

/* The respawner's time to n children running: each stamps a FIFO. */
static double
respawner_ready(int n)
{
	char exe[512], child[512], num[16], fifo[160], buf[65536];
	uint64_t t0, t1;
	int fd, lines = 0;
	ssize_t r;
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/respawner", testbin);
	snprintf(child, sizeof(child), "%s/benchchild", testbin);
	snprintf(num, sizeof(num), "%d", n);
	snprintf(fifo, sizeof(fifo), "%s/stamps", dir);
	mkfifo(fifo, 0600);
	fd = open(fifo, O_RDWR);
	t0 = mono_us();
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		close(fd);
		execl(exe, exe, num, child, fifo, (char *)NULL);
		_exit(127);
	}
	while (lines < n) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 30000) <= 0 || (r = read(fd, buf,
		    sizeof(buf))) <= 0) {
			fprintf(stderr, "mobbench: the respawner started only "
			    "%d of %d children\n", lines, n);
			exit(1);
		}
		for (ssize_t i = 0; i < r; i++)
			lines += buf[i] == '\n';
	}
	t1 = mono_us();
	stop(pid);
	close(fd);
	unlink(fifo);
	return (double)(t1 - t0) / 1000.0;
}

int
main(int argc, char *argv[])
{
	int total = 100000, durable;
	double base = 1, base_half, rate;
	uint64_t b50, b99;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: mobbench BINDIR TESTBINDIR [INPUTS]\n");
		return 2;
	}
	bindir = argv[1];
	testbin = argv[2];
	if (argc > 3)
		total = atoi(argv[3]);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(dir, sizeof(dir), "/tmp/mobkit-mobbench.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sockpath, sizeof(sockpath), "%s/ctl.sock", dir);
	printf("mob benchmarks: %d members, echo provider, %d connections "
	    "with one send in flight each, %d inputs per run\n\n", MEMBERS,
	    CONNS, total);

	if (getenv("MOBBENCH_MEMBERS_ONLY") != NULL)
		goto members;
	if (getenv("MOBBENCH_DURABLE_ONLY") != NULL)
		goto inputs;
	base = relay_baseline(total, 0);
	base_half = relay_baseline(total / 4, base / 2);
	b50 = pct(lat, nlat, .5);
	b99 = pct(lat, nlat, .99);
	printf("baseline: socketpair ping-pong through one relay process\n");
	printf("  %.0f round trips/s; at half that rate p50 %llu us, p99 "
	    "%llu us\n\n", base, (unsigned long long)b50,
	    (unsigned long long)b99);
	(void)base_half;

inputs:
	/* MOBBENCH_DURABLE_ONLY: the state_dir pass alone (profiling) */
	durable = getenv("MOBBENCH_DURABLE_ONLY") != NULL;
	for (; durable <= 1; durable++) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf %s/state", dir);
		(void)!system(cmd);
		pid = start_mobkitd(MEMBERS, durable, -1, NULL);
		await_members(MEMBERS);
		rate = load(total, 0);
		(void)load(total / 4 > 2000 ? total / 4 : 2000, rate / 2);
		printf("mobkitd, %s: %.0f inputs/s from send to consumed "
		    "(%.2fx the relay's round trips)\n", durable ? "state_dir "
		    "(SQLite WAL, synchronous=FULL, group commit)" : "in memory",
		    rate, rate / base);
		printf("  at half that rate: p50 %llu us, p99 %llu us\n\n",
		    (unsigned long long)pct(lat, nlat, .5),
		    (unsigned long long)pct(lat, nlat, .99));
		stop(pid);
	}
	if (getenv("MOBBENCH_DURABLE_ONLY") != NULL)
		return 0;

members:
	{
		double rss, pss, tm, tr;

		tr = respawner_ready(1000);
		tm = members_ready(1000, &rss, &pss);
		printf("1000 members spawned to all ready (READY=1): %.0f ms; "
		    "the respawner has 1000 trivial children running in %.0f "
		    "ms (%.2fx)\n", tm, tr, tm / tr);
		printf("an idle mobkit-worker: RSS %.2f MiB, PSS %.2f MiB "
		    "(shared libraries counted once)\n", rss, pss);
	}
	(void)!system("true");
	return 0;
}
