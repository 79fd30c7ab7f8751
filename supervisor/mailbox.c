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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "log.h"
#include "mobkitd.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"

#define HISTORY_KEEP	1000	/* terminal inputs kept per member */
#define RETRY_BASE_MS	200
#define RETRY_MAX_MS	10000

const char *const input_state_names[] = { "queued", "running", "consumed",
    "failed", "abandoned" };

static struct input	*inputs_by_id;	/* every input, by id */
static uint64_t		 next_input;
static char		 boot[24];

static void	dispatch(struct mbox *);
static void	dispatch_later(void *);
static void	retry_cb(struct ev_loop *, ev_timer *, int);

/* --- lookups ------------------------------------------------------- */

struct input *
input_find(const char *id)
{
	struct input *in;

	HASH_FIND_STR(inputs_by_id, id, in);
	return in;
}

static struct input *
key_find(struct mbox *mb, const char *key)
{
	struct input *in;

	HASH_FIND(hkey, mb->by_key, key, strlen(key), in);
	return in;
}

int
input_terminal(const struct input *in)
{
	return in->state == IN_CONSUMED || in->state == IN_FAILED ||
	    in->state == IN_ABANDONED;
}

/* --- lifecycle of a mailbox ---------------------------------------- */

struct mbox *
mbox_new(const char *id, const struct profile_conf *p)
{
	struct mbox *mb;

	if ((mb = calloc(1, sizeof(*mb))) == NULL ||
	    (mb->id = strdup(id)) == NULL)
		fatal("calloc");
	TAILQ_INIT(&mb->queue);
	TAILQ_INIT(&mb->all);
	mbox_set_profile(mb, p);
	ev_init(&mb->retry, retry_cb);
	mb->retry.data = mb;
	if (boot[0] == '\0')
		snprintf(boot, sizeof(boot), "%llx",
		    (unsigned long long)wall_ms());
	return mb;
}

void
mbox_set_profile(struct mbox *mb, const struct profile_conf *p)
{
	free(mb->profile);
	mb->profile = strdup(p != NULL ? p->name : "");
	mb->capacity = p != NULL ? p->mailbox_capacity : 10000;
	mb->max_attempts = p != NULL ? p->max_attempts : 3;
	mb->comms = p != NULL ? p->comms : 1;
}

static void
input_free(struct mbox *mb, struct input *in)
{
	store_input_drop(in);
	HASH_DEL(inputs_by_id, in);
	if (in->key != NULL)
		HASH_DELETE(hkey, mb->by_key, in);
	free(in->key);
	free(in->text);
	free(in->result);
	free(in->error);
	free(in);
}

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
	free(mb->snapshot);
	free(mb->profile);
	free(mb->id);
	free(mb);
}

/* Forget the oldest finished inputs beyond the history we keep. */
static void
prune(struct mbox *mb)
{
	struct input *in, *t;

	TAILQ_FOREACH_SAFE(in, &mb->all, all, t) {
		if (mb->nall <= HISTORY_KEEP)
			break;
		if (!input_terminal(in) || in->key != NULL ||
		    !TAILQ_EMPTY(&in->waiters))
			continue;
		TAILQ_REMOVE(&mb->all, in, all);
		mb->nall--;
		store_input_forget(mb, in);
		input_free(mb, in);
	}
}

/* --- state changes --------------------------------------------------- */

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

