/*
 * ctlverbs.c: the table of control verbs (see ctlverbs.h) and the three
 * things done with it: mobkitctl parses a command line into a union
 * ctl_args and packs it; mobkitd decodes the args map back into one,
 * refusing anything the table does not declare.  Both ends read the same
 * table, so a verb's arguments are declared in one place.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlverbs.h"
#include "mpack.h"
#include "proto.h"
#include "tojson.h"

#define A(m)		offsetof(union ctl_args, m)
#define NF(f)		(int)(sizeof(f) / sizeof((f)[0]))
#define FIELDS(f)	f, NF(f)

/* Positional NAME fields, under the key each verb gives them. */
#define POS(key, meta, m)	{ key, CT_STR, CF_POS, NULL, 0, meta, NULL, A(m) }
#define RPOS(key, meta, m)	{ key, CT_STR, CF_POS | CF_REQ, NULL, 0, meta, \
				    NULL, A(m) }

static const struct ctl_field f_name_opt[] = { POS("name", "NAME", name.name) };
static const struct ctl_field f_id[] = { RPOS("id", "ID", name.name) };
static const struct ctl_field f_kill[] = {
	RPOS("name", "NAME", kill.name),
	POS("signal", "SIGNAL", kill.signal),
};
static const struct ctl_field f_events[] = {
	{ "follow", CT_BOOL, 0, "follow", 'f', NULL, NULL, A(events.follow) },
	{ "since", CT_INT, 0, "since", 0, "SEQ", "a sequence number",
	    A(events.since) },
	{ "source", CT_STR, 0, "source", 0, "S", NULL, A(events.source) },
	{ "type", CT_STR, 0, "type", 0, "T", NULL, A(events.type) },
	{ "n", CT_INT, 0, "last", 'n', "N", "a number of events",
	    A(events.n) },
	{ "name", CT_STR, 0, "name", 0, "NAME", NULL, A(events.name) },
};
/* start, stop, restart: children, groups, patterns; {name} is older */
static const struct ctl_field f_targets[] = {
	{ "names", CT_STRS, CF_POS | CF_LINEREQ, NULL, 0, "NAME", NULL,
	    A(targets.names) },
	{ "name", CT_STR, CF_WIRE, NULL, 0, NULL, NULL, A(targets.name) },
};
static const struct ctl_field f_spawn[] = {
	RPOS("id", "ID", spawn.id),
	RPOS("profile", "PROFILE", spawn.profile),
};
static const struct ctl_field f_send[] = {
	RPOS("member", "ID", send.member),
	{ "text", CT_STR, CF_POS | CF_REQ | CF_STDIN, NULL, 0, "TEXT", NULL,
	    A(send.text) },
	{ "key", CT_STR, 0, "key", 0, "KEY", NULL, A(send.key) },
	{ "wait", CT_BOOL, 0, "wait", 0, NULL, NULL, A(send.wait) },
	{ "timeout_ms", CT_INT, 0, "timeout-ms", 0, "N", "milliseconds",
	    A(send.timeout_ms) },
	{ "stream", CT_BOOL, 0, "stream", 0, NULL, NULL, A(send.stream) },
};
static const struct ctl_field f_wire[] = {
	RPOS("a", "A", wire.a),
	RPOS("b", "B", wire.b),
};
/* route add: the keys of a [route] section, as KEY=VALUE */
#define KV(key, type, m)	{ key, type, CF_KV, NULL, 0, NULL, NULL, A(m) }
static const struct ctl_field f_route_add[] = {
	RPOS("id", "ID", route.id),
	KV("recipient", CT_STR, route.recipient),
	KV("channel", CT_STR, route.channel),
	KV("sink", CT_STR, route.sink),
	KV("target", CT_STR, route.target),
	KV("retry_max", CT_INT, route.retry_max),
	KV("backoff_ms", CT_INT, route.backoff_ms),
	KV("rate_limit_per_minute", CT_INT, route.rate_limit_per_minute),
};
static const struct ctl_field f_route_rm[] = { RPOS("id", "ID", route.id) };
/* resolve's options are deliver's too: deliver is resolve + send */
#define RESOLVE_OPTS \
	{ "channel", CT_STR, 0, "channel", 0, "C", NULL, A(deliver.channel) }, \
	{ "retry_max", CT_INT, 0, "retry-max", 0, "N", NULL, \
	    A(deliver.retry_max) }, \
	{ "backoff_ms", CT_INT, 0, "backoff-ms", 0, "N", "milliseconds", \
	    A(deliver.backoff_ms) }, \
	{ "rate_limit_per_minute", CT_INT, 0, "rate-limit", 0, "N", NULL, \
	    A(deliver.rate_limit_per_minute) }
