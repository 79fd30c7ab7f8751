/*
 * ctlbench BINDIR [N]: what `mobkitctl status` costs, start-up included,
 * beside runit's `sv status` and /bin/true measured in the same run.
 *
 * mobkitd runs with 10 modules; each round runs every command once, in
 * turn, as a shell would (fork, exec, wait; output to /dev/null), and
 * prints the median and p99 of each over N rounds (default 500):
 *
 *   true                /bin/true: a process start, the floor
 *   mobkitctl start-up  mobkitctl -c FILE nosuchverb: exits before the
 *                       socket (loading and argument parsing only)
 *   mobkitctl -s        mobkitctl -s SOCKET status
 *   mobkitctl -c        mobkitctl -c FILE status (the socket from the INI)
 *   sv status           runit's sv status on a runsv service (when sv and
 *                       runsv are installed)
 *
 * CTLBENCH_BEFORE=BINDIR2 also runs a second mobkitd from BINDIR2 (say, a
 * build of an older commit) and measures its mobkitctl the same way, in
 * the same rounds.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchlib.h"
#include "timeutil.h"

#define MODULES		10
#define SUBJECTS	9

struct subject {
	const char	*label;
	char		*argv[8];
	uint64_t	*us;
};

static struct subject	 subj[SUBJECTS];
static int		 nsubj;
static char		 dir[64];

/* A command to time. */
static void
subject(const char *label, const char *a0, const char *a1, const char *a2,
    const char *a3, const char *a4)
{
	struct subject *s = &subj[nsubj++];
	const char *v[] = { a0, a1, a2, a3, a4, NULL };
	int i;

	s->label = label;
	for (i = 0; v[i] != NULL; i++)
		s->argv[i] = strdup(v[i]);
	s->argv[i] = NULL;
}

