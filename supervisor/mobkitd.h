/*
 * mobkitd.h: the root supervisor's structures, one heading per file.
 */
#ifndef MOBKITD_H
#define MOBKITD_H

#include <sys/queue.h>
#include <sys/types.h>

#include <limits.h>
#include <stdint.h>

#include <ev.h>
#include <msgpack.h>

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
    CE_KILL, CE__N };
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

struct child {
	TAILQ_ENTRY(child)	 entry;		/* in start order */
	char			*name;
	struct child_conf	*conf;
	struct child_conf	*next_conf;	/* reload: use once stopped */
	struct sgroup		*group;
	int			 order;		/* start order index */
	int			 state;
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
	int			 deadline_missed;
};

struct stopper;
typedef void (*stopper_done_cb)(struct stopper *, void *);

/* Stops a list of children, one at a time in list order, or all at once. */
struct stopper {
	TAILQ_ENTRY(stopper)	 entry;
	struct child		**v;
	int			 n;
	int			 i;
	int			 parallel;
	int			 started;
	stopper_done_cb		 done;
	void			*arg;
	ev_timer		 delay;		/* group restarts: the backoff */
	uint64_t		 start_at;	/* mono ms */
	int			 fresh;		/* reset budgets on release */
	int			 keep_failed;	/* leave FAILED children be */
	int			 done_called;
};

struct daemon {
	struct ev_loop		*loop;
	struct config		*cfg;
	char			*cfg_path;
	TAILQ_HEAD(childq, child) children;
	TAILQ_HEAD(, sgroup)	 groups;
	TAILQ_HEAD(, stopper)	 stoppers;
	struct sgroup		*root;
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
};

extern struct daemon *D;

/* tree.c */
void	 tree_build(struct config *);
int	 tree_reload(struct config *, msgpack_packer *);
struct child *child_find(const char *);
struct sgroup *group_find(const char *);
void	 child_event(struct child *, int ev);
void	 child_exited(struct child *, int status);
void	 child_ready(struct child *, const char *how);
void	 tree_kick(void);
int	 child_running(const struct child *);
void	 child_start_op(struct child *);
struct stopper *stopper_new(struct child **, int, int parallel,
	    stopper_done_cb, void *);
void	 stoppers_poke(void);
void	 daemon_shutdown(int code);
const char *daemon_state(void);
int	 child_budget_left(struct child *);
const char *child_action_name(int state, int event);
void	 child_free(struct child *);

/* spawn.c */
int	 spawn_child(struct child *);
char	*command_path(const char *cmd);
void	 kill_orphans(void);
void	 child_close_io(struct child *);

/* output.c */
struct outpipe *outpipe_new(struct child *, int fd, int is_stdout);
void	 outpipe_detach(struct outpipe *);
int	 stdout_line(struct child *, const char *line);

/* events.c */
void	 events_init(size_t cap);
struct evb {
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
};
void	 evb_begin(struct evb *, int npairs);
void	 evb_emit(struct evb *, const char *source, const char *name,
	    const char *type);
void	 event_simple(const char *source, const char *name, const char *type);
void	 event_emit_raw(const char *source, const char *name, const char *type,
	    const char *payload, size_t len);
void	 transition_record(struct child *, int from, int to);
struct client;
void	 events_replay(struct client *, uint64_t since, const char *source,
	    const char *type);
uint64_t events_last_seq(void);
int	 transitions_pack(msgpack_packer *, const char *name);
void	 events_subscribe(struct client *, const char *source,
	    const char *type);
void	 events_unsubscribe(struct client *);

/* control.c */
int	 control_listen(const char *path);
void	 control_close(void);
void	 control_finish_shutdown(void);
int	 client_send(struct client *, msgpack_sbuffer *);
size_t	 client_queued(struct client *);
void	 client_drop(struct client *, const char *why);
uint64_t client_id(struct client *);
struct client *client_by_id(uint64_t);
void	 reply_ok_packed(uint64_t cid, const char *data, size_t len);
void	 reply_error(uint64_t cid, const char *msg);
int	 control_reload(msgpack_packer *);

/* mobkitd.c */
void	 sd_notify_parent(const char *msg);
int	 config_check_commands(struct config *);

#endif