/* Move an input to a terminal state, record it, resolve its waiters. */
static void
input_finish(struct mbox *mb, struct input *in, int state,
    const char *text, const char *error)
{
	static const char *const status[] = { NULL, NULL, "completed",
	    "failed", "abandoned" };

	if (in->state == IN_QUEUED) {
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
	store_input(mb, in);
	input_event(mb, in, state == IN_CONSUMED ? "input.consumed" :
	    state == IN_FAILED ? "input.failed" : "input.abandoned");
	waiters_resolve(in, status[state]);
	prune(mb);
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
	store_input(mb, in);
}

/* --- accepting ------------------------------------------------------- */

/* Create an input at the tail of the queue (also used by store.c). */
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
 * *inp is the input (the original one for a duplicate).
 */
int
mbox_accept(struct child *c, const char *text, const char *key,
    struct input **inp, const char **reason)
{
	struct mbox *mb = c != NULL ? c->mbox : NULL;
	struct input *in;

	*inp = NULL;
	if (D->shutting_down) {
		*reason = "daemon shutting down";
		return SEND_REJECTED;
	}
	if (mb == NULL) {
		*reason = "unknown member";
		return SEND_REJECTED;
	}
	if (key != NULL && (in = key_find(mb, key)) != NULL) {
		*inp = in;
		return SEND_DEDUPLICATED;
	}
	if (mb->retiring || c->removing) {
		*reason = mb->retiring ? "member retiring" : "member gone";
		return SEND_REJECTED;
	}
	if (mb->nqueued >= mb->capacity) {
		*reason = "mailbox full";
		return SEND_REJECTED;
	}
	in = mbox_add(mb, NULL, text, key, 0);
	store_input(mb, in);
	input_event(mb, in, "input.accepted");
	*inp = in;
	if (store_enabled())
		store_after_commit(dispatch_later, strdup(mb->id));
	else
		dispatch(mb);
	return SEND_ACCEPTED;
}

/* After the commit that made an input durable, run it. */
static void
dispatch_later(void *arg)
{
	struct child *c = child_find(arg);

	if (c != NULL && c->mbox != NULL)
		dispatch(c->mbox);
	free(arg);
}

/*
 * Append a turn's messages (a JSON array) to the conversation, itself a
 * JSON array kept as text: amortised O(turn), never O(conversation).
 */
void
mbox_snapshot_append(struct mbox *mb, const char *messages)
{
	size_t n = strlen(messages), need;
	char *nb;

	if (n < 2 || messages[0] != '[' || messages[n - 1] != ']' ||
	    strcmp(messages, "[]") == 0)
		return;
	need = mb->snaplen + n + 2;
	if (need > mb->snapcap) {
		size_t cap = mb->snapcap ? mb->snapcap : 256;

		while (cap < need)
			cap *= 2;
		if ((nb = realloc(mb->snapshot, cap)) == NULL)
			fatal("realloc");
		mb->snapshot = nb;
		mb->snapcap = cap;
	}
	if (mb->snaplen == 0) {
		memcpy(mb->snapshot, messages, n + 1);
		mb->snaplen = n;
		return;
	}
	/* "[a,b]" + "[c]" -> "[a,b,c]" */
	mb->snapshot[mb->snaplen - 1] = ',';
	memcpy(mb->snapshot + mb->snaplen, messages + 1, n);
	mb->snaplen += n - 1;
	mb->snapshot[mb->snaplen] = '\0';
}

/* --- talking to the worker ------------------------------------------ */

static struct child *
mbox_child(struct mbox *mb)
{
	return mb->child;
}

static int
worker_send(struct child *c, msgpack_sbuffer *sb)
{
	if (c == NULL || c->peer == NULL)
		return -1;
	return peer_send_sbuf(c->peer, sb);
}

/* After HELLO: the profile, the member's text, its peers, the snapshot. */
void
mbox_worker_hello(struct child *c)
{
	const struct profile_conf *p = config_profile(D->cfg, c->mbox->profile);
	struct mbox *mb = c->mbox;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const char *key;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 14);
	mp_kint(&pk, "t", MSG_CONFIG);
	mp_kstr(&pk, "id", mb->id);
	mp_kstr(&pk, "mob", D->cfg->mob_id);
	mp_kstr(&pk, "provider", p ? p->provider : "echo");
	mp_kstr_or_nil(&pk, "model", p ? p->model : NULL);
	mp_kstr_or_nil(&pk, "base_url", p ? p->base_url : NULL);
	key = p && p->api_key_env ? getenv(p->api_key_env) : NULL;
	mp_kstr_or_nil(&pk, "api_key", key);
	mp_kstr_or_nil(&pk, "system", p ? p->system : NULL);
	mp_kstr_or_nil(&pk, "instructions", c->conf->instructions);
	mp_kint(&pk, "request_timeout_ms", p ? p->request_timeout_ms : 60000);
	mp_kbool(&pk, "comms", mb->comms);
	mp_str(&pk, "peers");
	peers_pack(&pk, mb->id);
	mp_kstr_or_nil(&pk, "snapshot", mb->snapshot);
	mp_kint(&pk, "protocol", PROTO_VERSION);
	(void)worker_send(c, &sb);
	msgpack_sbuffer_destroy(&sb);
	mb->busy = 0;
}

