/*
 * retention.c: what a mailbox remembers without state_dir: finished
 * inputs (id, key, state, attempts) for deduplication and listing, within
 * the retention limits, and the conversation, oldest turns dropped past
 * history_max_bytes.  With state_dir both are read from the store.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "mob/conversation.h"
#include "mob/mailbox.h"
#include "mob/hash.h"
#include "mob/mailbox_int.h"
#include "mob/members.h"
#include "mob/persist.h"
#include "store.h"

static struct input	 recalled;	/* a finished input, looked up */

/* --- remembering finished inputs (retention) -------------------------- */

/* input_retention_max: finished inputs remembered per member. */
int
retain_max(void)
{
	return D->cfg->input_retention_max;
}

/* Finished before this (wall ms): forgotten. */
int64_t
retain_since(void)
{
	return (int64_t)wall_ms() - D->cfg->input_retention_ms;
}

/* The bucket of a key in a table of sz (a power of two). */
static struct done **
done_slot(struct done **tab, size_t sz, const char *key)
{
	return &tab[str_fnv1a(key) & (sz - 1)];
}

/* Double the key table (load factor at most 1). */
static void
done_grow(struct mbox *mb)
{
	size_t i, nsz = mb->done_tabsz ? mb->done_tabsz * 2 : 64;
	struct done **nt, *d, *n, **slot;

	if ((nt = calloc(nsz, sizeof(*nt))) == NULL)
		fatal("calloc");
	for (i = 0; i < mb->done_tabsz; i++)
		for (d = mb->done_tab[i]; d != NULL; d = n) {
			n = d->hnext;
			slot = done_slot(nt, nsz, d->s + d->keyat);
			d->hnext = *slot;
			*slot = d;
		}
	free(mb->done_tab);
	mb->done_tab = nt;
	mb->done_tabsz = nsz;
}

/* Forget the oldest finished input remembered. */
void
done_drop_oldest(struct mbox *mb)
{
	struct done *d = mb->done_head, **p;

	if ((mb->done_head = d->next) == NULL)
		mb->done_tail = NULL;
	if (d->keyat != 0)
		for (p = done_slot(mb->done_tab, mb->done_tabsz, d->s +
		    d->keyat); *p != NULL; p = &(*p)->hnext)
			if (*p == d) {
				*p = d->hnext;
				break;
			}
	mb->ndone--;
	free(d);
}

/* Forget what is past input_retention_ms or _max, oldest first. */
void
done_trim(struct mbox *mb)
{
	int64_t since = retain_since();

	while (mb->done_head != NULL && (mb->ndone > retain_max() ||
	    (int64_t)mb->done_head->fin_ms < since))
		done_drop_oldest(mb);
}

/* Remember a finished input in a few bytes. */
void
done_add(struct mbox *mb, const struct input *in)
{
	size_t idlen = strlen(in->id), klen = in->key ? strlen(in->key) : 0;
	struct done *d, **slot;

	if ((d = malloc(offsetof(struct done, s) + idlen + 1 +
	    (in->key ? klen + 1 : 0))) == NULL)
		fatal("malloc");
	d->next = d->hnext = NULL;
	d->fin_ms = wall_ms();
	d->attempts = in->attempts > 65535 ? 65535 : (uint16_t)in->attempts;
	d->state = (uint8_t)in->state;
	d->keyat = in->key ? (uint8_t)(idlen + 1) : 0;
	memcpy(d->s, in->id, idlen + 1);
	if (in->key != NULL)
		memcpy(d->s + idlen + 1, in->key, klen + 1);
	if (mb->done_tail != NULL)
		mb->done_tail->next = d;
	else
		mb->done_head = d;
	mb->done_tail = d;
	mb->ndone++;
	if (in->key != NULL) {
		if ((size_t)mb->ndone > mb->done_tabsz)
			done_grow(mb);
		slot = done_slot(mb->done_tab, mb->done_tabsz, in->key);
		d->hnext = *slot;
		*slot = d;
	}
	done_trim(mb);
}

/* The finished input remembered with this key, if any. */
static struct done *
done_find(struct mbox *mb, const char *key)
{
	struct done *d;

	done_trim(mb);
	if (mb->done_tabsz == 0)
		return NULL;
	for (d = *done_slot(mb->done_tab, mb->done_tabsz, key); d != NULL;
	    d = d->hnext)
		if (strcmp(d->s + d->keyat, key) == 0)
			return d;
	return NULL;
}

