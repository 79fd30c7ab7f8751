/*
 * mkbench: the supervisor's figures, each beside the bare respawner
 * (tests/bench/respawner.c) measured in the same run.
 *
 *   mkbench BINDIR TESTBINDIR [N]
 *
 * restart latency: kill -9 to the replacement's first instruction
 * (restart_backoff_ms = 0), MKBENCH_KILLS kills (200) in a row; then
 * beside daemontools' supervise and runit's runsv when installed,
 * MKBENCH_ROUNDS rounds (25) of one kill each, every child 1.1 s old
 * (MKBENCH_RESTART_ONLY=1 stops there); start-up of N children to all
 * running; ordered shutdown of N; mobkitd's RSS with N children; and the
 * context switches of an idle mobkitd with 100 children over 10 s.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchlib.h"
#include "timeutil.h"

static const char *bindir, *testbin;
static char dir[64], fifo[128];
static int fifo_fd;
static char rbuf[1 << 20];
static size_t rlen;

/* Next stamp from the FIFO within timeout_ms: 0 ok, -1 timeout. */
static int
next_stamp(int *pid, uint64_t *us, int timeout_ms)
{
	uint64_t end = mono_ms() + (uint64_t)timeout_ms;
	char *nl;
	ssize_t n;
	long long t;

	for (;;) {
		if ((nl = memchr(rbuf, '\n', rlen)) != NULL) {
			*nl = '\0';
			sscanf(rbuf, "%d %lld", pid, &t);
			*us = (uint64_t)t;
			rlen -= (size_t)(nl + 1 - rbuf);
			memmove(rbuf, nl + 1, rlen);
			return 0;
		}
		if (mono_ms() >= end)
			return -1;
		struct pollfd p = { fifo_fd, POLLIN, 0 };
		if (poll(&p, 1, 100) > 0) {
			n = read(fifo_fd, rbuf + rlen, sizeof(rbuf) - rlen);
			if (n > 0)
				rlen += (size_t)n;
		}
	}
}

static void
write_config(const char *path, int n, int none)
{
	FILE *fp = fopen(path, "w");
	int i;

	fprintf(fp, "[mobkitd]\ncontrol_socket = %s/ctl.sock\n"
	    "log_level = error\nmax_restarts = 1000000\n"
	    "stop_timeout_ms = 5000\n", dir);
	for (i = 0; i < n; i++)
		fprintf(fp, "[module c%d]\ncommand = %s/benchchild\nargs = %s\n"
		    "ready = %s\nrestart_backoff_ms = 0\nmax_restarts = 1000000\n",
		    i, testbin, fifo, none ? "none" : "none");
	fclose(fp);
}

