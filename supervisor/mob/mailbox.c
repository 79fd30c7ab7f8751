/*
 * mailbox.c: every member's mailbox lives here, in the root, so that a
 * worker may die at any instant and lose nothing.  An input is queued,
 * then running on the worker, then consumed, failed (out of attempts) or
 * abandoned.  A run that fails goes back to the queue with its attempts
 * raised and a delay, and the queue behind it keeps moving.  When the
 * worker dies mid-run its input is queued again; its result is recorded
 * once.  With state_dir every change is written ahead (store.c).
 */
#include <sys/queue.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uthash.h>

#include "log.h"
#include "mpack.h"
#include "msgtab.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "mob/conversation.h"
#include "mob/mailbox.h"
#include "mob/mcp.h"
#include "mob/members.h"
#include "mob/persist.h"
#include "mob/mailbox_int.h"
#include "store.h"
#include "cluster.h"

#define RETRY_BASE_MS	200
#define RETRY_MAX_MS	10000

const char *const input_state_names[] = { "queued", "running", "consumed",
    "failed", "abandoned" };

static struct input	*inputs_by_id;	/* every input in memory, by id */
static uint64_t		 next_input;
static char		 boot[24];

static void	dispatch(struct mbox *);
static void	dispatch_later(void *, const char *);
static void	retry_cb(struct ev_loop *, ev_timer *, int);

/* --- lookups ------------------------------------------------------- */

/* The input in memory with this id. */
struct input *
input_find(const char *id)
{
	struct input *in;

	HASH_FIND_STR(inputs_by_id, id, in);
	return in;
}

/* The live (or not yet released) input of a mailbox with this key. */
struct input *
mbox_key_find(struct mbox *mb, const char *key)
{
	struct input *in;

	HASH_FIND(hkey, mb->by_key, key, strlen(key), in);
	return in;
}

/* Consumed, failed or abandoned? */
int
input_terminal(const struct input *in)
{
	return in->state == IN_CONSUMED || in->state == IN_FAILED ||
	    in->state == IN_ABANDONED;
}

/* --- lifecycle of a mailbox ---------------------------------------- */

/* A member's mailbox, empty. */
struct mbox *
mbox_new(const char *id, const struct profile_conf *p)
{
	struct mbox *mb;

	if ((mb = calloc(1, sizeof(*mb))) == NULL ||
	    (mb->id = strdup(id)) == NULL)
		fatal("calloc");
	TAILQ_INIT(&mb->queue);
	TAILQ_INIT(&mb->all);
	TAILQ_INIT(&mb->turns);
	mbox_set_profile(mb, p);
	ev_init(&mb->retry, retry_cb);
	mb->retry.data = mb;
	if (boot[0] == '\0') {
		/* unique across nodes that share a database (and restarts
		 * within one millisecond): the time and 32 random bits */
		uint32_t rnd = (uint32_t)getpid();

		if (getentropy(&rnd, sizeof(rnd)) == -1)
			rnd ^= (uint32_t)wall_ms();	/* pid and time: enough */
		snprintf(boot, sizeof(boot), "%llx%08x",
		    (unsigned long long)wall_ms(), rnd);
	}
	return mb;
}

/* The profile's keys a mailbox uses. */
void
mbox_set_profile(struct mbox *mb, const struct profile_conf *p)
{
	free(mb->profile);
	mb->profile = strdup(p != NULL ? p->name : "");
	mb->capacity = p != NULL ? p->mailbox_capacity : 10000;
	mb->max_attempts = p != NULL ? p->max_attempts : 3;
	mb->comms = p != NULL ? p->comms : 1;
}

/* Free an input (out of every list first). */
static void
input_free(struct mbox *mb, struct input *in)
{
	persist_input_drop(in);
	HASH_DEL(inputs_by_id, in);
	if (in->key != NULL)
		HASH_DELETE(hkey, mb->by_key, in);
	free(in->key);
	free(in->text);
	free(in->dup_of);
	free(in->result);
	free(in->error);
	free(in);
}

/* A member goes: waiters hear terminated, everything is freed. */
void
mbox_free(struct mbox *mb)
{
	struct input *in, *t;

	if (mb == NULL)
		return;
	ev_timer_stop(D->loop, &mb->retry);
	TAILQ_FOREACH_SAFE(in, &mb->all, all, t) {
		waiters_resolve(in, "terminated");
		TAILQ_REMOVE(&mb->all, in, all);
		input_free(mb, in);
	}
	while (mb->done_head != NULL)
		done_drop_oldest(mb);
	free(mb->done_tab);
	history_free(mb);
	free(mb->profile);
	free(mb->id);
	free(mb);
}

