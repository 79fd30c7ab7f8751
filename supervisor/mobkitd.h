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
struct mbox;
struct done;
struct turn;
struct msg_view;	/* a message read against its table (msgtab.h) */

enum input_state { IN_QUEUED, IN_RUNNING, IN_CONSUMED, IN_FAILED,
    IN_ABANDONED };
enum send_outcome { SEND_ACCEPTED, SEND_DEDUPLICATED, SEND_REJECTED };
extern const char *const input_state_names[];

#define INPUT_ID_MAX	64

struct waiter {
	TAILQ_ENTRY(waiter)	 entry;
	uint64_t		 cid;		/* the control client */
	int			 outcome;
	struct input		*in;
	ev_timer		 timeout;
};

struct input {
	char			 id[INPUT_ID_MAX];
	char			*key;
	char			*text;
	int			 state;
	int			 attempts;
	int			 dirty;		/* to be written */
	int			 durable;	/* committed at least once */
	uint64_t		 seq;		/* order in its mailbox */
	uint64_t		 not_before;	/* mono ms: retry delay */
	uint64_t		 accepted_ms;
	char			*result;
	char			*error;
	TAILQ_HEAD(, waiter)	 waiters;
	TAILQ_ENTRY(input)	 qentry;	/* in the queue */
	TAILQ_ENTRY(input)	 all;		/* in the history */
	UT_hash_handle		 hh;		/* by id */
	UT_hash_handle		 hkey;		/* by key, per mailbox */
};

struct mbox {
	char			*id;
	struct child		*child;
	char			*profile;
	int			 capacity;
	int			 max_attempts;
	int			 comms;
	TAILQ_HEAD(, input)	 queue;
	TAILQ_HEAD(, input)	 all;
	int			 nqueued;
	int			 nall;
	uint64_t		 next_seq;
	struct input		*running;
	int			 busy;		/* the worker holds a turn */
	struct input		*by_key;
	struct done		*done_head;	/* finished, oldest first */
	struct done		*done_tail;	/* (without state_dir) */
	struct done		**done_tab;	/* by key */
	size_t			 done_tabsz;
	int			 ndone;
	TAILQ_HEAD(, turn)	 turns;		/* the conversation (without */
	size_t			 turn_bytes;	/* state_dir), oldest first */
	uint64_t		 turns_dropped;	/* for history_max_bytes */
	int			 hello_pending;	/* CONFIG waits for the store */
	int			 hello_reset;	/* reset while it waited */
	int			 retiring;
	int			 destroying;
	ev_timer		 retry;
};

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
	struct mbox		*mbox;		/* members only */
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
void	 child_mark_removing(struct child *);
struct child *tree_add(const struct child_conf *);
void	 tree_sweep(void);
void	 shutdown_drain_check(void);
void	 child_deadline_extend(struct child *, uint64_t ms);

/* watchdog.c */
void	 watchdog_init(struct child *);
void	 watchdog_healthy(struct child *);
void	 watchdog_left(struct child *);
void	 watchdog_gone(struct child *);
int	 watchdog_pong(struct child *, const struct msg_view *);
void	 watchdog_notify(struct child *, const char *line);
void	 watchdog_closed(struct child *);
void	 watchdog_abort(struct child *);
void	 child_condemn(struct child *, const char *reason, int sig);

/* trust.c */
int	 trust_check(struct child *, int64_t type);
const char *child_role(const struct child *);

/* spawn.c */
#define SPAWN_RESOURCE	(-2)	/* out of fds, processes or memory: retry */
int	 spawn_child(struct child *);
void	 spawn_limits_init(void);
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
void	 events_start(struct client *, uint64_t since, int since_given,
	    const char *source, const char *type, int follow);
void	 events_pump(struct client *);
uint64_t events_last_seq(void);
int	 transitions_pack(msgpack_packer *, const char *name);
void	 events_unsubscribe(struct client *);