/* Hand the next due input to an idle, healthy worker. */
static void
dispatch(struct mbox *mb)
{
	struct child *c = mbox_child(mb);
	struct input *in, *next_due = NULL;
	uint64_t now = mono_ms(), wait = 0;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (c == NULL || c->state != CS_HEALTHY || c->peer == NULL ||
	    mb->busy || mb->running != NULL || D->shutting_down)
		return;
	TAILQ_FOREACH(in, &mb->queue, qentry) {
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
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	mp_kint(&pk, "t", MSG_RUN);
	mp_kstr(&pk, "input_id", in->id);
	mp_kstr(&pk, "text", in->text);
	mp_kint(&pk, "attempt", in->attempts);
	if (worker_send(c, &sb) == -1) {
		log_warnx("%s: cannot hand %s to the worker", mb->id, in->id);
		requeue(mb, in, RETRY_BASE_MS);
		mb->busy = 0;
	}
	msgpack_sbuffer_destroy(&sb);
}

static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	dispatch(w->data);
}

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

/* RUN_DONE: completed, failed (retry or fail) or interrupted. */
static void
run_done(struct child *c, const msgpack_object *m)
{
	struct mbox *mb = c->mbox;
	char id[INPUT_ID_MAX], status[16];
	char *text = mp_strdup(m, "text"), *err = mp_strdup(m, "error");
	char *added = mp_strdup(m, "messages");
	struct input *in;
	uint64_t delay;

	mb->busy = 0;
	if (mp_copy_str(m, "input_id", id, sizeof(id)) == -1 ||
	    mp_copy_str(m, "status", status, sizeof(status)) == -1) {
		log_warnx("%s: RUN_DONE without input_id or status", mb->id);
		goto out;
	}
	in = input_find(id);
	if (added != NULL && strcmp(status, "completed") == 0) {
		mbox_snapshot_append(mb, added);
		store_snapshot_append(mb, added);
	}
	if (in == NULL || in != mb->running) {
		log_debug("%s: late result for %s ignored", mb->id, id);
		goto out;
	}
	if (strcmp(status, "completed") == 0)
		input_finish(mb, in, IN_CONSUMED, text ? text : "", NULL);
	else if (strcmp(status, "interrupted") == 0)
		input_finish(mb, in, IN_ABANDONED, NULL, "interrupted");
	else if (in->attempts >= mb->max_attempts)
		input_finish(mb, in, IN_FAILED, NULL, err ? err : "failed");
	else {
		free(in->error);
		in->error = err ? strdup(err) : NULL;
		delay = backoff_delay(RETRY_BASE_MS, RETRY_MAX_MS,
		    in->attempts);
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

/* send_message(to, text) from a worker's model. */
static void
tool_send(struct child *c, const msgpack_object *m)
{
	struct mbox *mb = c->mbox;
	char call[128], to[128];
	char *text = mp_strdup(m, "text");
	const char *err = NULL, *reason;
	struct input *in = NULL;
	struct child *peer;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (mp_copy_str(m, "call_id", call, sizeof(call)) == -1 ||
	    mp_copy_str(m, "to", to, sizeof(to)) == -1 || text == NULL) {
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
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	mp_kint(&pk, "t", MSG_TOOL_RESULT);
	mp_kstr(&pk, "call_id", call);
	mp_kbool(&pk, "ok", err == NULL);
	mp_kstr_or_nil(&pk, "error", err);
	mp_kstr_or_nil(&pk, "input_id", in ? in->id : NULL);
	(void)worker_send(c, &sb);
	msgpack_sbuffer_destroy(&sb);
	free(text);
}

/* A mailbox message from a worker; -1 when it is not one. */
int
mbox_msg(struct child *c, int type, const msgpack_object *m)
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

/* --- member control -------------------------------------------------- */

/* Abandon every queued input (and the running one, if any). */
int
mbox_abandon_all(struct mbox *mb, const char *reason, int running_too)
{
	struct input *in, *t;
	int n = 0;

	TAILQ_FOREACH_SAFE(in, &mb->queue, qentry, t) {
		input_finish(mb, in, IN_ABANDONED, NULL, reason);
		n++;
	}
	if (running_too && mb->running != NULL) {
		input_finish(mb, mb->running, IN_ABANDONED, NULL, reason);
		n++;
	}
	return n;
}

/* interrupt: cancel the running turn now. */
int
mbox_interrupt(struct child *c, const char **id)
{
	struct mbox *mb = c->mbox;
	struct input *in = mb->running;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (in == NULL)
		return -1;
	*id = in->id;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kint(&pk, "t", MSG_INTERRUPT);
	mp_kstr(&pk, "input_id", in->id);
	(void)worker_send(c, &sb);
	msgpack_sbuffer_destroy(&sb);
	/* abandoned now; the worker stays busy until it says it stopped */
	input_finish(mb, in, IN_ABANDONED, NULL, "interrupted");
	return 0;
}

/* reset: forget the queue and the conversation (not while a turn runs). */
int
mbox_reset(struct child *c, int *abandoned)
{
	struct mbox *mb = c->mbox;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (mb->running != NULL || mb->busy)
		return -1;
	*abandoned = mbox_abandon_all(mb, "reset", 0);
	free(mb->snapshot);
	mb->snapshot = NULL;
	mb->snaplen = mb->snapcap = 0;
	store_snapshot_clear(mb);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kint(&pk, "t", MSG_RESET);
	(void)worker_send(c, &sb);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

/* Waiters and --wait ------------------------------------------------- */

int
mbox_pending(const struct mbox *mb)
{
	return mb->nqueued + (mb->running != NULL);
}

/* Pack the members verb's entry for one member. */
void
mbox_pack_member(msgpack_packer *pk, struct child *c)
{
	struct mbox *mb = c->mbox;

	msgpack_pack_map(pk, 8);
	mp_kstr(pk, "id", mb->id);
	mp_kstr(pk, "profile", mb->profile);
	mp_kstr(pk, "state", mb->retiring && c->state == CS_HEALTHY ?
	    "retiring" : cstate_names[c->state]);
	if (c->pid > 0)
		mp_kint(pk, "pid", c->pid);
	else
		mp_knil(pk, "pid");
	mp_kint(pk, "queued", mb->nqueued);
	mp_kstr_or_nil(pk, "running", mb->running ? mb->running->id : NULL);
	mp_kint(pk, "restarts", c->restarts);
	mp_str(pk, "peers");
	peers_pack(pk, mb->id);
}

void
mbox_pack_inputs(msgpack_packer *pk, struct mbox *mb)
{
	struct input *in;

	msgpack_pack_array(pk, (size_t)mb->nall);
	TAILQ_FOREACH(in, &mb->all, all) {
		msgpack_pack_map(pk, 7);
		mp_kstr(pk, "input_id", in->id);
		mp_kstr(pk, "state", input_state_names[in->state]);
		mp_kint(pk, "attempts", in->attempts);
		mp_kstr_or_nil(pk, "key", in->key);
		mp_kstr_or_nil(pk, "error", in->error);
		mp_kstr_or_nil(pk, "result", in->result);
		mp_kint(pk, "accepted_ms", (int64_t)in->accepted_ms);
	}
}

/* Shutdown's drain: how many turns are still running. */
int
mbox_running_total(void)
{
	struct child *c;
	int n = 0;

	TAILQ_FOREACH(c, &D->children, entry)
		if (c->mbox != NULL && (c->mbox->running != NULL ||
		    c->mbox->busy) && c->pid != 0)
			n++;
	return n;
}
