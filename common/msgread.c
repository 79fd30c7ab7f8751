/*
 * msgread.c: a message read against its table (msgtab.c) into a view of
 * its fields by key, and the accessors of that view.
 *
 * Invariants: a message read without error has every required field,
 * each field of its table's type (strings without NUL and within their
 * length), no field twice and none its table does not declare.  The
 * reader never allocates and never reads past what msgpack-c decoded: a
 * bad message is an error naming its type and field, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msgtab.h"
#include "proto.h"

static const char *const ftype_names[] = {
	[MF_INT] = "an integer", [MF_STR] = "a string",
	[MF_BOOL] = "a boolean", [MF_BIN] = "binary", [MF_MAP] = "a map",
	[MF_ARRAY] = "an array", [MF_ANY] = "a value",
};

/*
 * The field of d under this wire key, or NULL.  Writers pack fields in
 * their table's order, so the one after the previous match (*next) is
 * tried first: a message is read in one pass over its table.
 */
static const struct msg_field *
field_of(const struct msg_def *d, const msgpack_object *k, int *next)
{
	uint32_t len = k->via.str.size;
	int i, j;

	for (i = 0; i < d->nfields; i++) {
		const struct msg_field *f;

		j = *next + i;
		if (j >= d->nfields)
			j -= d->nfields;
		f = &d->fields[j];
		if (msg_keys[f->key].len == len &&
		    memcmp(msg_keys[f->key].s, k->via.str.ptr, len) == 0) {
			*next = j + 1 < d->nfields ? j + 1 : 0;
			return f;
		}
	}
	return NULL;
}

static int	check_rec(const msgpack_object *, const struct msg_def *,
		    msg_keyset, struct msg_view *, char *, size_t);

/* A map of a record, or an array of them: NULL, or why not in sub. */
static const char *
check_records(const struct msg_field *f, const msgpack_object *o, char *sub,
    size_t subsz)
{
	struct msg_view v;
	msg_keyset keys, req;
	char e[200];
	uint32_t i;

	msg_def_keys(f->rec, &keys, &req);
	if (o->type == MSGPACK_OBJECT_MAP)
		return check_rec(o, f->rec, req, &v, sub, subsz) == 0 ? NULL :
		    sub;
	for (i = 0; i < o->via.array.size; i++)
		if (check_rec(&o->via.array.ptr[i], f->rec, req, &v, e,
		    sizeof(e)) == -1) {
			snprintf(sub, subsz, "item %u: %s", (unsigned)i, e);
			return sub;
		}
	return NULL;
}

/* Is o of the field's type?  A reason when not, else NULL. */
static const char *
check_value(const struct msg_field *f, const msgpack_object *o, char *sub,
    size_t subsz)
{
	if (o->type == MSGPACK_OBJECT_NIL && (f->flags & MF_NIL))
		return NULL;
	switch (f->type) {
	case MF_INT:
		if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
		    (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    o->via.u64 <= INT64_MAX))
			return NULL;
		if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			return "out of range";
		break;
	case MF_STR:
		if (o->type != MSGPACK_OBJECT_STR)
			break;
		if (f->max > 0 && o->via.str.size > f->max) {
			snprintf(sub, subsz, "longer than %u bytes",
			    (unsigned)f->max);
			return sub;
		}
		if (o->via.str.size > 0 &&
		    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
			return "holds a NUL byte";
		return NULL;
	case MF_BOOL:
	case MF_BIN:
		if (o->type == (f->type == MF_BOOL ? MSGPACK_OBJECT_BOOLEAN :
		    MSGPACK_OBJECT_BIN))
			return NULL;
		break;
	case MF_MAP:
	case MF_ARRAY:
		if (o->type != (f->type == MF_MAP ? MSGPACK_OBJECT_MAP :
		    MSGPACK_OBJECT_ARRAY))
			break;
		return f->rec == NULL ? NULL : check_records(f, o, sub, subsz);
	case MF_ANY:
		return NULL;
	}
	snprintf(sub, subsz, "%s, not %s", mp_type_name(o->type),
	    ftype_names[f->type]);
	return sub;
}

/* The key of one map entry of d (*f its field), or -1 with err set. */
static int
entry_key(const struct msg_def *d, const msgpack_object *k, int *next,
    const struct msg_field **f, char *err, size_t errsz)
{
	if (k->type != MSGPACK_OBJECT_STR) {
		snprintf(err, errsz, "%s: a key is %s, not a string", d->name,
		    mp_type_name(k->type));
		return -1;
	}
	if (d->type != 0 && k->via.str.size == 1 && k->via.str.ptr[0] == 't')
		return K_T;
	if ((*f = field_of(d, k, next)) != NULL)
		return (*f)->key;
	snprintf(err, errsz, "%s: field \"%.*s\": unknown", d->name,
	    (int)(k->via.str.size > 64 ? 64 : k->via.str.size),
	    k->via.str.size ? k->via.str.ptr : "");
	return -1;
}

/* Check every entry of map m against d into v. */
static int
check_rec(const msgpack_object *m, const struct msg_def *d, msg_keyset req,
    struct msg_view *v, char *err, size_t errsz)
{
	const struct msg_field *f = NULL;
	const char *why;
	char sub[240];
	uint32_t i;
	int key, next = 0;

