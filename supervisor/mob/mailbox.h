/*
 * mailbox.h: a member's mailbox: its inputs, their states and waiters,
 * the conversation it keeps without state_dir, and the worker it feeds
 * (mob/mailbox.c, mob/worker.c, mob/retention.c, mob/inputs.c).
 */
#ifndef MOB_MAILBOX_H
#define MOB_MAILBOX_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <msgpack.h>
#include <uthash.h>

#include "config.h"

struct child;
struct done;
struct turn;

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
	int			 forward;	/* for a member run elsewhere */
	char			*dup_of;	/* the database found this id
						   holding its key first */
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
	/* mob/conversation.c: the turn being appended, and token usage */
	char			 note_input[INPUT_ID_MAX];
	uint64_t		 note_ms;
	int64_t			 usage_in;
	int64_t			 usage_out;
	int64_t			 usage_turns;
	int			 usage_loaded;	/* read back from the store */
};

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
struct msg_view;
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
void	 mbox_input_deduped(const char *member, const char *id,
	    const char *orig);
void	 mbox_forget_input(struct mbox *, struct input *);


#endif