/* An input leaves memory: another node has it (cluster_mob.c). */
void
mbox_forget_input(struct mbox *mb, struct input *in)
{
	TAILQ_REMOVE(&mb->all, in, all);
	mb->nall--;
	input_free(mb, in);
}

/* A finished input leaves memory; what is remembered of it stays. */
static void
input_retire(struct mbox *mb, struct input *in)
{
	if (!store_enabled())
		done_add(mb, in);
	TAILQ_REMOVE(&mb->all, in, all);
	mb->nall--;
	input_free(mb, in);
}

/* --- state changes --------------------------------------------------- */

/* An input.* event for an input. */
static void
input_event(struct mbox *mb, struct input *in, const char *type)
{
	struct evb b;

	evb_begin(&b, 4);
	mp_kstr(&b.pk, "input_id", in->id);
	mp_kstr(&b.pk, "state", input_state_names[in->state]);
	mp_kint(&b.pk, "attempts", in->attempts);
	mp_kstr_or_nil(&b.pk, "error", in->error);
	evb_emit(&b, "supervisor", mb->id, type);
}

/*
 * Move an input to a terminal state, record it, resolve its waiters.
 * Without state_dir it leaves memory now; with it, once the change is
 * committed (mbox_input_release).  The caller must not use in after.
 */
void
input_finish(struct mbox *mb, struct input *in, int state,
    const char *text, const char *error)
{
	if (in->state == IN_QUEUED && !in->forward) {
		TAILQ_REMOVE(&mb->queue, in, qentry);
		mb->nqueued--;
	}
	if (mb->running == in)
		mb->running = NULL;
	in->state = state;
	free(in->result);
	in->result = text ? strdup(text) : NULL;
	free(in->error);
	in->error = error ? strdup(error) : NULL;
	persist_input(mb, in);
	input_event(mb, in, state == IN_CONSUMED ? "input.consumed" :
	    state == IN_FAILED ? "input.failed" : "input.abandoned");
	waiters_resolve_committed(mb, in);
	if (!store_enabled())
		input_retire(mb, in);
}

/* Put an input back in the queue at its place (by sequence). */
static void
requeue(struct mbox *mb, struct input *in, uint64_t delay)
{
	struct input *q;

	if (mb->running == in)
		mb->running = NULL;
	in->state = IN_QUEUED;
	in->not_before = delay ? mono_ms() + delay : 0;
	TAILQ_FOREACH(q, &mb->queue, qentry)
		if (q->seq > in->seq)
			break;
	if (q != NULL)
		TAILQ_INSERT_BEFORE(q, in, qentry);
	else
		TAILQ_INSERT_TAIL(&mb->queue, in, qentry);
	mb->nqueued++;
	persist_input(mb, in);
}

/* --- accepting ------------------------------------------------------- */

/* Create an input at the tail of the queue (also by mob/persist.c at load). */
struct input *
mbox_add(struct mbox *mb, const char *id, const char *text, const char *key,
    uint64_t seq)
{
	struct input *in;

	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (in->text = strdup(text)) == NULL)
		fatal("calloc");
	if (id != NULL)
		snprintf(in->id, sizeof(in->id), "%s", id);
	else
		snprintf(in->id, sizeof(in->id), "in-%s-%llu", boot,
		    (unsigned long long)++next_input);
	if (key != NULL && (in->key = strdup(key)) == NULL)
		fatal("strdup");
	in->seq = seq ? seq : ++mb->next_seq;
	if (in->seq > mb->next_seq)
		mb->next_seq = in->seq;
	in->state = IN_QUEUED;
	in->accepted_ms = wall_ms();
	TAILQ_INIT(&in->waiters);
	HASH_ADD_STR(inputs_by_id, id, in);
	if (in->key != NULL)
		HASH_ADD_KEYPTR(hkey, mb->by_key, in->key, strlen(in->key), in);
	TAILQ_INSERT_TAIL(&mb->all, in, all);
	mb->nall++;
	TAILQ_INSERT_TAIL(&mb->queue, in, qentry);
	mb->nqueued++;
	return in;
}