static const struct ctl_field f_resolve[] = {
	RPOS("recipient", "RECIPIENT", deliver.recipient),
	RESOLVE_OPTS,
};
static const struct ctl_field f_deliver[] = {
	RPOS("recipient", "RECIPIENT", deliver.recipient),
	{ "payload", CT_STR, CF_REQ, "payload", 0, "JSON", NULL,
	    A(deliver.payload) },
	{ "key", CT_STR, 0, "key", 0, "KEY", NULL, A(deliver.key) },
	RESOLVE_OPTS,
};
static const struct ctl_field f_conversation[] = {
	RPOS("id", "ID", conv.id),
	{ "n", CT_INT, 0, "last", 'n', "N", "a number of messages",
	    A(conv.n) },
};
static const struct ctl_field f_tick[] = {
	{ "at", CT_INT, 0, "at", 0, "EPOCH_MS", "epoch milliseconds",
	    A(tick.at) },
};
static const struct ctl_field f_call[] = {
	RPOS("server", "SERVER", call.server),
	RPOS("tool", "TOOL", call.tool),
	{ "args", CT_STR, 0, "args", 0, "JSON", NULL, A(call.args) },
};
static const struct ctl_field f_logs[] = {
	RPOS("name", "NAME", logs.name),
	{ "n", CT_INT, 0, "lines", 'n', "N", "a number of lines", A(logs.n) },
	{ "follow", CT_BOOL, 0, "follow", 'f', NULL, NULL, A(logs.follow) },
};

const struct ctl_verb ctl_verbs[] = {
	{ "status", FIELDS(f_name_opt), 0 },
	{ "start", FIELDS(f_targets), 0 },
	{ "stop", FIELDS(f_targets), 0 },
	{ "restart", FIELDS(f_targets), 0 },
	{ "kill", FIELDS(f_kill), 0 },
	{ "transitions", FIELDS(f_name_opt), 0 },
	{ "events", FIELDS(f_events), 1 },
	{ "reload", NULL, 0, 0 },
	{ "shutdown", NULL, 0, 0 },
	{ "members", NULL, 0, 0 },
	{ "spawn", FIELDS(f_spawn), 0 },
	{ "retire", FIELDS(f_id), 0 },
	{ "destroy", FIELDS(f_id), 0 },
	{ "reset", FIELDS(f_id), 0 },
	{ "interrupt", FIELDS(f_id), 0 },
	{ "reconcile", NULL, 0, 0 },
	{ "send", FIELDS(f_send), 0 },
	{ "inputs", FIELDS(f_id), 0 },
	{ "wire", FIELDS(f_wire), 0 },
	{ "unwire", FIELDS(f_wire), 0 },
	{ "routes", NULL, 0, 0 },
	{ "route add", FIELDS(f_route_add), 0 },
	{ "route rm", FIELDS(f_route_rm), 0 },
	{ "deliveries", NULL, 0, 0 },
	{ "resolve", FIELDS(f_resolve), 0 },
	{ "deliver", FIELDS(f_deliver), 0 },
	{ "schedules", NULL, 0, 0 },
	{ "tick", FIELDS(f_tick), 0 },
	{ "conversation", FIELDS(f_conversation), 0 },
	{ "usage", FIELDS(f_name_opt), 0 },
	{ "rediscover", NULL, 0, 0 },
	{ "tools", FIELDS(f_name_opt), 0 },
	{ "call", FIELDS(f_call), 0 },
	{ "logs", FIELDS(f_logs), 1 },
	{ "is-healthy", FIELDS(f_name_opt), 0 },
	{ "cluster", NULL, 0, 0 },
	{ "rebalance", NULL, 0, 0 },
};
const size_t ctl_nverbs = sizeof(ctl_verbs) / sizeof(ctl_verbs[0]);