/* control.c */
int	 instance_lock(const char *path, const char *what);
int	 control_listen(const char *path);
void	 control_close(void);
void	 control_finish_shutdown(void);
int	 client_send(struct client *, msgpack_sbuffer *);
size_t	 client_queued(struct client *);
void	 client_drop(struct client *, const char *why);
void	 client_close(struct client *, const char *why);
void	 client_watch_drain(struct client *, size_t lowat);
uint64_t client_id(struct client *);
struct client *client_by_id(uint64_t);
void	 reply_ok_packed(uint64_t cid, const char *data, size_t len);
void	 reply_error(uint64_t cid, const char *msg);
int	 ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	 control_reload(msgpack_packer *);

/* mailbox.c */
struct input *input_find(const char *);
int	 input_terminal(const struct input *);
struct mbox *mbox_new(const char *id, const struct profile_conf *);
void	 mbox_set_profile(struct mbox *, const struct profile_conf *);
void	 mbox_free(struct mbox *);
struct input *mbox_add(struct mbox *, const char *id, const char *text,
	    const char *key, uint64_t seq);
int	 mbox_accept(struct child *, const char *text, const char *key,
	    struct input **, const char **reason);
void	 mbox_worker_hello(struct child *);
void	 mbox_worker_gone(struct child *);
void	 mbox_kick(struct child *);
int	 mbox_msg(struct child *, int type, const struct msg_view *);
int	 mbox_abandon_all(struct mbox *, const char *reason, int running_too);
int	 mbox_interrupt(struct child *, char *id, size_t idsz);
int	 mbox_reset(struct child *, int *abandoned);
int	 mbox_pending(const struct mbox *);
void	 mbox_pack_member(msgpack_packer *, struct child *);
void	 mbox_pack_inputs(msgpack_packer *, struct mbox *);
int	 mbox_running_total(void);
void	 mbox_input_saved(const char *member, const char *id, const char *err);
void	 mbox_input_release(const char *member, const char *id);

/* members.c */
void	 waiters_resolve(struct input *, const char *status);
void	 waiters_reject(struct input *, const char *reason);
void	 peers_pack(msgpack_packer *, const char *id);
int	 peers_wired(const char *a, const char *b);
void	 peers_from_config(struct config *);
int	 peers_add(const char *a, const char *b);
int	 peers_remove(const char *a, const char *b);
void	 peers_forget(const char *id);
void	 retire_progress(struct child *);
int	 member_retire(struct child *);
void	 waiters_terminate_all(void);
struct child *member_spawn(const char *id, const char *profile, int dynamic,
	    const char **err);
void	 reconcile_pack(msgpack_packer *);

/* modules.c */
void	 routes_from_config(struct config *);
void	 routes_pack(msgpack_packer *);
void	 routes_push(void);
int	 module_call(struct client *, const char *module, const char *verb,
	    const msgpack_sbuffer *args);
typedef void (*module_done_cb)(void *arg, const msgpack_object *result,
	    const char *err);
int	 module_call_cb(const char *module, const char *verb,
	    const msgpack_sbuffer *args, module_done_cb, void *arg);
void	 module_hello(struct child *);
void	 module_ready(struct child *);
void	 module_gone(struct child *);
int	 module_result(struct child *, const struct msg_view *);
struct ctl_deliver_args;
void	 resolve_args_pack(msgpack_packer *, const struct ctl_deliver_args *);

/* schedules.c */
int64_t	 claim_note(const char *schedule, int64_t due_ms);
const char *schedule_fire(const char *id, int64_t due_ms, char *input_id,
	    size_t idsz);
void	 schedules_push(void);
int	 schedule_fire_msg(struct child *, const struct msg_view *);

/* deliveries.c */
void	 deliveries_ready(struct child *);
void	 deliveries_gone(struct child *);
int	 delivery_attempt_msg(struct child *, const struct msg_view *);
void	 delivery_restore(const void *blob, size_t len);

/* store.c: the store interface */
#include "store.h"

/* mobkitd.c */
void	 sd_notify_parent(const char *msg);
int	 config_check_commands(struct config *);

#endif
