/*
 * spawn_exec.h: the child side of a spawn.  The parent fills a plan with
 * everything the child needs (spawn.c); spawn_exec runs the child in the
 * parent's memory (clone CLONE_VM|CLONE_VFORK) until it execs, so the
 * child side only reads the plan and makes system calls: no allocation,
 * no locks, no stdio.  A step that fails is written back into the plan,
 * which the parent reads once the child has exited.
 */
#ifndef ENGINE_SPAWN_EXEC_H
#define ENGINE_SPAWN_EXEC_H

#include <sys/resource.h>
#include <sys/types.h>

/* Where the child side stopped; STEP_NONE once it exec'd. */
enum spawn_step {
	STEP_NONE,
	STEP_HYGIENE,	/* process group, descriptors, parent death: 126 */
	STEP_NOFILE,	/* setrlimit RLIMIT_NOFILE: 126 */
	STEP_CHDIR,	/* cwd =: 126 */
	STEP_USER,	/* user =: groups, gid, uid: 126 */
	STEP_NOTFOUND,	/* the command was not found: 127 */
	STEP_EXEC,	/* execve failed: 127 */
};

struct spawn_plan {
	/* in: the parent's, read only by the child */
	const char	*path;		/* NULL: not found */
	char *const	*argv;
	char *const	*envp;
	int		 sock;		/* becomes fd 3, or -1 */
	int		 out, err, null;	/* become fds 1, 2, 0 */
	pid_t		 parent;	/* for PR_SET_PDEATHSIG's race */
	const int	*sigs;		/* dispositions to reset to SIG_DFL */
	int		 nsigs;
	int		 set_nofile;	/* apply nofile */
	struct rlimit	 nofile;
	const char	*cwd;		/* or NULL */
	int		 as_user;	/* apply uid, gid, groups */
	uid_t		 uid;
	gid_t		 gid;
	const gid_t	*groups;
	int		 ngroups;
	int		 user_errno;	/* groups not listed: fail as this */
	/* out: written by the child before it exits */
	enum spawn_step	 step;
	int		 errnum;
};

/* Is sig's disposition the default (asked of the kernel: glibc hides
 * 32 and 33)? */
int	spawn_sig_default(int sig);
/* Start the child of a plan; its pid, or -1 (errno) if none started. */
pid_t	spawn_exec(struct spawn_plan *);

#endif