/* The verb called name exactly ("route add"), or NULL. */
const struct ctl_verb *
ctl_verb_find(const char *name)
{
	size_t i;

	for (i = 0; i < ctl_nverbs; i++)
		if (strcmp(ctl_verbs[i].name, name) == 0)
			return &ctl_verbs[i];
	return NULL;
}

/* The verb of a command line: one word, or two ("route add"). */
const struct ctl_verb *
ctl_verb_lookup(int argc, char **argv, int *used)
{
	char two[CTL_VERB_MAX];
	const struct ctl_verb *v;

	*used = 0;
	if (argc < 1)
		return NULL;
	if (argc >= 2 && (size_t)snprintf(two, sizeof(two), "%s %s", argv[0],
	    argv[1]) < sizeof(two) && (v = ctl_verb_find(two)) != NULL) {
		*used = 2;
		return v;
	}
	if ((v = ctl_verb_find(argv[0])) != NULL)
		*used = 1;
	return v;
}

/* Append to buf, never past its end. */
static void
cat(char *buf, size_t sz, const char *s1, const char *s2, const char *s3)
{
	size_t len = strlen(buf);

	if (len < sz)
		snprintf(buf + len, sz - len, "%s%s%s", s1, s2, s3);
}

/* The usage line of a verb, from its fields. */
const char *
ctl_verb_usage(const struct ctl_verb *v, char *buf, size_t sz)
{
	const struct ctl_field *f;
	int i, kv = 0, req;

	snprintf(buf, sz, "%s", v->name);
	for (i = 0; i < v->nfields; i++) {
		f = &v->fields[i];
		req = (f->flags & (CF_REQ | CF_LINEREQ)) != 0;
		if (f->flags & CF_WIRE)
			continue;
		if (f->flags & CF_KV)
			kv = 1;
		else if (f->flags & CF_POS)
			cat(buf, sz, req ? " " : " [", f->meta,
			    f->type == CT_STRS ? "..." : "");
		else {
			cat(buf, sz, req ? " " : " [", "", "");
			if (f->shopt != 0)	/* -n|--last N */
				cat(buf, sz, (char []){ '-', (char)f->shopt,
				    '|', '\0' }, "", "");
			cat(buf, sz, "--", f->opt, f->type == CT_BOOL ? "" :
			    " ");
		}
		if (f->flags & CF_KV)
			continue;
		if (!(f->flags & CF_POS) && f->type != CT_BOOL)
			cat(buf, sz, f->meta, "", "");
		if (!req)
			cat(buf, sz, "]", "", "");
	}
	if (kv)
		cat(buf, sz, " KEY=VALUE...", "", "");
	return buf;
}

/* --- values ----------------------------------------------------------- */

/* Where field f's value is in a. */
static void *
slot(const union ctl_args *a, const struct ctl_field *f)
{
	return (char *)(uintptr_t)a + f->off;
}

/* Has field f a value in a? */
static int
given(const union ctl_args *a, const struct ctl_field *f)
{
	void *p = slot(a, f);

	switch (f->type) {
	case CT_STR:
		return *(char **)p != NULL;
	case CT_INT:
		return ((struct ctl_int *)p)->set;
	case CT_BOOL:
		return *(int *)p != 0;
	default:
		return ((struct ctl_strs *)p)->v != NULL;
	}
}

/* Free the strings of a and zero it. */
void
ctl_args_free(const struct ctl_verb *v, union ctl_args *a)
{
	struct ctl_strs *s;
	int i, j;

	for (i = 0; i < v->nfields; i++) {
		if (v->fields[i].type == CT_STR)
			free(*(char **)slot(a, &v->fields[i]));
		else if (v->fields[i].type == CT_STRS) {
			s = slot(a, &v->fields[i]);
			for (j = 0; j < s->n; j++)
				free(s->v[j]);
			free(s->v);
		}
	}
	memset(a, 0, sizeof(*a));
}

/* Set a string field (the last given wins); -1 out of memory. */
static int
set_str(union ctl_args *a, const struct ctl_field *f, const char *s,
    size_t len)
{
	char **p = slot(a, f), *n;

	if ((n = strndup(s, len)) == NULL)
		return -1;
	free(*p);
	*p = n;
	return 0;
}

