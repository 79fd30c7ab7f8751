/*
 * msgtab.c: the table of every message between mobkitd and its children,
 * the reader that checks a message against it and the writer that packs
 * one through it.
 *
 * Invariants: a key is spelt only in key_names; a message's fields are
 * only those of its table (the reader refuses any other, the writer's end
 * fails on one); the reader never allocates and never reads past what
 * msgpack-c decoded, so a bad message is an error, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "log.h"
#include "msgtab.h"
#include "proto.h"

static const struct {
	const char	*s;
	uint8_t		 len;
} key_names[K__N] = {
#define K(k, s)	[k] = { s, sizeof(s) - 1 }
	K(K_T, "t"), K(K_VERSION, "version"), K(K_NAME, "name"),
	K(K_PID, "pid"), K(K_SEQ, "seq"), K(K_EVENT_TYPE, "event_type"),
	K(K_PAYLOAD, "payload"), K(K_ID, "id"), K(K_MOB, "mob"),
	K(K_PROVIDER, "provider"), K(K_MODEL, "model"),
	K(K_BASE_URL, "base_url"), K(K_API_KEY, "api_key"),
	K(K_SYSTEM, "system"), K(K_INSTRUCTIONS, "instructions"),
	K(K_REQUEST_TIMEOUT_MS, "request_timeout_ms"), K(K_COMMS, "comms"),
	K(K_PEERS, "peers"), K(K_SNAPSHOT, "snapshot"),
	K(K_PROTOCOL, "protocol"), K(K_INPUT_ID, "input_id"),
	K(K_TEXT, "text"), K(K_ATTEMPT, "attempt"), K(K_STATUS, "status"),
	K(K_ERROR, "error"), K(K_MESSAGES, "messages"),
	K(K_CALL_ID, "call_id"), K(K_TO, "to"), K(K_OK, "ok"),
	K(K_VERB, "verb"), K(K_ARGS, "args"), K(K_RESULT, "result"),
	K(K_ROUTES, "routes"), K(K_RECIPIENT, "recipient"),
	K(K_CHANNEL, "channel"), K(K_SINK, "sink"), K(K_TARGET, "target"),
	K(K_RETRY_MAX, "retry_max"), K(K_BACKOFF_MS, "backoff_ms"),
	K(K_RATE_LIMIT, "rate_limit_per_minute"), K(K_SOURCE, "source"),
	K(K_NOW_MS, "now_ms"), K(K_SCHEDULES, "schedules"),
	K(K_KIND, "kind"), K(K_EXPR, "expr"), K(K_TIMEZONE, "timezone"),
	K(K_ENABLED, "enabled"), K(K_JITTER_MS, "jitter_ms"),
	K(K_CATCH_UP, "catch_up"), K(K_LAST_DUE_MS, "last_due_ms"),
	K(K_SCHEDULE_ID, "schedule_id"), K(K_DUE_MS, "due_ms"),
	K(K_DELIVERY_ID, "delivery_id"), K(K_KEY, "key"),
	K(K_ATTEMPTS_DONE, "attempts_done"), K(K_SMTP_URL, "smtp_url"),
	K(K_MAIL_FROM, "mail_from"), K(K_AT_MS, "at_ms"), K(K_FINAL, "final"),
	K(K_ROUTE_ID, "route_id"), K(K_ROUTE, "route"),
	K(K_TARGET_MODULE, "target_module"),
#undef K
};

_Static_assert(K__N <= 64, "a field set is one uint64_t");

/* --- the tables ---------------------------------------------------------- */

#define REQ	MF_REQ
#define OPT	0
#define NIL	MF_NIL
#define F(k, ty, fl)		{ k, ty, fl, 0, NULL }
#define FS(k, fl, max)		{ k, MF_STR, fl, max, NULL }
#define FR(k, ty, fl, rec)	{ k, ty, fl, 0, rec }
#define DEF(t, n, f)	{ t, n, f, (int)(sizeof(f) / sizeof(f[0])), 0, 0 }
#define NONE		{ 0, 0, 0, 0, NULL }	/* a message of "t" alone */

