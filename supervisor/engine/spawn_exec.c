/*
 * spawn_exec.c: the child side of a spawn, between clone and exec.
 *
 * Invariant: the child runs in the parent's memory (CLONE_VM) on a stack
 * of its own, with every signal blocked, while the parent waits
 * (CLONE_VFORK); so it only reads its plan, makes async-signal-safe calls
 * and writes its failing step back into the plan.  Every disposition that
 * is not the default (a handler of the parent's would run in the parent's
 * memory) goes back to the default before the mask is cleared, the last
 * thing before execve.  uid and gid change by raw system calls: glibc's
 * wrappers would ask the parent's threads to change theirs too.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include "engine/spawn_exec.h"

#define STACK_SIZE	(64 * 1024)
/* ASan would check the child's stack, which it does not know, in shadow
 * memory the child shares with the parent */
#define CHILD_SIDE	__attribute__((no_sanitize_address))

static char	*stack;		/* the child side's, reused: one at a time */

/*
 * The kernel's struct sigaction (x86_64 and arm64 alike): glibc refuses
 * the signals it keeps for itself (32 and 33), yet one ignored by whoever
 * started mobkitd would stay ignored in every child across exec.
 */
struct ksigaction {
	void		(*handler)(int);
	unsigned long	  flags;
	void		(*restorer)(void);
	unsigned long	  mask;
};

/* Is sig's disposition the default?  Asked of the kernel itself. */
int
spawn_sig_default(int sig)
{
	struct ksigaction k;

	if (syscall(SYS_rt_sigaction, sig, NULL, &k, sizeof(k.mask)) == -1)
		return 1;
	return k.handler == SIG_DFL;
}

/* sig back to SIG_DFL with an empty mask, by the kernel's call. */
static void CHILD_SIDE
sig_default(int sig)
{
	static const struct ksigaction dfl;

	(void)syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
}

/* Record where the child side failed and end it. */
static void CHILD_SIDE __attribute__((noreturn))
child_fail(struct spawn_plan *p, enum spawn_step step, int code)
{
	p->step = step;
	p->errnum = errno;
	_exit(code);
}

/* Put src on fd target, never closing a source still to be placed. */
static int CHILD_SIDE
place_fds(struct spawn_plan *p)
{
	int src[4] = { p->null, p->out, p->err, p->sock }, i;

	for (i = 0; i < 4; i++)		/* a source among 0..3: move it up */
		if (src[i] >= 0 && src[i] <= 3 &&
		    (src[i] = fcntl(src[i], F_DUPFD, 10)) == -1)
			return -1;
	for (i = 0; i < 4; i++)
		if (src[i] >= 0 && dup2(src[i], i) == -1)
			return -1;
	return 0;
}

/* Close every descriptor from lowfd up. */
static void CHILD_SIDE
close_from(int lowfd)
{
	int fd;

	if (close_range((unsigned)lowfd, ~0U, 0) == 0)
		return;
	for (fd = lowfd; fd < 65536; fd++)
		(void)close(fd);
}

/* Become the plan's user: groups, then gid, then uid. */
static int CHILD_SIDE
become_user(const struct spawn_plan *p)
{
	if (p->user_errno != 0) {
		errno = p->user_errno;
		return -1;
	}
	if (syscall(SYS_setgroups, (size_t)p->ngroups, p->groups) == -1 ||
	    syscall(SYS_setgid, p->gid) == -1 ||
	    syscall(SYS_setuid, p->uid) == -1)
		return -1;
	return 0;
}

/* The child: never returns. */
static int CHILD_SIDE
child_main(void *arg)
{
	struct spawn_plan *p = arg;
	sigset_t none;
	int i;

	setpgid(0, 0);
	for (i = 0; i < p->nsigs; i++)
		sig_default(p->sigs[i]);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != p->parent)
		child_fail(p, STEP_HYGIENE, 126);
	if (place_fds(p) == -1)
		child_fail(p, STEP_HYGIENE, 126);
	close_from(p->sock >= 0 ? 4 : 3);
	if (p->set_nofile && setrlimit(RLIMIT_NOFILE, &p->nofile) == -1)
		child_fail(p, STEP_NOFILE, 126);
	if (p->cwd != NULL && chdir(p->cwd) == -1)
		child_fail(p, STEP_CHDIR, 126);
	if (p->as_user && become_user(p) == -1)
		child_fail(p, STEP_USER, 126);
	if (p->path == NULL)
		child_fail(p, STEP_NOTFOUND, 127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(p->path, p->argv, p->envp);
	child_fail(p, STEP_EXEC, 127);
}

/* The child side's stack, with a guard page below it. */
static char *
child_stack(void)
{
	void *m;

	if (stack != NULL)
		return stack;
	m = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	(void)mprotect(m, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE);
	return stack = m;
}

/*
 * Start the plan's child.  The caller blocks every signal around it.
 * When it returns the child has exec'd or exited: p->step says which.
 */
pid_t
spawn_exec(struct spawn_plan *p)
{
	char *s;

	if ((s = child_stack()) == NULL)
		return -1;
	p->step = STEP_NONE;
	p->errnum = 0;
	return clone(child_main, s + STACK_SIZE, CLONE_VM | CLONE_VFORK |
	    SIGCHLD, p);
}