	v->def = d;
	v->have = 0;
	if (m->type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errsz, "%s: %s, not a map", d->name,
		    mp_type_name(m->type));
		return -1;
	}
	for (i = 0; i < m->via.map.size; i++) {
		if ((key = entry_key(d, &m->via.map.ptr[i].key, &next, &f, err,
		    errsz)) == -1)
			return -1;
		if (v->have & MSG_KBIT(key)) {
			snprintf(err, errsz, "%s: field \"%s\": twice",
			    d->name, msg_keys[key].s);
			return -1;
		}
		v->have |= MSG_KBIT(key);
		v->o[key] = &m->via.map.ptr[i].val;
		if (key != K_T && (why = check_value(f, v->o[key], sub,
		    sizeof(sub))) != NULL) {
			snprintf(err, errsz, "%s: field \"%s\": %s", d->name,
			    msg_keys[key].s, why);
			return -1;
		}
	}
	if ((req & ~v->have) != 0) {
		key = msg_keyset_first(req & ~v->have);
		snprintf(err, errsz, "%s: field \"%s\": missing", d->name,
		    msg_keys[key].s);
		return -1;
	}
	return 0;
}

/* Check m against the table of its type "t". */
int
msg_read(const msgpack_object *m, struct msg_view *v, char *err,
    size_t errsz)
{
	const msgpack_object *t = NULL;
	const struct msg_def *d;
	uint32_t i;

	v->type = -1;
	v->def = NULL;
	v->have = 0;
	if (m->type == MSGPACK_OBJECT_MAP)
		for (i = 0; i < m->via.map.size && t == NULL; i++) {
			const msgpack_object *k = &m->via.map.ptr[i].key;

			if (k->type == MSGPACK_OBJECT_STR &&
			    k->via.str.size == 1 && k->via.str.ptr[0] == 't')
				t = &m->via.map.ptr[i].val;
		}
	if (t == NULL || (t->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    t->type != MSGPACK_OBJECT_NEGATIVE_INTEGER) ||
	    (t->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    t->via.u64 > INT64_MAX)) {
		snprintf(err, errsz, "message without an integer type \"t\"");
		return -1;
	}
	v->type = t->via.i64;
	if ((d = msg_def_of(v->type)) == NULL) {
		snprintf(err, errsz, "message type %lld: unknown",
		    (long long)v->type);
		return -1;
	}
	return check_rec(m, d, d->req, v, err, errsz);
}

/* Check a record against its table. */
int
msg_read_rec(const msgpack_object *m, const struct msg_def *d,
    struct msg_view *v, char *err, size_t errsz)
{
	msg_keyset keys, req;

	msg_def_keys(d, &keys, &req);
	v->type = -1;
	return check_rec(m, d, req, v, err, errsz);
}

/* --- accessors ----------------------------------------------------------- */

/* The value under key, or NULL when absent or nil. */
const msgpack_object *
msgv_obj(const struct msg_view *v, int key)
{
	if (!(v->have & MSG_KBIT(key)) ||
	    v->o[key]->type == MSGPACK_OBJECT_NIL)
		return NULL;
	return v->o[key];
}

/* The value under key as it was sent (nil included), or NULL. */
const msgpack_object *
msgv_raw(const struct msg_view *v, int key)
{
	return v->have & MSG_KBIT(key) ? v->o[key] : NULL;
}

int
msgv_has(const struct msg_view *v, int key)
{
	return msgv_obj(v, key) != NULL;
}

int64_t
msgv_int(const struct msg_view *v, int key, int64_t dflt)
{
	const msgpack_object *o = msgv_obj(v, key);

	if (o == NULL || (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->type != MSGPACK_OBJECT_NEGATIVE_INTEGER))
		return dflt;
	return o->via.i64;
}

int
msgv_bool(const struct msg_view *v, int key, int dflt)
{
	const msgpack_object *o = msgv_obj(v, key);

	return o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN ?
	    o->via.boolean : dflt;
}

/* A string field's bytes (not NUL-terminated), or NULL. */
const char *
msgv_str(const struct msg_view *v, int key, size_t *len)
{
	const msgpack_object *o = msgv_obj(v, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_STR)
		return NULL;
	*len = o->via.str.size;
	/* msgpack-c gives an empty string a NULL pointer */
	return o->via.str.size > 0 ? o->via.str.ptr : "";
}

/* A NUL-terminated copy of a string field, or NULL (absent, nil). */
char *
msgv_strdup(const struct msg_view *v, int key)
{
	const char *s;
	size_t len;
	char *p;

	if ((s = msgv_str(v, key, &len)) == NULL)
		return NULL;
	if ((p = malloc(len + 1)) == NULL)
		fatal("malloc");
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* A string field into buf; -1 when absent, nil or too long for buf. */
int
msgv_copy(const struct msg_view *v, int key, char *buf, size_t bufsz)
{
	const char *s;
	size_t len;

	if ((s = msgv_str(v, key, &len)) == NULL || len >= bufsz)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}
