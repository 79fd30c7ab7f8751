/*
 * conversation.c: what a member has said and spent, as the operator sees
 * it: the conversation verb (its history, in memory or in the store, as
 * messages annotated with the input they answered and when), and the
 * usage verb (the tokens the server reported, per member; with
 * state_dir kept in the store's usage table, read back once a member).
 *
 * Invariants: every message appended to a history carries input_id and
 * at_ms, set here (conv_annotate) from the RUN_DONE being handled
 * (conv_note, the first thing run_done does); usage counts live in the
 * mailbox, so they survive a worker restart and go with the member.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "mpack.h"
#include "msgtab.h"
#include "timeutil.h"
#include "tojson.h"
#include "engine/engine.h"
#include "client.h"
#include "cluster.h"
#include "mob/conversation.h"
#include "mob/mailbox.h"
#include "mob/mailbox_int.h"
#include "mob/members.h"
#include "store.h"
#include "verbs.h"

/* --- noting a turn ------------------------------------------------- */

/* With state_dir, the member's usage so far is read back once. */
static void
usage_load(struct mbox *mb)
{
	int64_t v[3];

	if (mb->usage_loaded)
		return;
	mb->usage_loaded = 1;
	if (store_usage_load(mb->id, v) == 1) {
		mb->usage_in += v[0];
		mb->usage_out += v[1];
		mb->usage_turns += v[2];
	}
}

/* Forget the counts read back, so that the next read takes them from the
 * store again (a member another node ran, or runs, in a cluster). */
void
usage_forget(struct mbox *mb)
{
	mb->usage_loaded = 0;
	mb->usage_in = mb->usage_out = mb->usage_turns = 0;
}

/*
 * A RUN_DONE arrived: count the tokens it reports (optional ints) and the
 * turn, and note which input the messages it may carry belong to.
 */
void
conv_note(struct mbox *mb, const struct msg_view *m)
{
	int64_t in = msgv_int(m, K_INPUT_TOKENS, 0);
	int64_t out = msgv_int(m, K_OUTPUT_TOKENS, 0);

	usage_load(mb);
	mb->usage_in += in > 0 ? in : 0;
	mb->usage_out += out > 0 ? out : 0;
	mb->usage_turns++;
	store_usage(mb->id, mb->usage_in, mb->usage_out, mb->usage_turns);
	if (msgv_copy(m, K_INPUT_ID, mb->note_input,
	    sizeof(mb->note_input)) == -1)
		mb->note_input[0] = '\0';
	mb->note_ms = wall_ms();
}

/*
 * A turn's messages (a JSON array) with input_id and at_ms added to each
 * message that lacks them, from the noted RUN_DONE; NULL when it is not
 * an array of objects (kept as it came).  The caller frees it.
 */
char *
conv_annotate(struct mbox *mb, const char *messages)
{
	json_t *a, *m;
	char *s;
	size_t i;

	if ((a = json_loads(messages, JSON_DECODE_ANY, NULL)) == NULL)
		return NULL;
	if (!json_is_array(a)) {
		json_decref(a);
		return NULL;
	}
	json_array_foreach(a, i, m) {
		if (!json_is_object(m))
			continue;
		if (json_object_get(m, "input_id") == NULL)
			json_object_set_new(m, "input_id",
			    mb->note_input[0] ? json_string(mb->note_input) :
			    json_null());
		if (json_object_get(m, "at_ms") == NULL)
			json_object_set_new(m, "at_ms",
			    json_integer((json_int_t)(mb->note_ms ?
			    mb->note_ms : wall_ms())));
	}
	s = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(a);
	return s;
}

/* The same for the store's sink: the member by name. */
char *
conv_annotate_member(const char *member, const char *messages)
{
	struct child *c = child_find(member);

	if (c == NULL || c->mbox == NULL)
		return NULL;
	return conv_annotate(c->mbox, messages);
}

/* --- conversation ID [-n N] --------------------------------------- */

/* A key of a message, or JSON null. */
static json_t *
field_or_null(json_t *m, const char *k)
{
	json_t *v = json_object_get(m, k);

	return v != NULL ? json_incref(v) : json_null();
}

