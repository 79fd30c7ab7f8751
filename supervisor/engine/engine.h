/*
 * engine.h: the supervision engine as the rest of mobkitd sees it: the
 * child table and its state machine, groups and their strategies, the
 * stopper, reload and the ordered shutdown.  The engine knows nothing of
 * what a child does: a member's mailbox is an opaque pointer here, and
 * everything kind-specific goes through the tables of kind.h.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <sys/queue.h>
#include <sys/types.h>

#include <limits.h>
#include <stdint.h>

#include <ev.h>
#include <msgpack.h>
#include <uthash.h>

#include "budget.h"
#include "config.h"
#include "frame.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);				\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

enum cstate { CS_STOPPED, CS_STARTING, CS_HEALTHY, CS_FAILED, CS_RESTARTING,
    CS_EXHAUSTED, CS_STOPPING, CS__N };
enum cevent { CE_START, CE_READY, CE_EXIT, CE_DEADLINE, CE_STOP, CE_BACKOFF,
    CE_KILL, CE_WATCHDOG, CE__N };
enum ctimer { CT_NONE, CT_DEADLINE, CT_BACKOFF, CT_KILL };

extern const char *const cstate_names[];

struct sgroup {
	TAILQ_ENTRY(sgroup)	 entry;
	char			*name;
	struct sgroup		*parent;
	int			 strategy;
	int			 max_restarts;
	int64_t			 window_ms;
	struct budget		 budget;
	int			 restarts;
};

struct outpipe;
struct mbox;		/* a member's mailbox: opaque to the engine */

struct child {
	TAILQ_ENTRY(child)	 entry;		/* in start order */
	char			*name;
	struct child_conf	*conf;
	struct child_conf	*next_conf;	/* reload: use once stopped */
	struct sgroup		*group;
	int			 order;		/* start order index */
	int			 state;		/* set by child_event only */
	pid_t			 pid;
	int			 spawned;	/* spawn count: the attempt */
	int			 restarts;	/* restarts for failures */
	struct budget		 budget;
	int			 consecutive;	/* failures in a row */
	uint64_t		 healthy_since;	/* mono ms */
	uint64_t		 since_wall;	/* entered this state */
	uint64_t		 next_restart_at;	/* mono ms, 0 = none */
	int			 exit_known;
	int			 exit_code;
	int			 exit_signal;
	ev_timer		 timer;
	int			 timer_kind;
	struct peer		*peer;		/* fd 3 */
	struct outpipe		*out, *err;
	int			 notify_fd;
	ev_io			 notify_io;
	int			 want_run;	/* should be running */
	int			 held;		/* in a group operation */
	int			 as_restart;	/* next spawn is a restart */
	int			 removing;	/* reload removed it */
	int			 hello;		/* HELLO received */
	int			 ntrans;	/* transitions recorded */
	struct mbox		*mbox;		/* members only (kind data) */
	UT_hash_handle		 hh;		/* D->byname */
	int			 hashed;
	int			 dynamic;	/* spawned, not in the INI */
	int			 deadline_missed;
	ev_timer		 wd;		/* watchdog.c */
	int			 wd_mode;
	uint64_t		 wd_seen;	/* mono ms: last sign of life */
	uint64_t		 wd_due;	/* mono ms: when wd should fire */
	int64_t			 wd_seq;	/* of the last PING */
	int			 condemned;	/* being killed: not heard */
	const char		*kill_reason;	/* why we are killing it */
	const char		*exit_reason;	/* of last_exit, or NULL */
	int			 gone_noted;	/* in D->stopped_order */
	int			 remote;	/* a member another node runs */
	int			 sd_pending;	/* notify.c: awaited for READY=1 */
};

struct stopper;
typedef void (*stopper_done_cb)(struct stopper *, void *);

/* How a stopper goes through its list. */
enum stop_mode {
	STOP_SEQUENTIAL,	/* one at a time, in list order */
	STOP_PARALLEL,		/* all at once */
	STOP_LEVELS,		/* each once no dependant of it still runs */
};