/*
 * send: accept, deduplicate or reject one input.  On accept or dedup
 * *inp is the input (the original one for a duplicate; a finished one is
 * a copy, valid until the next call).  With state_dir an accepted input
 * is durable, and is run, only once committed: until then in->durable is
 * 0 and whoever answers must wait for the commit (store_after_commit).
 */
int
mbox_accept(struct child *c, const char *text, const char *key,
    struct input **inp, const char **reason)
{
	struct mbox *mb = c != NULL ? c->mbox : NULL;
	struct input *in;
	const char *f;

	*inp = NULL;
	if (D->shutting_down) {
		*reason = "daemon shutting down";
		return SEND_REJECTED;
	}
	if (mb == NULL) {
		*reason = "unknown member";
		return SEND_REJECTED;
	}
	if (key != NULL) {
		switch (mbox_recall(mb, key, inp)) {
		case 1:
			return SEND_DEDUPLICATED;
		case -1:
			*reason = "store: cannot read the deduplication index";
			return SEND_REJECTED;
		}
	}
	if (mb->retiring || c->removing) {
		*reason = mb->retiring ? "member retiring" : "member gone";
		return SEND_REJECTED;
	}
	if ((f = store_failure()) != NULL) {
		*reason = f;
		return SEND_REJECTED;
	}
	if (cluster_enabled() && !cluster_runs(mb->id)) {
		/* another node runs it: written for that node */
		in = mbox_add(mb, NULL, text, key, 0);
		TAILQ_REMOVE(&mb->queue, in, qentry);
		mb->nqueued--;
		mb->next_seq--;
		in->seq = 0;
		in->forward = 1;
		*inp = in;
		persist_input(mb, in);
		return SEND_ACCEPTED;
	}
	if (mb->nqueued >= mb->capacity) {
		*reason = "mailbox full";
		return SEND_REJECTED;
	}
	in = mbox_add(mb, NULL, text, key, 0);
	*inp = in;
	if (!store_enabled()) {
		in->durable = 1;
		input_event(mb, in, "input.accepted");
		dispatch(mb);
		return SEND_ACCEPTED;
	}
	persist_input(mb, in);
	store_after_commit(dispatch_later, strdup(mb->id));
	return SEND_ACCEPTED;
}

/* After the commit that made an input durable, run it. */
static void
dispatch_later(void *arg, const char *err)
{
	struct child *c = child_find(arg);

	if (err == NULL && c != NULL && c->mbox != NULL)
		dispatch(c->mbox);
	free(arg);
}

/* The store could not take a new input: it was never accepted. */
static void
input_reject(struct mbox *mb, struct input *in, const char *err)
{
	struct evb b;

	log_warnx("%s: %s was not saved; rejected: %s", mb->id, in->id, err);
	evb_begin(&b, 3);
	mp_kstr(&b.pk, "input_id", in->id);
	mp_kstr_or_nil(&b.pk, "key", in->key);
	mp_kstr(&b.pk, "reason", err);
	evb_emit(&b, "supervisor", mb->id, "input.rejected");
	if (in->state == IN_QUEUED) {
		TAILQ_REMOVE(&mb->queue, in, qentry);
		mb->nqueued--;
	}
	if (mb->running == in)
		mb->running = NULL;
	waiters_reject(in, err);
	TAILQ_REMOVE(&mb->all, in, all);
	mb->nall--;
	input_free(mb, in);
}

/*
 * The store's word on an input's row: committed (err NULL: the input is
 * durable, input.accepted), or not: a new input is rejected, an update
 * of one already on disk is written again with the retry.
 */
void
mbox_input_saved(const char *member, const char *id, const char *err)
{
	struct input *in = input_find(id);
	struct child *c = child_find(member);
	struct mbox *mb;

	if (in == NULL || c == NULL || (mb = c->mbox) == NULL)
		return;
	if (err == NULL) {
		if (!in->durable) {
			in->durable = 1;
			input_event(mb, in, "input.accepted");
		}
	} else if (in->durable)
		persist_input(mb, in);
	else
		input_reject(mb, in, err);
}

/*
 * The database found another input (orig) holding a new input's key
 * (cluster-wide deduplication, mobkit.accept()): this one was never
 * taken; whoever waits on it is answered with the original.
 */
