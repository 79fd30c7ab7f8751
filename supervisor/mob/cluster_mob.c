/*
 * cluster_mob.c: a member's child and mailbox as its lease comes and
 * goes (cluster.c decides when).
 *
 * An input in the mailbox of a member this node does not run is a
 * "forward": written for the member's node (seq 0, mobkit.accept()),
 * never queued here; it stays in memory until its row is committed and
 * answered, or while someone waits for its result (cluster.c reads it).
 */
#include <sys/queue.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "engine/engine.h"
#include "cluster.h"
#include "mob/cluster_mob.h"
#include "mob/conversation.h"
#include "mob/mailbox.h"
#include "mob/mailbox_int.h"
#include "mob/members.h"
#include "mob/persist.h"
#include "store.h"

/* An input of the queue leaves it (it stays in the mailbox). */
static void
unqueue(struct mbox *mb, struct input *in)
{
	struct input *q;

	TAILQ_FOREACH(q, &mb->queue, qentry)
		if (q == in) {
			TAILQ_REMOVE(&mb->queue, in, qentry);
			mb->nqueued--;
			return;
		}
}

void
cluster_mob_begin(struct child *c, int64_t maxseq)
{
	if (c->mbox == NULL)
		return;
	c->mbox->next_seq = (uint64_t)maxseq;
	usage_forget(c->mbox);	/* the counts as the last node left them */
}

void
cluster_mob_input(struct child *c, const struct store_input *r)
{
	struct mbox *mb = c->mbox;
	struct input *in;

	if (mb == NULL)
		return;
	if ((in = input_find(r->id)) != NULL) {
		if (!in->forward)
			return;		/* queued here already */
		/* sent here while another node ran it: now it runs here */
		in->forward = 0;
		in->seq = r->seq > 0 ? (uint64_t)r->seq : ++mb->next_seq;
		if (in->seq > mb->next_seq)
			mb->next_seq = in->seq;
		in->durable = 1;
		TAILQ_INSERT_TAIL(&mb->queue, in, qentry);
		mb->nqueued++;
	} else {
		in = mbox_add(mb, r->id, r->text, r->key, (uint64_t)r->seq);
		in->attempts = r->attempts;
		in->accepted_ms = (uint64_t)r->accepted_ms;
		if (r->error != NULL && (in->error = strdup(r->error)) == NULL)
			fatal("strdup");
		in->durable = 1;
	}
	if (r->seq == 0)
		persist_input(mb, in);	/* its number, written */
}

void
cluster_mob_active(struct child *c)
{
	if (c->remote) {
		c->remote = 0;
		child_start_op(c);
	}
	mbox_kick(c);
}

void
cluster_mob_lose(struct child *c, int kill)
{
	struct mbox *mb;
	struct input *in, *t;

	if (c == NULL)
		return;
	c->remote = 1;
	c->want_run = 0;
	if (kill && c->pid > 0)
		child_condemn(c, "its lease was lost", SIGKILL);
	if ((mb = c->mbox) == NULL)
		return;
	mb->running = NULL;
	mb->busy = 0;
	TAILQ_FOREACH_SAFE(in, &mb->all, all, t) {
		if (in->forward)
			continue;
		unqueue(mb, in);
		if (!in->durable || !TAILQ_EMPTY(&in->waiters) ||
		    in->dup_of != NULL) {
			/* written (or answered) for its new node */
			in->forward = 1;
			in->seq = 0;
			continue;
		}
		mbox_forget_input(mb, in);
	}
	mb->nqueued = 0;
	mb->next_seq = 0;
	cluster_mem_forget(mb->id);
}

const char **
cluster_mob_waited(int *np)
{
	struct child *c;
	struct input *in;
	const char **v = NULL;
	int n = 0, cap = 0;

	TAILQ_FOREACH(c, &D->children, entry) {
		if (c->mbox == NULL)
			continue;
		TAILQ_FOREACH(in, &c->mbox->all, all) {
			if (!in->forward || !in->durable ||
			    TAILQ_EMPTY(&in->waiters))
				continue;
			if (n + 1 >= cap) {
				cap = cap ? cap * 2 : 16;
				if ((v = reallocarray(v, cap, sizeof(*v))) ==
				    NULL)
					fatal("reallocarray");
			}
			v[n++] = in->dup_of != NULL ? in->dup_of : in->id;
		}
	}
	if (v != NULL)
		v[n] = NULL;
	*np = n;
	return v;
}

void
cluster_mob_finished(const char *id, int state, const char *result,
    const char *error)
{
	struct child *c;
	struct input *in, *t;
	const char *status;

	status = state == IN_CONSUMED ? "completed" : state == IN_FAILED ?
	    "failed" : "abandoned";
	TAILQ_FOREACH(c, &D->children, entry) {
		if (c->mbox == NULL)
			continue;
		TAILQ_FOREACH_SAFE(in, &c->mbox->all, all, t) {
			if (!in->forward || strcmp(in->dup_of != NULL ?
			    in->dup_of : in->id, id) != 0)
				continue;
			in->state = state;
			free(in->result);
			free(in->error);
			in->result = result != NULL ? strdup(result) : NULL;
			in->error = error != NULL ? strdup(error) : NULL;
			waiters_resolve(in, status);
			if (!in->dirty)
				mbox_forget_input(c->mbox, in);
		}
	}
}

static void
left_stopped(struct stopper *s, void *arg)
{
	char *id = arg;
	struct child *c = s->v[0];

	c->held = 0;
	stopper_free(s);
	cluster_stopped(id);
	free(id);
}

void
cluster_mob_leave(struct child *c)
{
	char *id;

	if ((id = strdup(c->name)) == NULL)
		fatal("strdup");
	c->want_run = 0;
	if (c->pid == 0) {
		cluster_stopped(id);
		free(id);
		return;
	}
	c->held = 1;
	(void)stopper_new(&c, 1, STOP_SEQUENTIAL, left_stopped, id);
	stoppers_poke();
}