/* fork, exec, wait: the microseconds it took; exits if it failed. */
static uint64_t
run_once(struct subject *s, int want_ok)
{
	uint64_t t0 = mono_us();
	int status, null;
	pid_t pid;

	if ((pid = fork()) == 0) {
		null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execv(s->argv[0], s->argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	if (want_ok && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		fprintf(stderr, "ctlbench: %s failed (status %d)\n", s->label,
		    status);
		exit(1);
	}
	return mono_us() - t0;
}

/* A mobkitd from bindir with MODULES modules, on dir/NAME.sock. */
static pid_t
start_daemon(const char *bindir, const char *name, char *cfg, size_t cfgsz)
{
	char exe[512], sock[128];
	FILE *fp;
	pid_t pid;
	int i;

	snprintf(cfg, cfgsz, "%s/%s.ini", dir, name);
	snprintf(sock, sizeof(sock), "%s/%s.sock", dir, name);
	if ((fp = fopen(cfg, "w")) == NULL)
		exit(1);
	fprintf(fp, "[mobkitd]\ncontrol_socket = %s\nlog_level = error\n", sock);
	for (i = 0; i < MODULES; i++)
		fprintf(fp, "[module c%d]\ncommand = /bin/sleep\n"
		    "args = 100000\nready = none\n", i);
	fclose(fp);
	snprintf(exe, sizeof(exe), "%s/mobkitd", bindir);
	if ((pid = fork()) == 0) {
		execl(exe, exe, "-c", cfg, (char *)NULL);
		_exit(127);
	}
	close(ctl_connect(sock));
	return pid;
}

/* The mobkitctl commands of one bin directory. */
static void
ctl_subjects(const char *bindir, const char *name, const char *cfg,
    const char *tag)
{
	static char labels[3][3][64];
	static int n;
	char exe[512], sock[128];

	snprintf(exe, sizeof(exe), "%s/mobkitctl", bindir);
	snprintf(sock, sizeof(sock), "%s/%s.sock", dir, name);
	snprintf(labels[n][0], 64, "mobkitctl start-up%s", tag);
	snprintf(labels[n][1], 64, "mobkitctl -s status%s", tag);
	snprintf(labels[n][2], 64, "mobkitctl -c status%s", tag);
	subject(labels[n][0], exe, "-c", cfg, "nosuchverb", NULL);
	subject(labels[n][1], exe, "-s", sock, "status", NULL);
	subject(labels[n][2], exe, "-c", cfg, "status", NULL);
	n++;
}

/* Stop runsv and its service (whose pid runsv wrote). */
static void
stop_runsv(pid_t sv, const char *svc)
{
	char path[256];
	FILE *fp;
	int pid;

	snprintf(path, sizeof(path), "%s/supervise/pid", svc);
	if ((fp = fopen(path, "r")) != NULL) {
		if (fscanf(fp, "%d", &pid) == 1 && pid > 1)
			kill(pid, SIGKILL);
		fclose(fp);
	}
	kill(-sv, SIGKILL);
	waitpid(sv, NULL, 0);
}

/* runsv on a service that sleeps; its pid (a process group), or 0. */
static pid_t
start_runsv(char *svc, size_t sz)
{
	char path[256], ok[256];
	struct stat st;
	FILE *fp;
	pid_t pid;
	int i;

	if (access("/usr/bin/sv", X_OK) == -1 ||
	    access("/usr/bin/runsv", X_OK) == -1)
		return 0;
	snprintf(svc, sz, "%s/svc", dir);
	mkdir(svc, 0755);
	snprintf(path, sizeof(path), "%s/run", svc);
	if ((fp = fopen(path, "w")) == NULL)
		return 0;
	fprintf(fp, "#!/bin/sh\nexec sleep 100000\n");
	fclose(fp);
	chmod(path, 0755);
	if ((pid = fork()) == 0) {
		setsid();
		execl("/usr/bin/runsv", "runsv", svc, (char *)NULL);
		_exit(127);
	}
	snprintf(ok, sizeof(ok), "%s/supervise/stat", svc);
	for (i = 0; i < 400 && stat(ok, &st) == -1; i++)
		usleep(10000);
	return pid;
}

int
main(int argc, char *argv[])
{
	char cfg[128], cfg2[128], svc[128];
	const char *before = getenv("CTLBENCH_BEFORE");
	pid_t d1, d2 = 0, sv;
	int n = argc > 2 ? atoi(argv[2]) : 500, r, i;

	if (argc < 2) {
		fprintf(stderr, "usage: ctlbench BINDIR [N]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "/tmp/ctlbench.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	d1 = start_daemon(argv[1], "now", cfg, sizeof(cfg));
	subject("true", "/bin/true", NULL, NULL, NULL, NULL);
	ctl_subjects(argv[1], "now", cfg, "");
	if (before != NULL) {
		d2 = start_daemon(before, "before", cfg2, sizeof(cfg2));
		ctl_subjects(before, "before", cfg2, " (before)");
	}
	if ((sv = start_runsv(svc, sizeof(svc))) > 0)
		subject("sv status", "/usr/bin/sv", "status", svc, NULL, NULL);
	for (i = 0; i < nsubj; i++)
		if ((subj[i].us = calloc((size_t)n, sizeof(uint64_t))) == NULL)
			return 1;
	for (r = 0; r < n; r++)
		for (i = 0; i < nsubj; i++)
			subj[i].us[r] = run_once(&subj[i],
			    strstr(subj[i].label, "start-up") == NULL);
	printf("mobkitctl status, start-up included (%d rounds, %d "
	    "modules):\n", n, MODULES);
	for (i = 0; i < nsubj; i++) {
		uint64_t med = pct(subj[i].us, (size_t)n, 0.5);
		uint64_t p99 = pct(subj[i].us, (size_t)n, 0.99);

		printf("  %-32s median %5.2f ms  p99 %5.2f ms\n",
		    subj[i].label, med / 1000.0, p99 / 1000.0);
	}
	if (sv > 0) {
		printf("  status / sv status (medians): %.2fx\n",
		    (double)pct(subj[2].us, (size_t)n, 0.5) /
		    (double)pct(subj[nsubj - 1].us, (size_t)n, 0.5));
		stop_runsv(sv, svc);
	}
	kill(d1, SIGTERM);
	waitpid(d1, NULL, 0);
	if (d2 > 0) {
		kill(d2, SIGTERM);
		waitpid(d2, NULL, 0);
	}
	snprintf(cfg, sizeof(cfg), "rm -rf %s", dir);
	return system(cfg) == 0 ? 0 : 1;
}
