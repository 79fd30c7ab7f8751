/*
 * ssebench PORT TOKEN CTL SOCK N BURST: N concurrent event-stream clients
 * of the gateway on 127.0.0.1:PORT, a burst of BURST events, and each
 * event's delivery latency to each client: receipt time minus the event's
 * timestamp_ms (one clock, one machine).  The clients are one epoll loop
 * in C, so that the figure is the gateway's, not the client's.  The burst
 * is BURST `mobkitctl send m1` (CTL, SOCK) run one after the other by a
 * child process once every client has its stream.
 *
 * Besides every delivery's latency it gives each event's latency to the
 * first client that had it: the path from the root to the gateway, without
 * the fan-out to the other streams.  Given the gateway's pid (GPID), the
 * CPU time it spent from the burst's start to its last delivery, and the
 * time it waited, runnable, for a CPU (the machine's load), and its RSS
 * with every stream still open.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

#define FIRST_SLOTS	65536	/* seqs of a burst, by seq modulo */

static uint64_t first[FIRST_SLOTS];	/* per seq: the least latency + 1 */
static long since;
static uint64_t tmin = UINT64_MAX, tmax;	/* the burst's events' times */

struct cl {
	int	 fd;
	int	 ready;		/* the ": events" comment was seen */
	int	 got;
	long	 seq;		/* of the last "id:" line */
	size_t	 len;
	char	 buf[16384];
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Connect and ask for the stream of input.accepted events after since. */
static int
open_stream(int port, const char *token, long from)
{
	struct sockaddr_in sin;
	char req[512];
	int fd = socket(AF_INET, SOCK_STREAM, 0), n;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		return -1;
	n = snprintf(req, sizeof(req), "GET /v1/events?type=input.accepted&"
	    "since=%ld HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
	    "Accept: text/event-stream\r\n\r\n", from, token);
	if (write(fd, req, (size_t)n) != n)
		return -1;
	return fd;
}

/* Whole lines of c: readiness, and the latency of each data line. */
static void
lines(struct cl *c, uint64_t *lat, size_t *nlat, size_t cap)
{
	char *p = c->buf, *nl, *ts;

	while ((nl = memchr(p, '\n', c->len - (size_t)(p - c->buf))) != NULL) {
		*nl = '\0';
		if (strncmp(p, ": events", 8) == 0)
			c->ready = 1;
		else if (strncmp(p, "id: ", 4) == 0)
			c->seq = atol(p + 4);
		else if (strncmp(p, "data: ", 6) == 0 &&
		    (ts = strstr(p, "\"timestamp_ms\":")) != NULL) {
			uint64_t t = strtoull(ts + 15, NULL, 10), now = now_ms();
			uint64_t *f = &first[(unsigned long)(c->seq - since) %
			    FIRST_SLOTS];
			uint64_t l = now > t ? now - t : 0;

			if (*nlat < cap)
				lat[(*nlat)++] = l;
			if (*f == 0 || l + 1 < *f)
				*f = l + 1;
			tmin = t < tmin ? t : tmin;
			tmax = t > tmax ? t : tmax;
			c->got++;
		}
		p = nl + 1;
	}
	c->len -= (size_t)(p - c->buf);
	memmove(c->buf, p, c->len);
}

/* A process's CPU time (user + system) in ms, or 0. */
static uint64_t
cpu_ms(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (pid <= 0 || (fp = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), fp) == NULL || (p = strrchr(buf, ')')) ==
	    NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
	    "%*u %llu %llu", &ut, &st) != 2)
		ut = st = 0;
	fclose(fp);
	return (ut + st) * 1000 / (unsigned long long)sysconf(_SC_CLK_TCK);
}