/* Stops a list of children (see enum stop_mode), then calls done. */
struct stopper {
	TAILQ_ENTRY(stopper)	 entry;
	struct child		**v;
	int			 n;
	int			 i;
	int			 mode;
	int			 started;
	stopper_done_cb		 done;
	void			*arg;
	ev_timer		 delay;		/* group restarts: the backoff */
	uint64_t		 start_at;	/* mono ms */
	int			 fresh;		/* reset budgets on release */
	int			 keep_failed;	/* leave FAILED children be */
	int			 done_called;
	struct stop_levels	*lv;		/* STOP_LEVELS: the graph */
};

/* A pass that may be asked for again while it runs (start.c: rerun). */
struct rerun {
	int	 busy;
	int	 again;
};

struct daemon {
	struct ev_loop		*loop;
	struct config		*cfg;
	char			*cfg_path;
	TAILQ_HEAD(childq, child) children;
	TAILQ_HEAD(, sgroup)	 groups;
	TAILQ_HEAD(, stopper)	 stoppers;
	struct sgroup		*root;
	struct child		*byname;	/* live children by name */
	char			 self_dir[PATH_MAX];
	pid_t			 pid;
	uint64_t		 start_mono;
	int			 shutting_down;
	int			 exit_code;
	int			 booted;	/* modules_started sent */
	int			 ready_sent;	/* READY=1 to systemd */
	struct strlist		 stopped_order;	/* shutdown report */
	int			 orphans_found;
	int			 orphans_killed;
	uint64_t		 shutdown_began;
	uint64_t		 shutdown_ms;
	struct strlist		 stages;
	int			 verbose;
	int			 draining;
	int			 drain_inflight;
	int			 drained;
	int			 drain_timed_out;
	uint64_t		 drain_ms;
	ev_timer		 drain_timer;
	int			 exit_holds;	/* engine_hold_exit() count */
	int			 finished;	/* shutdown complete */
	struct rerun		 kick;		/* tree_kick */
	struct rerun		 poke;		/* stoppers_poke */
};

extern struct daemon *D;

/* state.c: the state machine */
void	 child_event(struct child *, int ev);
void	 child_exited(struct child *, int status);
void	 child_ready(struct child *, const char *how);
int	 child_running(const struct child *);
const char *child_action_name(int state, int event);
const char *child_state_name(const struct child *);
void	 child_deadline_extend(struct child *, uint64_t ms);

/* start.c: starting children, lookups */
void	 tree_kick(void);
void	 child_start_op(struct child *);
struct child *child_find(const char *);
struct sgroup *group_find(const char *);

/* policy.c: restart policy and budgets */
int	 child_budget_left(struct child *);

/* stopper.c */
struct stopper *stopper_new(struct child **, int, int mode,
	    stopper_done_cb, void *);
void	 stopper_free(struct stopper *);
void	 stoppers_poke(void);
void	 tree_sweep(void);

/* build.c: building the tree, adding and removing children */
void	 tree_build(struct config *);
struct child *tree_add(const struct child_conf *);
void	 child_free(struct child *);
void	 child_mark_removing(struct child *);

/* reload.c */
int	 tree_reload(struct config *, msgpack_packer *);

/* shutdown.c */
void	 daemon_shutdown(int code);
void	 daemon_shutdown_because(int code, const char *why);
const char *daemon_state(void);
void	 shutdown_drain_check(void);
void	 engine_hold_exit(void);
void	 engine_release_exit(void);

/* notify.c: our own supervisor (systemd Type=notify) */
void	 sd_notify_init(void);
void	 sd_notify_check(void);
void	 sd_notify_state(struct child *);
void	 sd_notify_reload(void);
void	 sd_notify_reload_refused(void);
void	 sd_notify_stopping(void);

/* watchdog.c, trust.c, spawn.c, output.c: what others may call */
void	 child_condemn(struct child *, const char *reason, int sig);
const char *child_role(const struct child *);
void	 spawn_limits_init(void);
char	*command_path(const char *cmd);
int	 config_check_commands(struct config *);
int	 stdout_line(struct child *, const char *line);

#endif