/* Add one string to a repeated field; -1 out of memory. */
static int
add_str(union ctl_args *a, const struct ctl_field *f, const char *s,
    size_t len)
{
	struct ctl_strs *l = slot(a, f);
	char **nv;

	if ((nv = reallocarray(l->v, (size_t)l->n + 2, sizeof(*nv))) == NULL)
		return -1;
	l->v = nv;
	if ((l->v[l->n] = strndup(s, len)) == NULL)
		return -1;
	l->v[++l->n] = NULL;
	return 0;
}

/* A whole number >= 0 with nothing after it. */
static int
parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* --- the client: a command line ---------------------------------------- */

/* Set field f from its text on the command line; -1 with err. */
static int
set_text(const struct ctl_verb *v, union ctl_args *a,
    const struct ctl_field *f, const char *label, const char *s, char *err,
    size_t errsz)
{
	struct ctl_int *n;

	switch (f->type) {
	case CT_INT:
		n = slot(a, f);
		if (parse_int(s, &n->v) == -1) {
			snprintf(err, errsz, "%s: %s: bad value \"%s\": "
			    "expected %s", v->name, label, s, f->what ?
			    f->what : "a whole number");
			return -1;
		}
		n->set = 1;
		return 0;
	case CT_BOOL:
		*(int *)slot(a, f) = 1;
		return 0;
	case CT_STRS:
		if (add_str(a, f, s, strlen(s)) == 0)
			return 0;
		break;
	default:
		if (set_str(a, f, s, strlen(s)) == 0)
			return 0;
		break;
	}
	snprintf(err, errsz, "%s: out of memory", v->name);
	return -1;
}

/* The options of a verb for getopt_long, after the caller's. */
static struct option *
long_options(const struct ctl_verb *v, const struct option *extra,
    int nextra, char *shorts, size_t shsz)
{
	struct option *lo;
	const struct ctl_field *f;
	size_t k = 0;
	int i, n = nextra;

	if ((lo = calloc((size_t)(nextra + v->nfields + 1), sizeof(*lo))) ==
	    NULL)
		return NULL;
	if (nextra > 0)
		memcpy(lo, extra, (size_t)nextra * sizeof(*lo));
	shorts[k++] = ':';	/* a missing value returns ':' */
	for (i = 0; i < nextra && k + 3 < shsz; i++)
		if (extra[i].flag == NULL && extra[i].val < 256 &&
		    extra[i].val > 0) {
			shorts[k++] = (char)extra[i].val;
			if (extra[i].has_arg)
				shorts[k++] = ':';
		}
	for (i = 0; i < v->nfields; i++) {
		f = &v->fields[i];
		if (f->opt == NULL)
			continue;
		lo[n].name = f->opt;
		lo[n].has_arg = f->type == CT_BOOL ? no_argument :
		    required_argument;
		lo[n++].val = 1000 + i;
		if (f->shopt != 0 && k + 3 < shsz) {
			shorts[k++] = (char)f->shopt;
			if (f->type != CT_BOOL)
				shorts[k++] = ':';
		}
	}
	shorts[k] = '\0';
	return lo;
}

/* The field of a short option, or -1. */
static int
short_field(const struct ctl_verb *v, int c)
{
	int i;

	for (i = 0; i < v->nfields; i++)
		if (v->fields[i].shopt == c)
			return i;
	return -1;
}

/* An option getopt refused: unknown, or its value missing. */
static void
bad_option(const struct ctl_verb *v, int c, char **argv, char *err,
    size_t errsz)
{
	const char *word = argv[optind - 1];

	if (c == ':')
		snprintf(err, errsz, "%s: %s needs a value", v->name, word);
	else if (strncmp(word, "--", 2) == 0 && optopt != 0 &&
	    strchr(word, '=') != NULL)	/* --json=1: a flag with a value */
		snprintf(err, errsz, "%s: option \"%.*s\" takes no value",
		    v->name, (int)strcspn(word, "="), word);
	else if (word[0] == '-' && word[1] != '-' && optopt > 0 &&
	    optopt < 256)
		snprintf(err, errsz, "%s: unknown option \"-%c\"", v->name,
		    optopt);
	else
		snprintf(err, errsz, "%s: unknown option \"%s\"", v->name,
		    word);
}

