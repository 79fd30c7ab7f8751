/*
 * respawner: the physical limit the benchmarks compare mobkitd against.
 * A bare C loop that forks and execs N children and re-forks one the
 * moment SIGCHLD says it died; no bookkeeping, no protocol, no budget.
 *
 *   respawner N PROG [ARGS...]   start N, print "ready" when all forked,
 *                                respawn on death, SIGTERM: kill all, wait
 *                                for all, print "stopped MS", exit.
 */
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "timeutil.h"

static volatile sig_atomic_t term;

static void
on_term(int sig)
{
	(void)sig;
	term = 1;
}

static pid_t
spawn(char **argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

int
main(int argc, char *argv[])
{
	pid_t *pids;
	int n, i, status, left;
	sigset_t mask, old;
	uint64_t t0;

	if (argc < 3) {
		fprintf(stderr, "usage: respawner N PROG [ARGS...]\n");
		return 2;
	}
	n = atoi(argv[1]);
	pids = calloc((size_t)n, sizeof(*pids));
	signal(SIGTERM, on_term);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &old);
	for (i = 0; i < n; i++)
		pids[i] = spawn(argv + 2);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int sig;

		sigwait(&mask, &sig);
		if (sig == SIGTERM)
			break;
		while ((status = 0, 1)) {
			pid_t pid = waitpid(-1, &status, WNOHANG);

			if (pid <= 0)
				break;
			for (i = 0; i < n; i++)
				if (pids[i] == pid)
					pids[i] = spawn(argv + 2);
		}
	}
	t0 = mono_us();
	for (i = 0; i < n; i++)
		kill(pids[i], SIGTERM);
	for (left = n; left > 0 && waitpid(-1, &status, 0) > 0; left--)
		;
	printf("stopped %.3f\n", (double)(mono_us() - t0) / 1000.0);
	return 0;
}