/* One message in the shape of the verb. */
static json_t *
message_out(json_t *m)
{
	json_t *o = json_object(), *at = json_object_get(m, "at_ms");

	json_object_set_new(o, "role", field_or_null(m, "role"));
	json_object_set_new(o, "content", field_or_null(m, "content"));
	json_object_set_new(o, "tool_calls", field_or_null(m, "tool_calls"));
	json_object_set_new(o, "tool_call_id", field_or_null(m,
	    "tool_call_id"));
	json_object_set_new(o, "input_id", field_or_null(m, "input_id"));
	json_object_set_new(o, "at_ms", json_is_integer(at) ?
	    json_incref(at) : json_integer(0));
	return o;
}

/* The system message the worker sends first, if the member has one. */
static json_t *
system_message(struct child *c, json_t *hist)
{
	const struct profile_conf *p = config_profile(D->cfg,
	    c->mbox->profile);
	const char *sys = p != NULL ? p->system : NULL;
	const char *ins = c->conf->instructions;
	json_t *o, *first, *at;
	char *text;

	if (sys == NULL && ins == NULL)
		return NULL;
	if (asprintf(&text, "%s%s%s", sys ? sys : "", sys && ins ? "\n\n" :
	    "", ins ? ins : "") == -1)
		fatal("asprintf");
	first = json_array_get(hist, 0);
	at = first != NULL ? json_object_get(first, "at_ms") : NULL;
	o = json_object();
	json_object_set_new(o, "role", json_string("system"));
	json_object_set_new(o, "content", json_string(text));
	json_object_set_new(o, "tool_calls", json_null());
	json_object_set_new(o, "tool_call_id", json_null());
	json_object_set_new(o, "input_id", json_null());
	json_object_set_new(o, "at_ms", json_is_integer(at) ?
	    json_incref(at) : json_integer((json_int_t)wall_ms()));
	free(text);
	return o;
}

/* The member's whole history as a JSON array (empty when none); NULL
 * when the store cannot be read. */
