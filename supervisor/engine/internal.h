/*
 * internal.h: what the engine's files share and nothing outside the
 * engine calls: the transition helpers, the policy, the kind and domain
 * tables as the engine walks them, spawning, the watchdog, output pipes,
 * trust and the orphan sweep.
 */
#ifndef ENGINE_INTERNAL_H
#define ENGINE_INTERNAL_H

#include <stdint.h>

#include <msgpack.h>

#include "engine/engine.h"
#include "engine/kind.h"

/* state.c */
void	 set_state(struct child *, int to);
void	 timer_cancel(struct child *);
void	 timer_arm(struct child *, int kind, uint64_t ms);
void	 child_timer_cb(struct ev_loop *, ev_timer *, int);

/* policy.c */
void	 handle_failure(struct child *, int clean, int was_healthy);

/* start.c */
void	 rerun(struct rerun *, int (*pass)(void));
void	 boot_progress(void);
int	 deps_healthy(struct child *);

/* build.c */
struct child *child_new(const struct child_conf *);
void	 groups_sync(struct config *);
struct sgroup *group_of(const struct child_conf *);
void	 reorder(struct config *);

/* kinds.c: the registered tables, as the engine uses them */
const struct kind_ops *kind_of(const struct child *);
int	 msg_dispatch(struct child *, int type, const struct msg_view *,
	    const char **bad);
int	 msg_sender_ok(const struct child *, int type);
/* 1 when type goes raw; then -1 with *bad if the handler refused it */
int	 msg_dispatch_raw(struct child *, int type, const msgpack_object *,
	    const char **bad, int *r);
void	 domains_configure(struct config *, int reload);
int	 domains_degraded(void);
int	 domains_inflight(void);
void	 domains_members_stopped(void);
void	 domains_shutdown_complete(void);

/* Call a kind hook of c if its kind has it. */
#define KIND_CALL(c, hook, ...) do {					\
	const struct kind_ops *ko_ = kind_of(c);			\
	if (ko_ != NULL && ko_->hook != NULL)				\
		ko_->hook(__VA_ARGS__);					\
} while (0)

/* orphans.c */
typedef void (*orphans_done_cb)(void);
void	 orphans_sweep(orphans_done_cb);

/* spawn.c */
#define SPAWN_RESOURCE	(-2)	/* out of fds, processes or memory: retry */
int	 spawn_child(struct child *);
void	 child_close_io(struct child *);

/* watchdog.c */
void	 watchdog_init(struct child *);
void	 watchdog_healthy(struct child *);
void	 watchdog_left(struct child *);
void	 watchdog_gone(struct child *);
int	 watchdog_pong(struct child *, const struct msg_view *);
void	 watchdog_notify(struct child *, const char *line);
void	 watchdog_closed(struct child *);
void	 watchdog_abort(struct child *);

/* trust.c */
int	 trust_check(struct child *, int64_t type);

/* output.c */
struct outpipe *outpipe_new(struct child *, int fd, int is_stdout);
void	 outpipe_detach(struct outpipe *);

#endif