/*
 * The input with this key, live or remembered: 1 (*inp set; a finished
 * one is a copy valid until the next call), 0 none, -1 unreadable.
 */
int
mbox_recall(struct mbox *mb, const char *key, struct input **inp)
{
	struct done *d;
	int r;

	if ((*inp = mbox_key_find(mb, key)) != NULL)
		return 1;
	free(recalled.result);
	free(recalled.error);
	memset(&recalled, 0, sizeof(recalled));
	TAILQ_INIT(&recalled.waiters);
	recalled.durable = 1;
	if (store_enabled()) {
		if ((r = persist_recall(mb->id, key, retain_since(),
		    &recalled)) == 1)
			*inp = &recalled;
		return r;
	}
	if ((d = done_find(mb, key)) == NULL)
		return 0;
	snprintf(recalled.id, sizeof(recalled.id), "%s", d->s);
	recalled.state = d->state;
	recalled.attempts = d->attempts;
	*inp = &recalled;
	return 1;
}

/* --- the conversation without state_dir ------------------------------- */

/* The profile's history_max_bytes, at most what one hand-over holds. */
static int64_t
history_max(const struct mbox *mb)
{
	const struct profile_conf *p = config_profile(D->cfg, mb->profile);
	int64_t max = p != NULL ? p->history_max_bytes : 1048576;

	return max < (int64_t)HANDOVER_MAX ? max : (int64_t)HANDOVER_MAX;
}

/* Forget the whole conversation. */
void
history_free(struct mbox *mb)
{
	struct turn *t;

	while ((t = TAILQ_FIRST(&mb->turns)) != NULL) {
		TAILQ_REMOVE(&mb->turns, t, entry);
		free(t);
	}
	mb->turn_bytes = 0;
}

/* Keep at most history_max_bytes: the oldest turns go first, counted. */
static void
history_trim(struct mbox *mb)
{
	int64_t max = history_max(mb);
	uint64_t before = mb->turns_dropped;
	struct turn *t;

	while ((int64_t)mb->turn_bytes > max &&
	    (t = TAILQ_FIRST(&mb->turns)) != NULL) {
		TAILQ_REMOVE(&mb->turns, t, entry);
		mb->turn_bytes -= t->len;
		free(t);
		mb->turns_dropped++;
	}
	if (mb->turns_dropped != before)
		log_debug("%s: conversation over %lld bytes: %llu oldest "
		    "turn(s) dropped in all", mb->id, (long long)max,
		    (unsigned long long)mb->turns_dropped);
}

/* A turn's messages (a JSON array), kept as they came, each message
 * noted with its input and time (mob/conversation.c). */
void
history_append(struct mbox *mb, const char *messages)
{
	char *noted = conv_annotate(mb, messages);
	size_t n;
	struct turn *t;

	if (noted != NULL)
		messages = noted;
	n = strlen(messages);
	if (n < 2 || messages[0] != '[' || messages[n - 1] != ']' ||
	    strcmp(messages, "[]") == 0) {
		free(noted);
		return;
	}
	if ((t = malloc(offsetof(struct turn, data) + n + 1)) == NULL)
		fatal("malloc");
	t->len = n;
	memcpy(t->data, messages, n + 1);
	free(noted);
	TAILQ_INSERT_TAIL(&mb->turns, t, entry);
	mb->turn_bytes += n;
	history_trim(mb);
}

/* The turns as one JSON array, NULL when there are none. */
char *
history_join(struct mbox *mb)
{
	struct turn *t;
	char *s;
	size_t at = 0;

	if (TAILQ_EMPTY(&mb->turns))
		return NULL;
	if ((s = malloc(mb->turn_bytes + 2)) == NULL)
		fatal("malloc");
	s[at++] = '[';
	TAILQ_FOREACH(t, &mb->turns, entry) {
		if (at > 1)
			s[at++] = ',';
		memcpy(s + at, t->data + 1, t->len - 2);
		at += t->len - 2;
	}
	s[at++] = ']';
	s[at] = '\0';
	return s;
}
