/*
 * mailbox_int.h: what mob/mailbox.c, mob/retention.c and mob/inputs.c
 * share, and nothing else includes.
 */
#ifndef MOB_MAILBOX_INT_H
#define MOB_MAILBOX_INT_H

#include <stdint.h>

#include <sys/queue.h>

#include <msgpack.h>

#include "frame.h"

struct child;
struct input;
struct mbox;

/* The most of a conversation handed to a worker: a frame, less room for
 * the rest of its config. */
#define HANDOVER_MAX	(FRAME_MSG_MAX - 4 * 1024 * 1024)
/* Past this, a hand-over extends the worker's readiness deadline. */
#define HANDOVER_SLOW	(4 * 1024 * 1024)

/*
 * A finished input remembered without state_dir: its id, key, state and
 * attempts, nothing else (about 100 bytes with a short key).  With
 * state_dir finished inputs are read from the store instead.
 */
struct done {
	struct done	*next;		/* newer */
	struct done	*hnext;		/* same bucket of done_tab */
	uint64_t	 fin_ms;	/* wall ms */
	uint16_t	 attempts;
	uint8_t		 state;
	uint8_t		 keyat;		/* offset of the key in s; 0: none */
	char		 s[];		/* id NUL [key NUL] */
};

/* One turn of a conversation kept without state_dir: a JSON array. */
struct turn {
	TAILQ_ENTRY(turn)	 entry;
	size_t			 len;
	char			 data[];
};

struct input *mbox_key_find(struct mbox *mb, const char *key);
void	 input_finish(struct mbox *mb, struct input *in, int state,
	    const char *text, const char *error);
struct msgw;
int	 mbox_worker_send(struct child *c, struct msgw *w);
void	 done_drop_oldest(struct mbox *mb);
void	 history_free(struct mbox *mb);
void	 done_add(struct mbox *mb, const struct input *in);
int	 mbox_recall(struct mbox *mb, const char *key, struct input **inp);
char	*history_join(struct mbox *mb);
void	 history_append(struct mbox *mb, const char *messages);
int64_t	 retain_since(void);
int	 retain_max(void);
void	 done_trim(struct mbox *mb);

#endif
