/*
 * cluster_mob.h: the mailbox's side of the cluster (cluster.c decides,
 * these act on a member's child and mailbox).
 */
#ifndef MOB_CLUSTER_MOB_H
#define MOB_CLUSTER_MOB_H

#include <stdint.h>

struct child;
struct store_input;

/* Taken: the mailbox is about to be filled from the database. */
void	 cluster_mob_begin(struct child *, int64_t maxseq);
/* A pending input read from the database (seq 0: sent on another node,
 * numbered here now). */
void	 cluster_mob_input(struct child *, const struct store_input *);
/* Read in (or new inputs read): the worker runs, the queue moves. */
void	 cluster_mob_active(struct child *);
/* No longer run here: kill (lost) or not (stopped already); what is
 * durable leaves memory, what is not yet is written for its new node. */
void	 cluster_mob_lose(struct child *, int kill);
/* The ids of inputs written for other nodes that someone waits on (a
 * NULL-terminated array, malloc'd; NULL when none). */
const char **cluster_mob_waited(int *n);
/* Such an input finished on its node: its waiters are answered. */
void	 cluster_mob_finished(const char *id, int state, const char *result,
	    const char *error);
/* Hand over: stop the worker cleanly; cluster_stopped() once it is. */
void	 cluster_mob_leave(struct child *);

#endif