static const struct msg_field f_hello[] = {
	F(K_VERSION, MF_INT, REQ), FS(K_NAME, OPT, 0), F(K_PID, MF_INT, OPT),
};
static const struct msg_field f_none[] = { NONE };
static const struct msg_field f_event[] = {
	FS(K_EVENT_TYPE, REQ, 127), F(K_PAYLOAD, MF_MAP, OPT | NIL),
};
static const struct msg_field f_seq[] = { F(K_SEQ, MF_INT, REQ) };
static const struct msg_field f_config[] = {
	FS(K_ID, REQ, 0), FS(K_MOB, REQ, 0), FS(K_PROVIDER, REQ, 0),
	FS(K_MODEL, OPT | NIL, 0), FS(K_BASE_URL, OPT | NIL, 0),
	FS(K_API_KEY, OPT | NIL, 0), FS(K_SYSTEM, OPT | NIL, 0),
	FS(K_INSTRUCTIONS, OPT | NIL, 0),
	F(K_REQUEST_TIMEOUT_MS, MF_INT, OPT), F(K_COMMS, MF_BOOL, OPT),
	F(K_PEERS, MF_ARRAY, OPT), FS(K_SNAPSHOT, OPT | NIL, 0),
	F(K_PROTOCOL, MF_INT, OPT),
};
static const struct msg_field f_run[] = {
	FS(K_INPUT_ID, REQ, 63), FS(K_TEXT, REQ, 0),
	F(K_ATTEMPT, MF_INT, OPT),
};
static const struct msg_field f_interrupt[] = { FS(K_INPUT_ID, REQ, 63) };
static const struct msg_field f_run_done[] = {
	FS(K_INPUT_ID, REQ, 63), FS(K_STATUS, REQ, 15),
	FS(K_TEXT, OPT | NIL, 0), FS(K_ERROR, OPT | NIL, 0),
	FS(K_MESSAGES, OPT | NIL, 0),
};
static const struct msg_field f_tool_send[] = {
	FS(K_CALL_ID, REQ, 127), FS(K_TO, REQ, 127), FS(K_TEXT, REQ, 0),
};
static const struct msg_field f_tool_result[] = {
	FS(K_CALL_ID, REQ, 127), F(K_OK, MF_BOOL, REQ),
	FS(K_ERROR, OPT | NIL, 0), FS(K_INPUT_ID, OPT | NIL, 63),
};
static const struct msg_field f_mod_call[] = {
	F(K_ID, MF_INT, REQ), FS(K_VERB, REQ, 31), F(K_ARGS, MF_MAP, REQ),
};
static const struct msg_field f_mod_result[] = {
	F(K_ID, MF_INT, REQ), F(K_OK, MF_BOOL, REQ), F(K_RESULT, MF_ANY, OPT),
	FS(K_ERROR, OPT | NIL, 0),
};
static const struct msg_field f_route[] = {
	FS(K_ID, REQ, 0), FS(K_RECIPIENT, REQ, 0), FS(K_CHANNEL, REQ, 0),
	FS(K_SINK, REQ, 0), FS(K_TARGET, REQ, 0), F(K_RETRY_MAX, MF_INT, REQ),
	F(K_BACKOFF_MS, MF_INT, REQ), F(K_RATE_LIMIT, MF_INT, REQ),
	FS(K_SOURCE, OPT, 0),
};
const struct msg_def msg_rec_route = DEF(0, "route", f_route);
static const struct msg_field f_resolution[] = {
	FS(K_ROUTE_ID, REQ, 0), FS(K_ROUTE, OPT | NIL, 0),
	FS(K_RECIPIENT, REQ, 0), FS(K_CHANNEL, REQ, 0), FS(K_SINK, REQ, 0),
	FS(K_TARGET, REQ, 0), FS(K_TARGET_MODULE, OPT, 0),
	F(K_RETRY_MAX, MF_INT, REQ), F(K_BACKOFF_MS, MF_INT, REQ),
	F(K_RATE_LIMIT, MF_INT, REQ),
};
const struct msg_def msg_rec_resolution = DEF(0, "resolution",
    f_resolution);