/* The time a process waited on a run queue, in ms (schedstat), or 0. */
static uint64_t
wait_ms(long pid)
{
	unsigned long long run, wait;
	char path[64];
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/schedstat", pid);
	if (pid <= 0 || (fp = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(fp, "%llu %llu", &run, &wait) != 2)
		wait = 0;
	fclose(fp);
	return wait / 1000000;
}

/* A process's resident set in KiB, or 0. */
static unsigned long
rss_kib(long pid)
{
	char path[64], line[256];
	unsigned long kib = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if (pid <= 0 || (fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %lu", &kib) == 1)
			break;
	fclose(fp);
	return kib;
}

/* The burst, in a child: BURST sends, one after the other. */
static pid_t
burst(const char *ctl, const char *sock, int n)
{
	char text[32];
	pid_t pid;
	int i;

	if ((pid = fork()) != 0)
		return pid;
	if ((i = open("/dev/null", O_WRONLY)) != -1)
		dup2(i, 1);
	for (i = 0; i < n; i++) {
		pid_t p;

		snprintf(text, sizeof(text), "b%d", i);
		if ((p = fork()) == 0) {
			execl(ctl, "mobkitctl", "-s", sock, "send", "m1", text,
			    (char *)NULL);
			_exit(127);
		}
		waitpid(p, NULL, 0);
	}
	_exit(0);
}

int
main(int argc, char *argv[])
{
	struct epoll_event ev, evs[256];
	struct rlimit rl;
	struct cl *cls;
	uint64_t *lat, t0, fl[FIRST_SLOTS], cpu0 = 0, cpu1, wait0 = 0, wait1;
	size_t nlat = 0, nfl = 0, cap;
	int port, n, nb, ep, i, k, ready = 0, done = 0;
	long gpid = 0;
	unsigned long rss;
	pid_t bp = -1;

	if (argc != 8 && argc != 9) {
		fprintf(stderr, "usage: ssebench PORT TOKEN CTL SOCK N BURST "
		    "SINCE [GPID]\n");
		return 2;
	}
	if (argc == 9)
		gpid = atol(argv[8]);
	port = atoi(argv[1]);
	n = atoi(argv[5]);
	nb = atoi(argv[6]);
	since = atol(argv[7]);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	cap = (size_t)n * (size_t)nb;
	if ((cls = calloc((size_t)n, sizeof(*cls))) == NULL ||
	    (lat = calloc(cap, sizeof(*lat))) == NULL ||
	    (ep = epoll_create1(0)) == -1)
		return 1;
	for (i = 0; i < n; i++) {
		if ((cls[i].fd = open_stream(port, argv[2], since)) == -1) {
			fprintf(stderr, "ssebench: client %d: %s\n", i,
			    strerror(errno));
			return 1;
		}
		ev.events = EPOLLIN;
		ev.data.ptr = &cls[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, cls[i].fd, &ev);
	}
	t0 = now_ms();
	while (done < n && now_ms() - t0 < 120000) {
		int m = epoll_wait(ep, evs, 256, 200);

		for (k = 0; k < m; k++) {
			struct cl *c = evs[k].data.ptr;
			ssize_t r = read(c->fd, c->buf + c->len,
			    sizeof(c->buf) - c->len - 1);
			int was = c->ready, had = c->got >= nb;

			if (r <= 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				done += !had;
				continue;
			}
			c->len += (size_t)r;
			lines(c, lat, &nlat, cap);
			ready += !was && c->ready;
			done += !had && c->got >= nb;
		}
		if (bp == -1 && ready == n) {
			cpu0 = cpu_ms(gpid);
			wait0 = wait_ms(gpid);
			bp = burst(argv[3], argv[4], nb);
		}
	}
	cpu1 = cpu_ms(gpid);
	wait1 = wait_ms(gpid);
	rss = rss_kib(gpid);
	if (bp > 0)
		waitpid(bp, NULL, 0);
	if (nlat == 0) {
		printf("ssebench: no event delivered (%d of %d clients ready)\n",
		    ready, n);
		return 1;
	}
	for (i = 0; i < FIRST_SLOTS; i++)
		if (first[i] != 0)
			fl[nfl++] = first[i] - 1;
	printf("%d clients (C, one epoll loop), %zu deliveries of %zu: "
	    "p50 %llu ms, p99 %llu ms, max %llu ms; to the first client "
	    "p50 %llu ms, p99 %llu ms (the burst's events over %llu ms)",
	    ready, nlat, cap,
	    (unsigned long long)pct(lat, nlat, 0.5),
	    (unsigned long long)pct(lat, nlat, 0.99),
	    (unsigned long long)pct(lat, nlat, 1.0),
	    (unsigned long long)pct(fl, nfl, 0.5),
	    (unsigned long long)pct(fl, nfl, 0.99),
	    (unsigned long long)(tmax - tmin));
	if (gpid > 0)
		printf("; gateway CPU %llu ms, %.1f us a delivery, waiting "
		    "for a CPU %llu ms", (unsigned long long)(cpu1 - cpu0),
		    (double)(cpu1 - cpu0) * 1000.0 / (double)nlat,
		    (unsigned long long)(wait1 - wait0));
	if (gpid > 0)
		printf("; gateway RSS %lu KiB with the streams open", rss);
	printf("\n");
	return 0;
}