static pid_t
run(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		close(fifo_fd);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static pid_t
start_mobkitd(int n)
{
	char cfg[160], exe[512];

	snprintf(cfg, sizeof(cfg), "%s/bench.ini", dir);
	write_config(cfg, n, 1);
	snprintf(exe, sizeof(exe), "%s/mobkitd", bindir);
	char *argv[] = { exe, "-c", cfg, NULL };
	return run(argv);
}

static pid_t
start_respawner(int n)
{
	char exe[512], child[512], num[16];

	snprintf(exe, sizeof(exe), "%s/respawner", testbin);
	snprintf(child, sizeof(child), "%s/benchchild", testbin);
	snprintf(num, sizeof(num), "%d", n);
	char *argv[] = { exe, num, child, fifo, NULL };
	return run(argv);
}

/* Wait for n first stamps; returns the us of the last, 0 on timeout. */
static uint64_t
await_n(int n, int *pids)
{
	uint64_t us = 0;
	int i, pid;

	for (i = 0; i < n; i++) {
		if (next_stamp(&pid, &us, 30000) == -1) {
			fprintf(stderr, "bench: only %d of %d children started\n",
			    i, n);
			return 0;
		}
		if (pids != NULL)
			pids[i] = pid;
	}
	return us;
}

static uint64_t
stop(pid_t sup)
{
	uint64_t t0 = mono_us();
	int status;

	kill(sup, SIGTERM);
	waitpid(sup, &status, 0);
	return mono_us() - t0;
}

static void
drain_stamps(void)
{
	int pid;
	uint64_t us;

	while (next_stamp(&pid, &us, 200) == 0)
		;
}

typedef pid_t (*starter)(int);

/* kill -9 the running child `kills` times; latencies in us into v. */
static void
restart_latency(starter st, uint64_t *v, int kills)
{
	pid_t sup = st(1);
	int pid, next, i;
	uint64_t t0, us;

	if (next_stamp(&pid, &us, 10000) == -1) {
		fprintf(stderr, "bench: the child did not start\n");
		exit(1);
	}
	for (i = 0; i < kills; i++) {
		usleep(2000);
		t0 = mono_us();
		kill(pid, SIGKILL);
		do {
			if (next_stamp(&next, &us, 10000) == -1) {
				fprintf(stderr, "bench: no restart\n");
				exit(1);
			}
		} while (next == pid);
		v[i] = us - t0;
		pid = next;
	}
	stop(sup);
	drain_stamps();
}

/* The full path of PROG in PATH, or 0 when it is not installed. */
static int
in_path(const char *prog, char *out, size_t sz)
{
	char *path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	char *d, *save = NULL;
	int found = 0;

	for (d = strtok_r(path, ":", &save); d != NULL && !found;
	    d = strtok_r(NULL, ":", &save)) {
		snprintf(out, sz, "%s/%s", d, prog);
		found = access(out, X_OK) == 0;
	}
	free(path);
	return found;
}

/* A service directory NAME whose run is benchchild, stamping to our FIFO. */
static void
service_dir(const char *name, char *out, size_t sz)
{
	char p[256], t[512];

	snprintf(out, sz, "%s/%s", dir, name);
	mkdir(out, 0700);
	snprintf(p, sizeof(p), "%s/run", out);
	snprintf(t, sizeof(t), "%s/benchchild", testbin);
	(void)symlink(t, p);
	snprintf(p, sizeof(p), "%s/stamps", out);
	(void)symlink(fifo, p);
}

/* rm -rf a directory of ours. */
static void
rm_tree(const char *svc)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", svc);
	(void)!system(cmd);
}

#define ROUNDS_MAX	200

/* One supervisor in the restart comparison. */
struct rival {
	const char	*name;
	char		 exe[512];	/* supervise, runsv: their path */
	char		 svc[256];	/* their service directory */
	pid_t		 sup;
	int		 child;		/* the pid running now */
	int		 n;
	uint64_t	 v[ROUNDS_MAX];
};

/* Start a rival and read its child's first stamp: 0, or -1. */
static int
rival_start(struct rival *r)
{
	uint64_t us;

	if (strcmp(r->name, "respawner") == 0)
		r->sup = start_respawner(1);
	else if (strcmp(r->name, "mobkitd") == 0)
		r->sup = start_mobkitd(1);
	else {
		char *argv[] = { r->exe, r->svc, NULL };

		service_dir(r->name, r->svc, sizeof(r->svc));
		r->sup = run(argv);
	}
	if (next_stamp(&r->child, &us, 10000) == -1) {
		fprintf(stderr, "bench: %s: the child did not start\n",
		    r->name);
		kill(r->sup, SIGKILL);
		waitpid(r->sup, NULL, 0);
		r->sup = 0;
		return -1;
	}
	return 0;
}

/* Stop a rival and its child. */
static void
rival_stop(struct rival *r)
{
	if (r->sup == 0)
		return;
	if (r->svc[0] != '\0') {	/* they would restart it: kill them first */
		kill(r->sup, SIGKILL);
		waitpid(r->sup, NULL, 0);
		kill(r->child, SIGKILL);
		rm_tree(r->svc);
	} else
		stop(r->sup);
	drain_stamps();
}

