/*
 * orphans.c: the final sweep of the shutdown: every descendant still
 * alive (a grandchild that left its process group, say) is killed and
 * counted, in rounds, each waited out on the loop's timers (up to 200 ms
 * for what was killed to be reaped), never by sleeping: the loop goes on
 * serving clients meanwhile.
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"
#include "engine/internal.h"

#define SWEEP_ROUNDS	20
#define SWEEP_WAIT_MS	200	/* a round's wait for the killed to go */
#define SWEEP_TICK	0.002	/* how often that wait looks */

struct proc {
	pid_t	pid, ppid;
	char	state;
};

/* Read every process's parent from /proc. */
static struct proc *
proc_table(int *np)
{
	DIR *d;
	struct dirent *de;
	struct proc *v = NULL;
	int n = 0, cap = 0;
	char path[300], buf[512], *p;
	FILE *fp;

	if ((d = opendir("/proc")) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), fp) != NULL &&
		    (p = strrchr(buf, ')')) != NULL) {
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				v = reallocarray(v, (size_t)cap, sizeof(*v));
				if (v == NULL)
					fatal("reallocarray");
			}
			v[n].pid = atoi(de->d_name);
			if (sscanf(p + 1, " %c %d", &v[n].state,
			    &v[n].ppid) == 2)
				n++;
		}
		fclose(fp);
	}
	closedir(d);
	*np = n;
	return v;
}

/* Is pid a descendant of ancestor, by the parent links in v? */
static int
descends(struct proc *v, int n, pid_t pid, pid_t ancestor)
{
	int i, hops;

	for (hops = 0; hops < 64 && pid > 1; hops++) {
		for (i = 0; i < n && v[i].pid != pid; i++)
			;
		if (i == n)
			return 0;
		if (v[i].ppid == ancestor)
			return 1;
		pid = v[i].ppid;
	}
	return 0;
}

static struct {
	orphans_done_cb	 done;
	struct strlist	 seen;		/* pids already counted */
	int		 round;
	uint64_t	 end;		/* mono ms: this round's wait ends */
	ev_timer	 tick;
} sw;

/*
 * Can there be no descendant left?  A subreaper (or pid 1) adopts every
 * orphan below it, so with no child of its own it has no descendant, and
 * /proc need not be read.
 */
static int
no_descendant(void)
{
	int sub = 0;

	if (D->pid != 1 && (prctl(PR_GET_CHILD_SUBREAPER, &sub) == -1 ||
	    !sub))
		return 0;
	return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

/* Kill every descendant alive now; 1 if there was any. */
static int
sweep_kill(void)
{
	struct proc *v;
	char key[32];
	int n, i, any = 0;

	if (no_descendant())
		return 0;
	if ((v = proc_table(&n)) == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		if (v[i].state == 'Z' || v[i].pid == D->pid ||
		    !descends(v, n, v[i].pid, D->pid))
			continue;
		any = 1;
		snprintf(key, sizeof(key), "%d", (int)v[i].pid);
		if (!strlist_has(&sw.seen, key)) {
			(void)strlist_add(&sw.seen, key);
			D->orphans_found++;
			log_warnx("killing leftover process %d", (int)v[i].pid);
			if (kill(v[i].pid, SIGKILL) == 0)
				D->orphans_killed++;
		} else
			kill(v[i].pid, SIGKILL);
	}
	free(v);
	return any;
}

/* Reap what has exited; 1 while some child of ours is still around. */
static int
sweep_reap(void)
{
	int status;
	pid_t r;

	while ((r = waitpid(-1, &status, WNOHANG)) > 0)
		;
	return r == 0;
}

/* The sweep is over: tell the shutdown. */
static void
sweep_finish(void)
{
	ev_timer_stop(D->loop, &sw.tick);
	strlist_free(&sw.seen);
	sw.done();
}

/* One round: kill, then wait for the killed on the timer, or finish. */
static void
sweep_round(void)
{
	int any = sweep_kill();

	(void)sweep_reap();
	if (!any) {
		sweep_finish();
		return;
	}
	sw.end = mono_ms() + SWEEP_WAIT_MS;
	ev_timer_again(D->loop, &sw.tick);
}

/* A look during a round's wait: next round once all are reaped. */
static void
sweep_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (sweep_reap() && mono_ms() < sw.end)
		return;
	ev_timer_stop(D->loop, &sw.tick);
	if (++sw.round >= SWEEP_ROUNDS)
		sweep_finish();
	else
		sweep_round();
}

/* Kill every descendant still alive, count them, reap them; then done. */
void
orphans_sweep(orphans_done_cb done)
{
	memset(&sw.seen, 0, sizeof(sw.seen));
	sw.done = done;
	sw.round = 0;
	ev_init(&sw.tick, sweep_tick_cb);
	sw.tick.repeat = SWEEP_TICK;
	sweep_round();
}