static const struct msg_field f_routes[] = {
	FR(K_ROUTES, MF_ARRAY, REQ, &msg_rec_route),
};
static const struct msg_field f_schedule[] = {
	FS(K_ID, REQ, 0), FS(K_KIND, REQ, 15), FS(K_EXPR, REQ, 255),
	FS(K_TIMEZONE, REQ, 63), F(K_ENABLED, MF_BOOL, OPT),
	F(K_JITTER_MS, MF_INT, OPT), F(K_CATCH_UP, MF_BOOL, OPT),
	F(K_LAST_DUE_MS, MF_INT, OPT | NIL),
};
const struct msg_def msg_rec_schedule = DEF(0, "schedule", f_schedule);
static const struct msg_field f_schedules[] = {
	F(K_NOW_MS, MF_INT, OPT),
	FR(K_SCHEDULES, MF_ARRAY, REQ, &msg_rec_schedule),
};
static const struct msg_field f_fire[] = {
	FS(K_SCHEDULE_ID, REQ, 127), F(K_DUE_MS, MF_INT, REQ),
};
static const struct msg_field f_fired[] = {
	FS(K_SCHEDULE_ID, REQ, 127), F(K_DUE_MS, MF_INT, REQ),
	FS(K_STATUS, REQ, 15),
};
static const struct msg_field f_deliver[] = {
	FS(K_DELIVERY_ID, REQ, 47), FS(K_SINK, REQ, 0), FS(K_TARGET, REQ, 0),
	FS(K_PAYLOAD, REQ, 0), FS(K_KEY, REQ, 0), F(K_RETRY_MAX, MF_INT, REQ),
	F(K_BACKOFF_MS, MF_INT, REQ), F(K_ATTEMPTS_DONE, MF_INT, OPT),
	FS(K_SMTP_URL, OPT | NIL, 0), FS(K_MAIL_FROM, OPT | NIL, 0),
};
static const struct msg_field f_attempt[] = {
	FS(K_DELIVERY_ID, REQ, 47), F(K_ATTEMPT, MF_INT, REQ),
	FS(K_STATUS, REQ, 15), FS(K_ERROR, OPT | NIL, 0),
	F(K_AT_MS, MF_INT, REQ), F(K_FINAL, MF_BOOL, OPT),
};

/* Mutable so that msg_init can fill keys and req from the fields. */
static struct msg_def defs[] = {
	DEF(MSG_HELLO, "HELLO", f_hello),
	{ MSG_READY, "READY", f_none, 0, 0, 0 },
	{ MSG_HEARTBEAT, "HEARTBEAT", f_none, 0, 0, 0 },
	{ MSG_STOP, "STOP", f_none, 0, 0, 0 },
	DEF(MSG_EVENT, "EVENT", f_event),
	DEF(MSG_PING, "PING", f_seq),
	DEF(MSG_PONG, "PONG", f_seq),
	DEF(MSG_CONFIG, "CONFIG", f_config),
	DEF(MSG_RUN, "RUN", f_run),
	DEF(MSG_INTERRUPT, "INTERRUPT", f_interrupt),
	{ MSG_RESET, "RESET", f_none, 0, 0, 0 },
	DEF(MSG_RUN_DONE, "RUN_DONE", f_run_done),
	DEF(MSG_TOOL_SEND, "TOOL_SEND", f_tool_send),
	DEF(MSG_TOOL_RESULT, "TOOL_RESULT", f_tool_result),
	DEF(MSG_MOD_CALL, "MOD_CALL", f_mod_call),
	DEF(MSG_MOD_RESULT, "MOD_RESULT", f_mod_result),
	DEF(MSG_ROUTES, "ROUTES", f_routes),
	DEF(MSG_SCHEDULES, "SCHEDULES", f_schedules),
	DEF(MSG_FIRE, "FIRE", f_fire),
	DEF(MSG_FIRED, "FIRED", f_fired),
	DEF(MSG_DELIVER, "DELIVER", f_deliver),
	DEF(MSG_ATTEMPT, "ATTEMPT", f_attempt),
};
#define NDEFS	(sizeof(defs) / sizeof(defs[0]))