/* kill -9 r's child; its latency to the replacement's stamp. */
static int
rival_kill(struct rival *r)
{
	uint64_t t0, us;
	int next;

	t0 = mono_us();
	kill(r->child, SIGKILL);
	do {
		if (next_stamp(&next, &us, 10000) == -1) {
			fprintf(stderr, "bench: %s: no restart\n", r->name);
			return -1;
		}
	} while (next == r->child);
	r->v[r->n++] = us - t0;
	r->child = next;
	return 0;
}

/*
 * Restart latency beside daemontools' supervise and runit's runsv, when
 * installed: all at once, each kill -9 in turn (rotating the order), once
 * every child has run 1.1 s, since both wait 1 s before restarting a
 * child that ran less (mobkitd with restart_backoff_ms = 0 does not).
 */
static void
restart_rivals(int rounds)
{
	static const char *names[] = { "respawner", "mobkitd", "supervise",
	    "runsv" };
	struct rival rv[4];
	int i, k, nr = 4, best = -1;

	if (rounds < 1 || rounds > ROUNDS_MAX)
		rounds = 25;
	memset(rv, 0, sizeof(rv));
	for (k = 0; k < nr; k++)
		rv[k].name = names[k];

	for (k = 2; k < nr; k++)
		if (!in_path(rv[k].name, rv[k].exe, sizeof(rv[k].exe)))
			rv[k].name = NULL;
	for (k = 0; k < nr; k++)
		if (rv[k].name != NULL && rival_start(&rv[k]) == -1)
			rv[k].name = NULL;
	for (i = 0; i < rounds; i++) {
		usleep(1100000);
		for (k = 0; k < nr; k++) {
			struct rival *r = &rv[(i + k) % nr];

			if (r->name != NULL && rival_kill(r) == -1)
				r->name = NULL;
		}
	}
	printf("restart latency beside daemontools and runit: %d kill -9 "
	    "each, taking turns, every child 1.1 s old (us)\n", rounds);
	for (k = 2; k < nr; k++)
		if (rv[k].name != NULL && rv[k].n == rounds && (best == -1 ||
		    pct(rv[k].v, (size_t)rounds, .5) <
		    pct(rv[best].v, (size_t)rounds, .5)))
			best = k;
	for (k = 0; k < nr; k++) {
		if (rv[k].name == NULL || rv[k].n < rounds) {
			printf("  %-12s not installed or failed: skipped\n",
			    names[k]);
			continue;
		}
		printf("  %-12s median %7llu   p95 %7llu", rv[k].name,
		    (unsigned long long)pct(rv[k].v, (size_t)rounds, .5),
		    (unsigned long long)pct(rv[k].v, (size_t)rounds, .95));
		if (k == 1 && best != -1)
			printf("   (%.2fx %s's median, the fastest of them)",
			    (double)pct(rv[1].v, (size_t)rounds, .5) /
			    (double)pct(rv[best].v, (size_t)rounds, .5),
			    rv[best].name);
		printf("\n");
	}
	printf("\n");
	for (k = 0; k < nr; k++)
		rival_stop(&rv[k]);
}