void
mbox_input_deduped(const char *member, const char *id, const char *orig)
{
	struct input *in = input_find(id);
	struct child *c = child_find(member);
	struct mbox *mb;

	if (in == NULL || c == NULL || (mb = c->mbox) == NULL ||
	    in->durable)
		return;
	log_info("%s: %s duplicates %s (its key %s)", mb->id, in->id, orig,
	    in->key != NULL ? in->key : "-");
	if (!in->forward) {
		TAILQ_REMOVE(&mb->queue, in, qentry);
		mb->nqueued--;
		in->forward = 1;
	}
	free(in->dup_of);
	if ((in->dup_of = strdup(orig)) == NULL)
		fatal("strdup");
	in->durable = 1;
}

/* A finished input is on disk: it leaves memory (read back from disk). */
void
mbox_input_release(const char *member, const char *id)
{
	struct input *in = input_find(id);
	struct child *c = child_find(member);

	if (in == NULL || c == NULL || c->mbox == NULL || !in->durable ||
	    in->dirty || !TAILQ_EMPTY(&in->waiters))
		return;
	if (in->forward || in->dup_of != NULL)
		mbox_forget_input(c->mbox, in);	/* its node has it */
	else if (input_terminal(in))
		input_retire(c->mbox, in);
}

/* --- talking to the worker ------------------------------------------ */

/* The member's child. */
static struct child *
mbox_child(struct mbox *mb)
{
	return mb->child;
}

/* A message to the member's worker; -1 when it has no peer. */
int
mbox_worker_send(struct child *c, struct msgw *w)
{
	if (c == NULL || c->peer == NULL) {
		msgw_free(w);
		return -1;
	}
	return msgw_send(w, c->peer, 0);
}

/*
 * Free a conversation once handed over.  A long one leaves the heap in
 * pieces (the reads and the frame around it): give those back at once,
 * rather than keep the peak of the last hand-over resident.
 */
static void
handover_free(char *snap)
{
	size_t n = snap != NULL ? strlen(snap) : 0;

	free(snap);
	if (n > 1024 * 1024)
		(void)malloc_trim(0);
}

/* The profile, the member's text, its peers and the conversation. */
static void
config_send(struct child *c, const char *snapshot)
{
	const struct profile_conf *p = config_profile(D->cfg, c->mbox->profile);
	struct mbox *mb = c->mbox;
	struct msgw w;
	const char *key;
	char *tools;
	size_t len;

	msgw_begin(&w, MSG_CONFIG);
	msgw_str(&w, K_ID, mb->id);
	msgw_str(&w, K_MOB, D->cfg->mob_id);
	msgw_str(&w, K_PROVIDER, p ? p->provider : "echo");
	msgw_str(&w, K_MODEL, p ? p->model : NULL);
	msgw_str(&w, K_BASE_URL, p ? p->base_url : NULL);
	key = p && p->api_key_env ? getenv(p->api_key_env) : NULL;
	msgw_str(&w, K_API_KEY, key);
	msgw_str(&w, K_SYSTEM, p ? p->system : NULL);
	msgw_str(&w, K_INSTRUCTIONS, c->conf->instructions);
	msgw_int(&w, K_REQUEST_TIMEOUT_MS, p ? p->request_timeout_ms : 60000);
	msgw_bool(&w, K_COMMS, mb->comms);
	peers_pack(msgw_key(&w, K_PEERS), mb->id);
	msgw_str(&w, K_SNAPSHOT, snapshot);
	msgw_int(&w, K_PROTOCOL, PROTO_VERSION);
	msgw_str(&w, K_PARAMS, p ? p->params : NULL);
	tools = mcp_member_tools(c);
	msgw_str(&w, K_TOOLS, tools);
	free(tools);
	len = msgw_len(&w);
	if (mbox_worker_send(c, &w) == -1)
		log_warnx("%s: cannot hand the worker its config (%zu bytes)",
		    mb->id, len);
	else if (len > HANDOVER_SLOW) {
		/* a second per 2 MiB to carry and parse it, on top */
		log_info("%s: handing over %zu bytes of conversation: %zu ms "
		    "more to become ready", mb->id, len, len / 2048);
		child_deadline_extend(c, len / 2048);
	}
}

/* Everything before the HELLO is on disk: read the conversation, send. */
static void
hello_later(void *arg, const char *err)
{
	struct child *c = child_find(arg);
	struct mbox *mb;
	char *snap;

	(void)err;	/* what is not on disk is read from the retry */
	free(arg);
	if (c == NULL || (mb = c->mbox) == NULL || c->peer == NULL ||
	    !mb->hello_pending)
		return;
	mb->hello_pending = 0;
	snap = mb->hello_reset ? NULL : store_history(mb->id,
	    HANDOVER_MAX);
	config_send(c, snap);
	handover_free(snap);
}