const struct msg_def *const msg_defs[NDEFS + 1] = {
	&defs[0], &defs[1], &defs[2], &defs[3], &defs[4], &defs[5], &defs[6],
	&defs[7], &defs[8], &defs[9], &defs[10], &defs[11], &defs[12],
	&defs[13], &defs[14], &defs[15], &defs[16], &defs[17], &defs[18],
	&defs[19], &defs[20], &defs[21], NULL
};
_Static_assert(NDEFS == 22, "msg_defs lists every table");

/* MSG_* (below 64) to its table. */
static const struct msg_def	*by_type[64];

/* The key set of a record (records are const: computed on each use). */
static void
keys_of(const struct msg_def *d, uint64_t *keys, uint64_t *req)
{
	int i;

	*keys = (uint64_t)1 << K_T;
	*req = d->type != 0 ? (uint64_t)1 << K_T : 0;
	if (d->type == 0)
		*keys = 0;
	for (i = 0; i < d->nfields; i++) {
		*keys |= (uint64_t)1 << d->fields[i].key;
		if (d->fields[i].flags & MF_REQ)
			*req |= (uint64_t)1 << d->fields[i].key;
	}
}

/* Fill the key sets and the index by type, once. */
static void
msg_init(void)
{
	static int done;
	size_t i;

	if (done)
		return;
	for (i = 0; i < NDEFS; i++) {
		keys_of(&defs[i], &defs[i].keys, &defs[i].req);
		by_type[defs[i].type] = &defs[i];
	}
	done = 1;
}

const char *
msg_key_name(int key)
{
	return key >= 0 && key < K__N ? key_names[key].s : "?";
}

const struct msg_def *
msg_def_of(int64_t type)
{
	msg_init();
	return type >= 0 && type < 64 ? by_type[type] : NULL;
}

/* --- the reader ---------------------------------------------------------- */

/* The name of a msgpack type, for errors. */
static const char *
obj_type_name(int type)
{
	switch (type) {
	case MSGPACK_OBJECT_NIL:
		return "nil";
	case MSGPACK_OBJECT_BOOLEAN:
		return "a boolean";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return "an integer";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return "a float";
	case MSGPACK_OBJECT_STR:
		return "a string";
	case MSGPACK_OBJECT_ARRAY:
		return "an array";
	case MSGPACK_OBJECT_MAP:
		return "a map";
	case MSGPACK_OBJECT_BIN:
		return "binary";
	default:
		return "an extension";
	}
}

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
		if (key_names[f->key].len == len &&
		    memcmp(key_names[f->key].s, k->via.str.ptr, len) == 0) {
			*next = j + 1 < d->nfields ? j + 1 : 0;
			return f;
		}
	}
	return NULL;
}

static int	check_rec(const msgpack_object *, const struct msg_def *,
		    uint64_t, struct msg_view *, char *, size_t);

/* Is o of the field's type?  A reason when not, else NULL. */
static const char *
check_value(const struct msg_field *f, const msgpack_object *o, char *sub,
    size_t subsz)
{
	struct msg_view v;
	uint64_t keys, req;
	uint32_t i;

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
		if (o->type == MSGPACK_OBJECT_BOOLEAN)
			return NULL;
		break;
	case MF_BIN:
		if (o->type == MSGPACK_OBJECT_BIN)
			return NULL;
		break;
	case MF_MAP:
		if (o->type != MSGPACK_OBJECT_MAP)
			break;
		if (f->rec == NULL)
			return NULL;
		keys_of(f->rec, &keys, &req);
		return check_rec(o, f->rec, req, &v, sub, subsz) == 0 ?
		    NULL : sub;
	case MF_ARRAY:
		if (o->type != MSGPACK_OBJECT_ARRAY)
			break;
		if (f->rec == NULL)
			return NULL;
		keys_of(f->rec, &keys, &req);
		for (i = 0; i < o->via.array.size; i++) {
			char e[200];

			if (check_rec(&o->via.array.ptr[i], f->rec, req, &v,
			    e, sizeof(e)) == -1) {
				snprintf(sub, subsz, "item %u: %s",
				    (unsigned)i, e);
				return sub;
			}
		}
		return NULL;
	case MF_ANY:
		return NULL;
	}
	snprintf(sub, subsz, "%s, not %s", obj_type_name(o->type),
	    ftype_names[f->type]);
	return sub;
}