int
main(int argc, char *argv[])
{
	int kills = 200, runs = 5, n = 1000, i;
	uint64_t a[1000], b[1000], sa[16], sb[16], ta[16], tb[16], t0, t1;
	long rss = 0, cs0, cs1, nv0, nv1;
	pid_t sup;

	if (argc < 3) {
		fprintf(stderr, "usage: mkbench BINDIR TESTBINDIR [N]\n");
		return 2;
	}
	bindir = argv[1];
	testbin = argv[2];
	if (argc > 3)
		n = atoi(argv[3]);
	if (getenv("MKBENCH_KILLS") != NULL)
		kills = atoi(getenv("MKBENCH_KILLS"));
	if (kills < 1 || kills > 1000)
		kills = 200;
	snprintf(dir, sizeof(dir), "/tmp/mobkit-bench.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(fifo, sizeof(fifo), "%s/stamps", dir);
	mkfifo(fifo, 0600);
	fifo_fd = open(fifo, O_RDWR | O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);

	printf("mobkit benchmarks (%d kills, %d runs of %d children); "
	    "baseline: a bare fork/exec respawner\n\n", kills, runs, n);
	restart_latency(start_respawner, b, kills);
	restart_latency(start_mobkitd, a, kills);
	printf("restart latency, kill -9 to the new child's first "
	    "instruction (us)\n");
	printf("  %-12s median %7llu   p95 %7llu   p99 %7llu\n", "respawner",
	    (unsigned long long)pct(b, (size_t)kills, .5),
	    (unsigned long long)pct(b, (size_t)kills, .95),
	    (unsigned long long)pct(b, (size_t)kills, .99));
	printf("  %-12s median %7llu   p95 %7llu   p99 %7llu   (%.2fx the "
	    "respawner's median)\n\n", "mobkitd",
	    (unsigned long long)pct(a, (size_t)kills, .5),
	    (unsigned long long)pct(a, (size_t)kills, .95),
	    (unsigned long long)pct(a, (size_t)kills, .99),
	    (double)pct(a, (size_t)kills, .5) / (double)pct(b, (size_t)kills, .5));
	restart_rivals(getenv("MKBENCH_ROUNDS") != NULL ?
	    atoi(getenv("MKBENCH_ROUNDS")) : 25);
	if (getenv("MKBENCH_RESTART_ONLY") != NULL) {
		rm_tree(dir);
		return 0;
	}

	for (i = 0; i < runs; i++) {
		t0 = mono_us();
		sup = start_respawner(n);
		t1 = await_n(n, NULL);
		sb[i] = t1 - t0;
		tb[i] = stop(sup);
		drain_stamps();
		t0 = mono_us();
		sup = start_mobkitd(n);
		t1 = await_n(n, NULL);
		sa[i] = t1 - t0;
		usleep(300000);
		if (i == 0)
			rss = proc_field(sup, "status", "VmRSS:");
		ta[i] = stop(sup);
		drain_stamps();
	}
	printf("start-up of %d children to all running (ms)\n", n);
	printf("  %-12s median %8.1f   max %8.1f\n", "respawner",
	    pct(sb, (size_t)runs, .5) / 1000.0, pct(sb, (size_t)runs, 1) / 1000.0);
	printf("  %-12s median %8.1f   max %8.1f   (%.2fx)\n\n", "mobkitd",
	    pct(sa, (size_t)runs, .5) / 1000.0, pct(sa, (size_t)runs, 1) / 1000.0,
	    (double)pct(sa, (size_t)runs, .5) / (double)pct(sb, (size_t)runs, .5));
	printf("shutdown of %d children, SIGTERM to the supervisor's exit "
	    "(ms)\n", n);
	printf("  %-12s median %8.1f   max %8.1f   (kills all at once)\n",
	    "respawner", pct(tb, (size_t)runs, .5) / 1000.0, pct(tb, (size_t)runs, 1) / 1000.0);
	printf("  %-12s median %8.1f   max %8.1f   (%.2fx; ordered: by "
	    "dependency levels, each in reverse start order)\n\n", "mobkitd",
	    pct(ta, (size_t)runs, .5) / 1000.0, pct(ta, (size_t)runs, 1) / 1000.0,
	    (double)pct(ta, (size_t)runs, .5) / (double)pct(tb, (size_t)runs, .5));
	printf("mobkitd RSS with %d children: %ld KiB (%.1f KiB per child)\n\n",
	    n, rss, (double)rss / n);

	sup = start_mobkitd(100);
	await_n(100, NULL);
	sleep(1);
	cs0 = proc_field(sup, "status", "voluntary_ctxt_switches:");
	nv0 = proc_field(sup, "status", "nonvoluntary_ctxt_switches:");
	sleep(10);
	cs1 = proc_field(sup, "status", "voluntary_ctxt_switches:");
	nv1 = proc_field(sup, "status", "nonvoluntary_ctxt_switches:");
	stop(sup);
	printf("idle mobkitd with 100 children, 10 s: %ld voluntary + %ld "
	    "involuntary context switches (goal 0)\n", cs1 - cs0, nv1 - nv0);
	rm_tree(dir);	/* the FIFO, the config, mobkitd's lock */
	return 0;
}