/*
 * After HELLO: the worker's config and conversation.  With state_dir the
 * conversation is read from the store for this hand-over only (after the
 * commit of what came before), and freed once sent.
 */
void
mbox_worker_hello(struct child *c)
{
	struct mbox *mb = c->mbox;
	char *snap;

	mb->busy = 0;
	if (store_enabled()) {
		mb->hello_pending = 1;
		mb->hello_reset = 0;
		store_after_commit(hello_later, strdup(c->name));
		return;
	}
	snap = history_join(mb);
	config_send(c, snap);
	handover_free(snap);
}

/* Hand the next due input to an idle, healthy worker. */
static void
dispatch(struct mbox *mb)
{
	struct child *c = mbox_child(mb);
	struct input *in, *next_due = NULL;
	uint64_t now = mono_ms(), wait = 0;
	struct msgw w;

	if (c == NULL || c->state != CS_HEALTHY || c->peer == NULL ||
	    mb->busy || mb->running != NULL || D->shutting_down)
		return;
	TAILQ_FOREACH(in, &mb->queue, qentry) {
		if (!in->durable)
			continue;	/* not yet committed */
		if (in->not_before <= now) {
			next_due = in;
			break;
		}
		if (wait == 0 || in->not_before - now < wait)
			wait = in->not_before - now;
	}
	if (next_due == NULL) {
		if (wait > 0 && !ev_is_active(&mb->retry)) {
			ev_timer_set(&mb->retry, (double)wait / 1000.0, 0.);
			ev_timer_start(D->loop, &mb->retry);
		}
		return;
	}
	in = next_due;
	TAILQ_REMOVE(&mb->queue, in, qentry);
	mb->nqueued--;
	in->state = IN_RUNNING;
	in->attempts++;
	mb->running = in;
	mb->busy = 1;		/* not stored: recovery queues it again */
	msgw_begin(&w, MSG_RUN);
	msgw_str(&w, K_INPUT_ID, in->id);
	msgw_str(&w, K_TEXT, in->text);
	msgw_int(&w, K_ATTEMPT, in->attempts);
	if (mbox_worker_send(c, &w) == -1) {
		log_warnx("%s: cannot hand %s to the worker", mb->id, in->id);
		requeue(mb, in, RETRY_BASE_MS);
		mb->busy = 0;
	}
}

/* A delayed retry is due. */
static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	dispatch(w->data);
}

/* The worker may be idle: hand it the next input. */
void
mbox_kick(struct child *c)
{
	if (c->mbox != NULL)
		dispatch(c->mbox);
}

/* The worker's process is gone: its running input runs again later. */
void
mbox_worker_gone(struct child *c)
{
	struct mbox *mb = c->mbox;
	struct input *in;

	if (mb == NULL)
		return;
	mb->busy = 0;
	if ((in = mb->running) != NULL) {
		log_info("%s: %s was running; queued again", mb->id, in->id);
		if (in->attempts >= mb->max_attempts)
			input_finish(mb, in, IN_FAILED, NULL,
			    "the worker died on every attempt");
		else
			requeue(mb, in, 0);
	}
	retire_progress(c);
}

/*
 * How long a failed run waits before its next attempt: the profile's
 * backoff, doubled per attempt, or the server's Retry-After when it gave
 * one; never more than retry_backoff_max_ms.
 */
static uint64_t
retry_delay(struct mbox *mb, const struct input *in, int64_t after_ms)
{
	const struct profile_conf *p = config_profile(D->cfg, mb->profile);
	int64_t base = p ? p->retry_backoff_ms : RETRY_BASE_MS;
	int64_t cap = p ? p->retry_backoff_max_ms : RETRY_MAX_MS;

	if (after_ms >= 0)
		return (uint64_t)(after_ms < cap ? after_ms : cap);
	return backoff_delay(base, cap, in->attempts);
}

