/*
 * msgwrite.c: a message (or a record) packed through its table: the map's
 * size is counted as fields are written and put in its header at the end.
 *
 * Invariants: the header is reserved at begin with the size its table
 * allows (one byte under 16 fields), so nothing moves at the end; a key
 * the table does not declare, a key twice or a required one missing make
 * msgw_end fail (logged) and the message is not sent.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "log.h"
#include "msgtab.h"

/* Reserve the map header: one byte under 16 fields, else a map16. */
static void
open_map(struct msgw *w)
{
	if (w->def->type != 0) {
		w->keys = w->def->keys;
		w->req = w->def->req;
	} else
		msg_def_keys(w->def, &w->keys, &w->req);
	w->hdr = w->sb->size;
	msgpack_pack_map(&w->pk, w->def->nfields + 1 < 16 ? 0 : 16);
	w->seen = 0;
	w->n = 0;
	w->bad = 0;
}

/*
 * The writer's own buffer: its inline bytes first (no allocation for the
 * common small message), the heap past them.
 */
static int
own_write(void *data, const char *buf, size_t len)
{
	struct msgw *w = data;
	msgpack_sbuffer *sb = &w->own;
	size_t cap = sb->alloc;
	char *p;

	if (cap - sb->size < len) {
		while (cap - sb->size < len)
			cap *= 2;
		if (sb->data != w->inl)
			p = realloc(sb->data, cap);
		else if ((p = malloc(cap)) != NULL)
			memcpy(p, sb->data, sb->size);
		if (p == NULL)
			fatal("msgw: %zu bytes", cap);
		sb->data = p;
		sb->alloc = cap;
	}
	memcpy(sb->data + sb->size, buf, len);
	sb->size += len;
	return 0;
}

void
msgw_begin(struct msgw *w, int type)
{
	w->own.data = w->inl;
	w->own.size = 0;
	w->own.alloc = sizeof(w->inl);
	w->sb = &w->own;
	msgpack_packer_init(&w->pk, w, own_write);
	if ((w->def = msg_def_of(type)) == NULL)
		fatalx("msgw_begin: message type %d has no table", type);
	open_map(w);
	msgw_int(w, K_T, type);
}

/*
 * A record appended through pk: a writer's own packer, or one that writes
 * to an sbuffer (msgpack_sbuffer_write cannot be compared: it is static
 * inline).
 */
void
msgw_rec(struct msgw *w, msgpack_packer *pk, const struct msg_def *d)
{
	struct msgw *parent;

	if (pk->callback == own_write) {
		parent = pk->data;
		w->sb = &parent->own;
		msgpack_packer_init(&w->pk, parent, own_write);
	} else {
		w->sb = pk->data;
		msgpack_packer_init(&w->pk, w->sb, msgpack_sbuffer_write);
	}
	w->def = d;
	open_map(w);
}

/* Pack a key, noting it; a key not in the table spoils the message. */
msgpack_packer *
msgw_key(struct msgw *w, int key)
{
	msg_keyset bit = MSG_KBIT(key);

	if ((!(w->keys & bit) || (w->seen & bit)) && w->bad == 0) {
		w->bad = key + 1;
		w->why = "not in its table, or twice";
	}
	w->seen |= bit;
	w->n++;
	msgpack_pack_str(&w->pk, msg_keys[key].len);
	msgpack_pack_str_body(&w->pk, msg_keys[key].s, msg_keys[key].len);
	return &w->pk;
}

void
msgw_int(struct msgw *w, int key, int64_t v)
{
	msgpack_pack_int64(msgw_key(w, key), v);
}

void
msgw_str(struct msgw *w, int key, const char *s)
{
	size_t len;
	int i;

	msgw_key(w, key);
	if (s == NULL) {
		msgpack_pack_nil(&w->pk);
		return;
	}
	len = strlen(s);
	for (i = 0; i < w->def->nfields; i++)
		if (w->def->fields[i].key == key && w->def->fields[i].max > 0 &&
		    len > w->def->fields[i].max && w->bad == 0) {
			w->bad = key + 1;
			w->why = "longer than its table allows";
		}
	msgpack_pack_str(&w->pk, len);
	msgpack_pack_str_body(&w->pk, s, len);
}

void
msgw_bool(struct msgw *w, int key, int b)
{
	msgw_key(w, key);
	if (b)
		msgpack_pack_true(&w->pk);
	else
		msgpack_pack_false(&w->pk);
}

void
msgw_nil(struct msgw *w, int key)
{
	msgpack_pack_nil(msgw_key(w, key));
}

void
msgw_raw(struct msgw *w, int key, const void *p, size_t len)
{
	msgw_key(w, key);
	(void)w->pk.callback(w->pk.data, p, len);
}

/* Write the map's size into its header; -1 if the table was broken. */
int
msgw_end(struct msgw *w)
{
	unsigned char *h = (unsigned char *)w->sb->data + w->hdr;

	if (w->bad) {
		log_warnx("%s: field \"%s\": %s", w->def->name,
		    msg_keys[w->bad - 1].s, w->why);
		return -1;
	}
	if (w->req & ~w->seen) {
		log_warnx("%s: field \"%s\": missing", w->def->name,
		    msg_keys[msg_keyset_first(w->req & ~w->seen)].s);
		return -1;
	}
	if (h[0] == 0x80)
		h[0] = (unsigned char)(0x80 | w->n);
	else {
		h[1] = (unsigned char)(w->n >> 8);
		h[2] = (unsigned char)w->n;
	}
	return 0;
}

const char *
msgw_data(const struct msgw *w)
{
	return w->sb->data;
}

size_t
msgw_len(const struct msgw *w)
{
	return w->sb->size;
}

void
msgw_free(struct msgw *w)
{
	if (w->sb == &w->own && w->own.data != w->inl)
		free(w->own.data);
	w->sb = NULL;
}

/* End the message, queue it to the peer (flags: PEER_FORCE), free it. */
int
msgw_send(struct msgw *w, struct peer *p, int flags)
{
	int r = -1;

	if (msgw_end(w) == 0 && p != NULL)
		r = peer_send_flags(p, w->sb->data, w->sb->size, flags);
	msgw_free(w);
	return r;
}