/* KEY=VALUE for a verb whose fields may be given so. */
static int
set_pair(const struct ctl_verb *v, union ctl_args *a, const char *word,
    char *err, size_t errsz)
{
	const char *eq = strchr(word, '=');
	size_t klen, wlen = strcspn(v->name, " ");
	int i;

	if (eq == NULL) {
		snprintf(err, errsz, "\"%s\": expected KEY=VALUE", word);
		return -1;
	}
	klen = (size_t)(eq - word);
	for (i = 0; i < v->nfields; i++)
		if ((v->fields[i].flags & CF_KV) &&
		    strlen(v->fields[i].name) == klen &&
		    strncmp(v->fields[i].name, word, klen) == 0)
			return set_text(v, a, &v->fields[i],
			    v->fields[i].name, eq + 1, err, errsz);
	snprintf(err, errsz, "unknown %.*s key \"%.*s\"", (int)wlen, v->name,
	    (int)klen, word);
	return -1;
}

/* The positional words, in table order; KEY=VALUE pairs after them. */
static int
positionals(const struct ctl_verb *v, union ctl_args *a, int argc,
    char **argv, char *err, size_t errsz, int *usage)
{
	const struct ctl_field *f;
	int i, j = optind, kv = 0;

	for (i = 0; i < v->nfields; i++) {
		f = &v->fields[i];
		kv |= (f->flags & CF_KV) != 0;
		if (!(f->flags & CF_POS))
			continue;
		for (; j < argc; j++) {
			if (set_text(v, a, f, f->meta, argv[j], err,
			    errsz) == -1)
				return -1;
			if (f->type != CT_STRS) {
				j++;
				break;
			}
		}
	}
	for (; j < argc; j++) {
		if (!kv) {
			*usage = 1;
			snprintf(err, errsz, "%s: unexpected argument \"%s\"",
			    v->name, argv[j]);
			return -1;
		}
		if (set_pair(v, a, argv[j], err, errsz) == -1)
			return -1;
	}
	return 0;
}

/* Is every required field given? */
static int
required(const struct ctl_verb *v, const union ctl_args *a, char *err,
    size_t errsz)
{
	const struct ctl_field *f;
	int i;

	for (i = 0; i < v->nfields; i++) {
		f = &v->fields[i];
		if (!(f->flags & (CF_REQ | CF_LINEREQ)) || given(a, f))
			continue;
		if (f->flags & CF_POS)
			snprintf(err, errsz, "%s: %s is missing", v->name,
			    f->meta);
		else
			snprintf(err, errsz, "%s: --%s %s is required",
			    v->name, f->opt, f->meta);
		return -1;
	}
	return 0;
}

/*
 * Parse argv[1..argc) for verb v with getopt_long (GNU: options anywhere,
 * "--" ends them).  extra are the caller's own options: each found is
 * handed to cb with its value.  See ctlverbs.h for the result.
 */
int
ctl_args_parse_opts(const struct ctl_verb *v, int argc, char **argv,
    union ctl_args *a, const struct option *extra, int nextra,
    void (*cb)(int, const char *, void *), void *arg, char *err,
    size_t errsz, int *usage)
{
	struct option *lo;
	char shorts[64], label[64];
	int c, i, r = -1;

	memset(a, 0, sizeof(*a));
	*usage = 0;
	if ((lo = long_options(v, extra, nextra, shorts, sizeof(shorts))) ==
	    NULL) {
		snprintf(err, errsz, "%s: out of memory", v->name);
		return -1;
	}
	optind = 0;		/* GNU: start afresh */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if ((i = c >= 1000 ? c - 1000 : short_field(v, c)) >= 0) {
			snprintf(label, sizeof(label), "--%s",
			    v->fields[i].opt);
			if (set_text(v, a, &v->fields[i], label, optarg, err,
			    errsz) == -1) {
				*usage = 1;	/* an option's bad value */
				goto out;
			}
		} else if (c == '?' || c == ':') {
			bad_option(v, c, argv, err, errsz);
			*usage = 1;
			goto out;
		} else if (cb != NULL)
			cb(c, optarg, arg);
	}
	if (positionals(v, a, argc, argv, err, errsz, usage) == -1)
		goto out;
	if (required(v, a, err, errsz) == -1) {
		*usage = 1;
		goto out;
	}
	r = 0;