/* RUN_DONE: completed, failed (retry or fail) or interrupted. */
static void
run_done(struct child *c, const struct msg_view *m)
{
	struct mbox *mb = c->mbox;
	char id[INPUT_ID_MAX], status[16];
	char *text = msgv_strdup(m, K_TEXT), *err = msgv_strdup(m, K_ERROR);
	char *added = msgv_strdup(m, K_MESSAGES);
	struct input *in;
	uint64_t delay;

	conv_note(mb, m);
	mb->busy = 0;
	if (msgv_copy(m, K_INPUT_ID, id, sizeof(id)) == -1 ||
	    msgv_copy(m, K_STATUS, status, sizeof(status)) == -1) {
		log_warnx("%s: RUN_DONE without input_id or status", mb->id);
		goto out;
	}
	in = input_find(id);
	if (added != NULL && strcmp(status, "completed") == 0) {
		if (store_enabled())
			store_snapshot_append(mb->id, added);
		else
			history_append(mb, added);
	}
	if (in == NULL || in != mb->running) {
		log_debug("%s: late result for %s ignored", mb->id, id);
		goto out;
	}
	if (strcmp(status, "completed") == 0)
		input_finish(mb, in, IN_CONSUMED, text ? text : "", NULL);
	else if (strcmp(status, "interrupted") == 0)
		input_finish(mb, in, IN_ABANDONED, NULL, "interrupted");
	else if (in->attempts >= mb->max_attempts || msgv_bool(m, K_FINAL, 0))
		input_finish(mb, in, IN_FAILED, NULL, err ? err : "failed");
	else {
		free(in->error);
		in->error = err ? strdup(err) : NULL;
		delay = retry_delay(mb, in,
		    msgv_int(m, K_RETRY_AFTER_MS, -1));
		log_info("%s: %s failed (attempt %d of %d: %s); again in "
		    "%llu ms", mb->id, in->id, in->attempts, mb->max_attempts,
		    err ? err : "?", (unsigned long long)delay);
		requeue(mb, in, delay);
	}
out:
	free(text);
	free(err);
	free(added);
	retire_progress(c);
	dispatch(mb);
	if (D->draining)
		shutdown_drain_check();
}

/* The answer to a send_message call. */
static void
tool_result(struct child *c, const char *call, const char *err,
    const char *input_id)
{
	struct msgw w;

	msgw_begin(&w, MSG_TOOL_RESULT);
	msgw_str(&w, K_CALL_ID, call);
	msgw_bool(&w, K_OK, err == NULL);
	msgw_str(&w, K_ERROR, err);
	msgw_str(&w, K_INPUT_ID, err == NULL ? input_id : NULL);
	(void)mbox_worker_send(c, &w);
}

struct tool_ack {
	char	 member[128];
	char	 call[128];
	char	 input[INPUT_ID_MAX];
};

/* The message to a peer is on disk (or could not be): now answer. */
static void
tool_saved(void *arg, const char *err)
{
	struct tool_ack *t = arg;
	struct child *c = child_find(t->member);

	if (c != NULL && c->mbox != NULL)
		tool_result(c, t->call, err, t->input);
	free(t);
}

/* send_message(to, text) from a worker's model. */
static void
tool_send(struct child *c, const struct msg_view *m)
{
	struct mbox *mb = c->mbox;
	char call[128], to[128];
	char *text = msgv_strdup(m, K_TEXT);
	const char *err = NULL, *reason;
	struct input *in = NULL;
	struct child *peer;
	struct tool_ack *t;

	if (msgv_copy(m, K_CALL_ID, call, sizeof(call)) == -1 ||
	    msgv_copy(m, K_TO, to, sizeof(to)) == -1 || text == NULL) {
		free(text);
		log_warnx("%s: malformed TOOL_SEND", mb->id);
		return;
	}
	peer = child_find(to);
	if (!mb->comms)
		err = "this member's profile does not allow messaging peers";
	else if (peer == NULL || peer->mbox == NULL)
		err = "no such member";
	else if (!peers_wired(mb->id, to))
		err = "not wired to that member";
	else if (mbox_accept(peer, text, NULL, &in, &reason) !=
	    SEND_ACCEPTED)
		err = reason;
	free(text);
	if (err == NULL && !in->durable) {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			fatal("calloc");
		snprintf(t->member, sizeof(t->member), "%s", c->name);
		snprintf(t->call, sizeof(t->call), "%s", call);
		snprintf(t->input, sizeof(t->input), "%s", in->id);
		store_after_commit(tool_saved, t);
		return;
	}
	tool_result(c, call, err, in ? in->id : NULL);
}

/* A mailbox message from a worker; -1 when it is not one. */
int
mbox_msg(struct child *c, int type, const struct msg_view *m)
{
	if (c->mbox == NULL)
		return -1;
	switch (type) {
	case MSG_RUN_DONE:
		run_done(c, m);
		return 0;
	case MSG_TOOL_SEND:
		tool_send(c, m);
		return 0;
	}
	return -1;
}
