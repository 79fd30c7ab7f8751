/*
 * ctlverbs.h: the verbs of the control protocol, declared once for both
 * ends.  Each verb lists its fields: a name (the key on the wire), a type,
 * whether it is required, and how the command line gives it (a positional
 * in table order, a long option, or KEY=VALUE).  mobkitctl parses its
 * command line against the table (getopt_long, options anywhere) and
 * sends {t, version, verb, args: {field: value, ...}}; mobkitd checks the
 * args map against the same table (a missing required field, a wrong type,
 * an unknown or repeated field: an error naming it) and hands its verb a
 * union ctl_args filled in, so no verb reads argv or msgpack itself.
 *
 * Invariants: a field's value lives at its offset in union ctl_args, in
 * the struct of its verb; a string not given is NULL, an int not given
 * has set == 0, a flag not given is 0.  The strings of a filled union are
 * its own (ctl_args_free frees them).
 */
#ifndef MOBKIT_CTLVERBS_H
#define MOBKIT_CTLVERBS_H

#include <stddef.h>
#include <stdint.h>

#include <getopt.h>
#include <msgpack.h>

enum ctl_type {
	CT_STR,		/* a string; char * */
	CT_INT,		/* a whole number >= 0 (ms, counts); struct ctl_int */
	CT_BOOL,	/* a flag; int, 0 or 1 */
	CT_STRS,	/* repeated strings (the last positional); ctl_strs */
};

#define CF_REQ		0x01	/* must be given */
#define CF_POS		0x02	/* a positional argument, in table order */
#define CF_STDIN	0x04	/* "-" on the command line reads stdin */
#define CF_KV		0x08	/* given as KEY=VALUE after the positionals */
#define CF_LINEREQ	0x10	/* must be given on the command line (the wire
				   may give another field instead) */
#define CF_WIRE		0x20	/* only on the wire: an older request shape */

struct ctl_field {
	const char	*name;		/* the key on the wire, KEY of KEY=VALUE */
	enum ctl_type	 type;
	int		 flags;		/* CF_* */
	const char	*opt;		/* long option ("timeout-ms"), or NULL */
	int		 shopt;		/* short option ('f'), or 0 */
	const char	*meta;		/* its value in usage: "NAME", "N" */
	const char	*what;		/* an int's unit, for errors */
	size_t		 off;		/* offsetof(union ctl_args, ...) */
};

struct ctl_verb {
	const char		*name;	/* "status", "route add" */
	const struct ctl_field	*fields;
	int			 nfields;
	int			 stream;	/* stream items before the reply */
};

struct ctl_int {
	int64_t		 v;
	int		 set;
};

struct ctl_strs {
	int		 n;
	char		**v;
};

/* One struct per shape of arguments; a verb's fields point into one. */
struct ctl_name_args {		/* status, start, ..., inputs, retire */
	char		*name;
};
struct ctl_kill_args {
	char		*name, *signal;
};
struct ctl_events_args {
	int		 follow;
	struct ctl_int	 since;
	char		*source, *type;
	struct ctl_int	 n;		/* -n N: the last N that match */
	char		*name;		/* --name NAME */
};
struct ctl_targets_args {	/* start, stop, restart: NAME... or name */
	char		*name;		/* the older request: one child */
	struct ctl_strs	 names;		/* children, groups, glob patterns */
};
struct ctl_spawn_args {
	char		*id, *profile;
};
struct ctl_send_args {
	char		*member, *text, *key;
	int		 wait;
	struct ctl_int	 timeout_ms;
	int		 stream;	/* --stream: deltas, then the result */
};
struct ctl_wire_args {
	char		*a, *b;
};
struct ctl_route_args {		/* route add (KEY=VALUE), route rm */
	char		*id, *recipient, *channel, *sink, *target;
	struct ctl_int	 retry_max, backoff_ms, rate_limit_per_minute;
};
struct ctl_deliver_args {	/* resolve, and deliver = resolve + send */
	char		*recipient, *channel, *payload, *key;
	struct ctl_int	 retry_max, backoff_ms, rate_limit_per_minute;
};
struct ctl_tick_args {
	struct ctl_int	 at;
};
struct ctl_conv_args {		/* conversation ID [-n N] */
	char		*id;
	struct ctl_int	 n;
};

struct ctl_call_args {		/* call SERVER TOOL [--args JSON] */
	char		*server, *tool, *args;
};
struct ctl_logs_args {		/* logs NAME [-n N] [-f] */
	char		*name;
	struct ctl_int	 n;
	int		 follow;
};

union ctl_args {
	struct ctl_name_args	 name;
	struct ctl_kill_args	 kill;
	struct ctl_events_args	 events;
	struct ctl_targets_args	 targets;
	struct ctl_spawn_args	 spawn;
	struct ctl_send_args	 send;
	struct ctl_wire_args	 wire;
	struct ctl_route_args	 route;
	struct ctl_deliver_args	 deliver;
	struct ctl_tick_args	 tick;
	struct ctl_conv_args	 conv;
	struct ctl_call_args	 call;
	struct ctl_logs_args	 logs;
	struct ctl_strs		 names;		/* for verbs that take NAME... */
};

/* The table: every verb mobkitctl knows and mobkitd serves. */
extern const struct ctl_verb	ctl_verbs[];
extern const size_t		ctl_nverbs;

const struct ctl_verb *ctl_verb_find(const char *name);
/* The verb named by argv[0] (and argv[1] for "route add"); *used words. */
const struct ctl_verb *ctl_verb_lookup(int argc, char **argv, int *used);
/* "send MEMBER TEXT [--key KEY] [--wait] [--timeout-ms N]" into buf. */
const char	*ctl_verb_usage(const struct ctl_verb *, char *buf, size_t);

/*
 * Client: the words after the verb (options anywhere; "--" ends them)
 * into a; 0, or -1 with err and *usage set when the line is malformed
 * (unknown option, missing or extra argument: exit 2) rather than a value
 * being bad (not a whole number, unknown KEY: exit 1).
 */
int	ctl_args_parse(const struct ctl_verb *, int argc, char **argv,
	    union ctl_args *, char *err, size_t errsz, int *usage);
/* The same, with the caller's own options too: cb(val, optarg, arg). */
int	ctl_args_parse_opts(const struct ctl_verb *, int argc, char **argv,
	    union ctl_args *, const struct option *extra, int nextra,
	    void (*cb)(int, const char *, void *), void *arg, char *err,
	    size_t errsz, int *usage);
/* Client: pack a as the args map. */
void	ctl_args_pack(const struct ctl_verb *, const union ctl_args *,
	    msgpack_packer *);
/* Client: the whole request frame payload {t, version, verb, args}. */
void	ctl_request_pack(const struct ctl_verb *, const union ctl_args *,
	    msgpack_packer *);

/* Daemon: check the args map against the verb and fill a; -1 and err. */
int	ctl_args_decode(const struct ctl_verb *, const msgpack_object *,
	    union ctl_args *, char *err, size_t errsz);
/* The first string field that is not UTF-8: its name and byte, or -1. */
int	ctl_args_utf8(const struct ctl_verb *, const union ctl_args *,
	    const char **field, size_t *at);
void	ctl_args_free(const struct ctl_verb *, union ctl_args *);

#endif