/* Check every entry of map m against d into v. */
static int
check_rec(const msgpack_object *m, const struct msg_def *d, uint64_t req,
    struct msg_view *v, char *err, size_t errsz)
{
	const struct msg_field *f = NULL;
	const msgpack_object *k;
	const char *why;
	char sub[240];
	uint32_t i;
	int key, next = 0;

	v->def = d;
	v->have = 0;
	if (m->type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errsz, "%s: %s, not a map", d->name,
		    obj_type_name(m->type));
		return -1;
	}
	for (i = 0; i < m->via.map.size; i++) {
		k = &m->via.map.ptr[i].key;
		if (k->type != MSGPACK_OBJECT_STR) {
			snprintf(err, errsz, "%s: a key is %s, not a string",
			    d->name, obj_type_name(k->type));
			return -1;
		}
		if (d->type != 0 && k->via.str.size == 1 &&
		    k->via.str.ptr[0] == 't')
			key = K_T;
		else if ((f = field_of(d, k, &next)) != NULL)
			key = f->key;
		else {
			snprintf(err, errsz, "%s: field \"%.*s\": unknown",
			    d->name, (int)(k->via.str.size > 64 ? 64 :
			    k->via.str.size), k->via.str.size ?
			    k->via.str.ptr : "");
			return -1;
		}
		if (v->have & ((uint64_t)1 << key)) {
			snprintf(err, errsz, "%s: field \"%s\": twice",
			    d->name, key_names[key].s);
			return -1;
		}
		v->have |= (uint64_t)1 << key;
		v->o[key] = &m->via.map.ptr[i].val;
		if (key != K_T && (why = check_value(f, v->o[key], sub,
		    sizeof(sub))) != NULL) {
			snprintf(err, errsz, "%s: field \"%s\": %s", d->name,
			    key_names[key].s, why);
			return -1;
		}
	}
	if ((req & ~v->have) != 0) {
		key = __builtin_ctzll(req & ~v->have);
		snprintf(err, errsz, "%s: field \"%s\": missing", d->name,
		    key_names[key].s);
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
	uint64_t keys, req;

	keys_of(d, &keys, &req);
	v->type = -1;
	return check_rec(m, d, req, v, err, errsz);
}

/* --- accessors ----------------------------------------------------------- */

/* The value under key, or NULL when absent or nil. */
const msgpack_object *
msgv_obj(const struct msg_view *v, int key)
{
	if (!(v->have & ((uint64_t)1 << key)) ||
	    v->o[key]->type == MSGPACK_OBJECT_NIL)
		return NULL;
	return v->o[key];
}

/* The value under key as it was sent (nil included), or NULL. */
const msgpack_object *
msgv_raw(const struct msg_view *v, int key)
{
	return v->have & ((uint64_t)1 << key) ? v->o[key] : NULL;
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

/* --- the writer ---------------------------------------------------------- */

/* Reserve the map header: one byte under 16 fields, else a map16. */
static void
open_map(struct msgw *w)
{
	if (w->def->type != 0) {
		w->keys = w->def->keys;
		w->req = w->def->req;
	} else
		keys_of(w->def, &w->keys, &w->req);
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
	uint64_t bit = (uint64_t)1 << key;

	if ((!(w->keys & bit) || (w->seen & bit)) && w->bad == 0)
		w->bad = key + 1;
	w->seen |= bit;
	w->n++;
	msgpack_pack_str(&w->pk, key_names[key].len);
	msgpack_pack_str_body(&w->pk, key_names[key].s, key_names[key].len);
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

	msgw_key(w, key);
	if (s == NULL) {
		msgpack_pack_nil(&w->pk);
		return;
	}
	len = strlen(s);
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
		log_warnx("%s: field \"%s\": not in its table, or twice",
		    w->def->name, key_names[w->bad - 1].s);
		return -1;
	}
	if (w->req & ~w->seen) {
		log_warnx("%s: field \"%s\": missing", w->def->name,
		    key_names[__builtin_ctzll(w->req & ~w->seen)].s);
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