static json_t *
history_read(struct mbox *mb)
{
	json_t *a;
	char *s;

	s = store_enabled() ? store_history(mb->id, SIZE_MAX) :
	    history_join(mb);
	if (s == NULL)
		return json_array();
	a = json_loads(s, JSON_DECODE_ANY, NULL);
	free(s);
	if (a != NULL && !json_is_array(a)) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

/* The verb's array: [gap], [system], messages; the last n of them. */
static json_t *
conversation_build(struct child *c, const struct ctl_int *n)
{
	json_t *hist, *all = json_array(), *sys, *m, *gap;
	size_t i, from = 0, len;

	if ((hist = history_read(c->mbox)) == NULL) {
		json_decref(all);
		return NULL;
	}
	if ((sys = system_message(c, hist)) != NULL)
		json_array_append_new(all, sys);
	json_array_foreach(hist, i, m)
		if (json_is_object(m))
			json_array_append_new(all, message_out(m));
	json_decref(hist);
	len = json_array_size(all);
	if (n->set && (size_t)n->v < len)
		from = len - (size_t)n->v;
	if (from > 0) {
		hist = json_array();
		for (i = from; i < len; i++)
			json_array_append(hist, json_array_get(all, i));
		json_decref(all);
		all = hist;
	} else if (c->mbox->turns_dropped > 0) {
		gap = json_pack("{s:{s:I}}", "gap", "turns_dropped",
		    (json_int_t)c->mbox->turns_dropped);
		json_array_insert_new(all, 0, gap);
	}
	return all;
}

/*
 * A member another node runs: its conversation or usage read from the
 * database (cluster_peek), the reply sent when it is in.
 */
struct remote {
	uint64_t	 cid;
	char		*id;
	struct ctl_int	 n;
	int		 conv;
	int		 all;		/* usage of every member */
};

static void usage_pack(msgpack_packer *, struct mbox *);
static void usage_pack_all(msgpack_packer *, int);

static void
remote_done(void *arg, const char *err)
{
	struct remote *r = arg;
	struct child *c = r->id != NULL ? child_find(r->id) : NULL;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	json_t *all;

	if (err != NULL)
		reply_error(r->cid, err);
	else if (r->all) {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		usage_pack_all(&pk, 1);
		reply_ok_packed(r->cid, sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
	} else if (c == NULL || c->mbox == NULL)
		reply_error(r->cid, "the member was removed");
	else {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		if (r->conv) {
			if ((all = conversation_build(c, &r->n)) == NULL)
				json_to_mp(&pk, (all = json_array()));
			else
				json_to_mp(&pk, all);
			json_decref(all);
		} else {
			usage_forget(c->mbox);
			msgpack_pack_array(&pk, 1);
			usage_pack(&pk, c->mbox);
			if (!cluster_runs(c->name))
				usage_forget(c->mbox);
		}
		reply_ok_packed(r->cid, sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
	}
	free(r->id);
	free(r);
}

static int
remote_read(struct client *cl, struct child *c, const struct ctl_int *n,
    int conv)
{
	struct remote *r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (c != NULL && (r->id = strdup(c->name)) == NULL))
		fatal("calloc");
	r->cid = client_id(cl);
	if (n != NULL)
		r->n = *n;
	r->conv = conv;
	if (c == NULL) {
		r->all = 1;
		cluster_usage_all(remote_done, r);
	} else
		cluster_peek(c->name, remote_done, r);
	return 1;
}

/* conversation ID [-n N] */
static int
v_conversation(struct client *cl, const union ctl_args *a,
    msgpack_packer *pk)
{
	struct child *c;
	json_t *all;

	if ((c = need_member(a->conv.id)) == NULL)
		return -1;
	if (cluster_enabled() && !cluster_runs(c->name))
		return remote_read(cl, c, &a->conv.n, 1);
	if ((all = conversation_build(c, &a->conv.n)) == NULL)
		return ctl_fail("%s: cannot read the conversation from the "
		    "store", c->name);
	json_to_mp(pk, all);
	json_decref(all);
	return 0;
}

/* --- usage [ID] ------------------------------------------------------ */

static void
usage_pack(msgpack_packer *pk, struct mbox *mb)
{
	usage_load(mb);
	msgpack_pack_map(pk, 4);
	mp_kstr(pk, "id", mb->id);
	mp_kint(pk, "input_tokens", mb->usage_in);
	mp_kint(pk, "output_tokens", mb->usage_out);
	mp_kint(pk, "turns", mb->usage_turns);
}

/* usage [ID]: one member's counts, or every member's. */
static int
v_usage(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	struct child *c;

	if (a->name.name != NULL) {
		if ((c = need_member(a->name.name)) == NULL)
			return -1;
		if (cluster_enabled() && !cluster_runs(c->name))
			return remote_read(cl, c, NULL, 0);
		msgpack_pack_array(pk, 1);
		usage_pack(pk, c->mbox);
		return 0;
	}
	if (cluster_enabled())	/* the others' members from the database */
		return remote_read(cl, NULL, NULL, 0);
	usage_pack_all(pk, 0);
	return 0;
}

/* Every member's counts; remote: those of members another node runs as
 * the database has them (read just now). */
static void
usage_pack_all(msgpack_packer *pk, int remote)
{
	struct child *c;
	int n = 0, far;

	TAILQ_FOREACH(c, &D->children, entry)
		if (c->mbox != NULL && !c->removing)
			n++;
	msgpack_pack_array(pk, (size_t)n);
	TAILQ_FOREACH(c, &D->children, entry) {
		if (c->mbox == NULL || c->removing)
			continue;
		far = remote && !cluster_runs(c->name);
		if (far)
			usage_forget(c->mbox);
		usage_pack(pk, c->mbox);
		if (far)
			usage_forget(c->mbox);
	}
}

static const struct ctl_handler conversation_verbs[] = {
	{ "conversation", v_conversation },
	{ "usage", v_usage },
};
CTL_VERBS(conversation_verbs)