out:
	free(lo);
	if (r == -1)
		ctl_args_free(v, a);
	return r;
}

int
ctl_args_parse(const struct ctl_verb *v, int argc, char **argv,
    union ctl_args *a, char *err, size_t errsz, int *usage)
{
	return ctl_args_parse_opts(v, argc, argv, a, NULL, 0, NULL, NULL,
	    err, errsz, usage);
}

/* --- the wire ------------------------------------------------------------ */

/* Pack the fields given as {name: value, ...}. */
void
ctl_args_pack(const struct ctl_verb *v, const union ctl_args *a,
    msgpack_packer *pk)
{
	const struct ctl_field *f;
	const struct ctl_strs *l;
	int i, j, n = 0;

	for (i = 0; i < v->nfields; i++)
		n += given(a, &v->fields[i]);
	msgpack_pack_map(pk, (size_t)n);
	for (i = 0; i < v->nfields; i++) {
		f = &v->fields[i];
		if (!given(a, f))
			continue;
		mp_str(pk, f->name);
		if (f->type == CT_STR)
			mp_str(pk, *(char **)slot(a, f));
		else if (f->type == CT_INT)
			msgpack_pack_int64(pk, ((struct ctl_int *)
			    slot(a, f))->v);
		else if (f->type == CT_BOOL)
			msgpack_pack_true(pk);
		else {
			l = slot(a, f);
			msgpack_pack_array(pk, (size_t)l->n);
			for (j = 0; j < l->n; j++)
				mp_str(pk, l->v[j]);
		}
	}
}

/* {t: CTL_REQUEST, version, verb, args}. */
void
ctl_request_pack(const struct ctl_verb *v, const union ctl_args *a,
    msgpack_packer *pk)
{
	msgpack_pack_map(pk, 4);
	mp_kint(pk, "t", MSG_CTL_REQUEST);
	mp_kint(pk, "version", PROTO_VERSION);
	mp_kstr(pk, "verb", v->name);
	mp_str(pk, "args");
	ctl_args_pack(v, a, pk);
}

/* A msgpack string as (s, len), its NULL pointer made "". */
static const char *
str_of(const msgpack_object *o, size_t *len)
{
	*len = o->via.str.size;
	return o->via.str.size > 0 ? o->via.str.ptr : "";
}

/* One string from the wire: no NUL inside. */
static int
wire_str(const struct ctl_verb *v, const struct ctl_field *f,
    const msgpack_object *o, union ctl_args *a, char *err, size_t errsz)
{
	const char *s;
	size_t len;

	if (o->type != MSGPACK_OBJECT_STR) {
		snprintf(err, errsz, "%s: \"%s\"%s is %s, not a string",
		    v->name, f->name, f->type == CT_STRS ? " item" : "",
		    mp_type_name(o->type));
		return -1;
	}
	s = str_of(o, &len);
	if (memchr(s, '\0', len) != NULL) {
		snprintf(err, errsz, "%s: \"%s\" holds a NUL byte", v->name,
		    f->name);
		return -1;
	}
	if ((f->type == CT_STRS ? add_str(a, f, s, len) :
	    set_str(a, f, s, len)) == -1) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}

/* One field's value from the wire, checked against its type. */
static int
wire_value(const struct ctl_verb *v, const struct ctl_field *f,
    const msgpack_object *o, union ctl_args *a, char *err, size_t errsz)
{
	static const char *const want[] = { "a string", "an integer",
	    "a boolean", "an array" };
	struct ctl_int *n;
	uint32_t i;

	if (f->type == CT_STR)
		return wire_str(v, f, o, a, err, errsz);
	if (f->type == CT_INT && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		n = slot(a, f);
		if (o->via.u64 > INT64_MAX) {
			snprintf(err, errsz, "%s: \"%s\" is out of range",
			    v->name, f->name);
			return -1;
		}
		n->v = (int64_t)o->via.u64;
		n->set = 1;
		return 0;
	}
	if (f->type == CT_BOOL && o->type == MSGPACK_OBJECT_BOOLEAN) {
		*(int *)slot(a, f) = o->via.boolean;
		return 0;
	}
	if (f->type == CT_STRS && o->type == MSGPACK_OBJECT_ARRAY) {
		for (i = 0; i < o->via.array.size; i++)
			if (wire_str(v, f, &o->via.array.ptr[i], a, err,
			    errsz) == -1)
				return -1;
		if (o->via.array.size == 0 && (((struct ctl_strs *)slot(a,
		    f))->v = calloc(1, sizeof(char *))) == NULL)
			return -1;	/* given, and empty */
		return 0;
	}
	if (f->type == CT_INT && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		snprintf(err, errsz, "%s: \"%s\" is negative", v->name,
		    f->name);
	else
		snprintf(err, errsz, "%s: \"%s\" is %s, not %s", v->name,
		    f->name, mp_type_name(o->type), want[f->type]);
	return -1;
}

/* The field a key names, or -1 with err. */
static int
wire_field(const struct ctl_verb *v, const msgpack_object *k, char *err,
    size_t errsz)
{
	const char *s;
	size_t len;
	int i;

	if (k->type != MSGPACK_OBJECT_STR) {
		snprintf(err, errsz, "%s: a field name is %s, not a string",
		    v->name, mp_type_name(k->type));
		return -1;
	}
	s = str_of(k, &len);
	for (i = 0; i < v->nfields; i++)
		if (strlen(v->fields[i].name) == len &&
		    memcmp(v->fields[i].name, s, len) == 0)
			return i;
	snprintf(err, errsz, "%s: unknown field \"%.*s\"", v->name,
	    (int)(len > 64 ? 64 : len), s);
	return -1;
}

/* Check every field of the args map; see ctlverbs.h. */
int
ctl_args_decode(const struct ctl_verb *v, const msgpack_object *m,
    union ctl_args *a, char *err, size_t errsz)
{
	const msgpack_object_kv *kv;
	uint64_t seen = 0;
	uint32_t k;
	int i;

	memset(a, 0, sizeof(*a));
	if (m->type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errsz, "\"args\" is %s, not a map",
		    mp_type_name(m->type));
		return -1;
	}
	for (k = 0; k < m->via.map.size; k++) {
		kv = &m->via.map.ptr[k];
		if ((i = wire_field(v, &kv->key, err, errsz)) == -1)
			goto bad;
		if (seen & (1ULL << i)) {
			snprintf(err, errsz, "%s: \"%s\" is given twice",
			    v->name, v->fields[i].name);
			goto bad;
		}
		seen |= 1ULL << i;
		if (wire_value(v, &v->fields[i], &kv->val, a, err, errsz) == -1)
			goto bad;
	}
	for (i = 0; i < v->nfields; i++)
		if ((v->fields[i].flags & CF_REQ) && !(seen & (1ULL << i))) {
			snprintf(err, errsz, "%s: \"%s\" is required", v->name,
			    v->fields[i].name);
			goto bad;
		}
	return 0;
bad:
	ctl_args_free(v, a);
	return -1;
}

/* The first string field of a that is not UTF-8; see ctlverbs.h. */
int
ctl_args_utf8(const struct ctl_verb *v, const union ctl_args *a,
    const char **field, size_t *at)
{
	const struct ctl_field *f;
	const struct ctl_strs *l;
	ssize_t bad;
	int i, j;

	for (i = 0; i < v->nfields; i++) {
		f = &v->fields[i];
		if (f->type == CT_STR && given(a, f) && (bad = utf8_invalid(
		    *(char **)slot(a, f), strlen(*(char **)slot(a, f)))) != -1)
			goto found;
		if (f->type != CT_STRS)
			continue;
		l = slot(a, f);
		for (j = 0; j < l->n; j++)
			if ((bad = utf8_invalid(l->v[j], strlen(l->v[j]))) !=
			    -1)
				goto found;
	}
	return -1;
found:
	*field = f->name;
	*at = (size_t)bad;
	return 0;
}
