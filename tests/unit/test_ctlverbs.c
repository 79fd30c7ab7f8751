/*
 * test_ctlverbs.c: the verb table of the control protocol.  The client's
 * command-line parser (options anywhere, "--", missing and extra
 * arguments, unknown options, bad numbers, KEY=VALUE, repeated strings)
 * and the daemon's check of an args map (a missing required field, a
 * wrong type, an unknown or repeated field: each named), and that every
 * verb of the table has a handler registered in mobkitd.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "ctlverbs.h"
#include "mpack.h"
#include "proto.h"
#include "unit.h"
#include "verbs.h"

#define MAXW	16

/* Parse the words (a NULL-terminated list after the verb) for verb. */
static int
parse(const char *verb, union ctl_args *a, char *err, size_t errsz,
    int *usage, ...)
{
	const struct ctl_verb *v = ctl_verb_find(verb);
	char *w[MAXW + 1];
	const char *s;
	va_list ap;
	int n = 0;

	ck_assert_ptr_nonnull(v);
	w[n++] = (char *)(uintptr_t)verb;
	va_start(ap, usage);
	while ((s = va_arg(ap, const char *)) != NULL && n < MAXW)
		w[n++] = (char *)(uintptr_t)s;
	va_end(ap);
	w[n] = NULL;
	err[0] = '\0';
	return ctl_args_parse(v, n, w, a, err, errsz, usage);
}

START_TEST(t_options_anywhere)
{
	const struct ctl_verb *v = ctl_verb_find("send");
	union ctl_args a, b;
	char err[256];
	int usage;

	ck_assert_int_eq(parse("send", &a, err, sizeof(err), &usage, "--key",
	    "k", "w1", "hi", NULL), 0);
	ck_assert_int_eq(parse("send", &b, err, sizeof(err), &usage, "w1",
	    "hi", "--key", "k", NULL), 0);
	ck_assert_str_eq(a.send.member, "w1");
	ck_assert_str_eq(a.send.text, "hi");
	ck_assert_str_eq(a.send.key, "k");
	ck_assert_str_eq(b.send.member, "w1");
	ck_assert_str_eq(b.send.text, "hi");
	ck_assert_str_eq(b.send.key, "k");
	ck_assert_int_eq(a.send.wait, 0);
	ck_assert_int_eq(a.send.timeout_ms.set, 0);
	ctl_args_free(v, &a);
	ctl_args_free(v, &b);
	/* between the positionals, and --key=VALUE */
	ck_assert_int_eq(parse("send", &a, err, sizeof(err), &usage, "w1",
	    "--wait", "hi", "--timeout-ms", "250", "--key=x", NULL), 0);
	ck_assert_str_eq(a.send.text, "hi");
	ck_assert_int_eq(a.send.wait, 1);
	ck_assert_int_eq(a.send.timeout_ms.set, 1);
	ck_assert_int_eq(a.send.timeout_ms.v, 250);
	ck_assert_str_eq(a.send.key, "x");
	ctl_args_free(v, &a);
	/* "--" ends the options; "-" is a word */
	ck_assert_int_eq(parse("send", &a, err, sizeof(err), &usage, "w1",
	    "--", "--key", NULL), 0);
	ck_assert_str_eq(a.send.text, "--key");
	ck_assert_ptr_null(a.send.key);
	ctl_args_free(v, &a);
	ck_assert_int_eq(parse("send", &a, err, sizeof(err), &usage, "w1",
	    "-", NULL), 0);
	ck_assert_str_eq(a.send.text, "-");
	ctl_args_free(v, &a);
	/* a short flag */
	ck_assert_int_eq(parse("events", &a, err, sizeof(err), &usage, "-f",
	    "--since", "3", NULL), 0);
	ck_assert_int_eq(a.events.follow, 1);
	ck_assert_int_eq(a.events.since.v, 3);
	ctl_args_free(ctl_verb_find("events"), &a);
}
END_TEST

/* Each malformed line: its error, and whether it is a usage error. */
START_TEST(t_client_errors)
{
	union ctl_args a;
	char err[256];
	int usage;

	ck_assert_int_eq(parse("send", &a, err, sizeof(err), &usage, "w1",
	    NULL), -1);
	ck_assert_str_eq(err, "send: TEXT is missing");
	ck_assert_int_eq(usage, 1);
	ck_assert_ptr_null(a.send.member);	/* nothing left allocated */
	ck_assert_int_eq(parse("send", &a, err, sizeof(err), &usage, "w1",
	    "hi", "--bogus", NULL), -1);
	ck_assert_str_eq(err, "send: unknown option \"--bogus\"");
	ck_assert_int_eq(usage, 1);
	ck_assert_int_eq(parse("send", &a, err, sizeof(err), &usage, "w1",
	    "hi", "--at", "5", NULL), -1);	/* tick's, not send's */
	ck_assert_str_eq(err, "send: unknown option \"--at\"");
	ck_assert_int_eq(parse("send", &a, err, sizeof(err), &usage, "w1",
	    "hi", "--key", NULL), -1);
	ck_assert_str_eq(err, "send: --key needs a value");
	ck_assert_int_eq(usage, 1);
	ck_assert_int_eq(parse("send", &a, err, sizeof(err), &usage, "w1",
	    "hi", "--timeout-ms", "5s", NULL), -1);
	ck_assert_str_eq(err, "send: --timeout-ms: bad value \"5s\": "
	    "expected milliseconds");
	ck_assert_int_eq(usage, 1);	/* an option's bad value: exit 2 */
	ck_assert_int_eq(parse("tick", &a, err, sizeof(err), &usage, "--at",
	    "-1", NULL), -1);
	ck_assert_int_eq(usage, 1);
	ck_assert_int_eq(parse("status", &a, err, sizeof(err), &usage, "a",
	    "b", NULL), -1);
	ck_assert_str_eq(err, "status: unexpected argument \"b\"");
	ck_assert_int_eq(usage, 1);
	ck_assert_int_eq(parse("deliver", &a, err, sizeof(err), &usage,
	    "ops", "--key", "k", NULL), -1);
	ck_assert_str_eq(err, "deliver: --payload JSON is required");
	ck_assert_int_eq(usage, 1);
}
END_TEST

/* route add: KEY=VALUE pairs, typed by the table. */
START_TEST(t_key_value)
{
	const struct ctl_verb *v = ctl_verb_find("route add");
	union ctl_args a;
	char err[256];
	int usage;

	ck_assert_int_eq(parse("route add", &a, err, sizeof(err), &usage,
	    "r1", "sink=file", "target=/tmp/x", "retry_max=2", "channel=*",
	    NULL), 0);
	ck_assert_str_eq(a.route.id, "r1");
	ck_assert_str_eq(a.route.sink, "file");
	ck_assert_str_eq(a.route.target, "/tmp/x");
	ck_assert_str_eq(a.route.channel, "*");
	ck_assert_int_eq(a.route.retry_max.set, 1);
	ck_assert_int_eq(a.route.retry_max.v, 2);
	ck_assert_int_eq(a.route.backoff_ms.set, 0);
	ck_assert_ptr_null(a.route.recipient);
	ctl_args_free(v, &a);
	ck_assert_int_eq(parse("route add", &a, err, sizeof(err), &usage,
	    "r1", "color=red", NULL), -1);
	ck_assert_str_eq(err, "unknown route key \"color\"");
	ck_assert_int_eq(usage, 0);
	ck_assert_int_eq(parse("route add", &a, err, sizeof(err), &usage,
	    "r1", "sink", NULL), -1);
	ck_assert_str_eq(err, "\"sink\": expected KEY=VALUE");
	ck_assert_int_eq(parse("route add", &a, err, sizeof(err), &usage,
	    "r1", "backoff_ms=soon", NULL), -1);
	ck_assert_str_eq(err, "route add: backoff_ms: bad value \"soon\": "
	    "expected a whole number");
}
END_TEST

/* A verb that takes NAME...: repeated strings, for tests of the parser. */
static const struct ctl_field f_names[] = {
	{ "names", CT_STRS, CF_POS | CF_REQ, NULL, 0, "NAME", NULL,
	    offsetof(union ctl_args, names) },
	{ "all", CT_BOOL, 0, "all", 'a', NULL, NULL,
	    offsetof(union ctl_args, names) + sizeof(struct ctl_strs) },
};
static const struct ctl_verb v_names = { "names", f_names, 2, 0 };

START_TEST(t_repeated)
{
	char *w[] = { "names", "a", "-a", "b", "c", NULL }, err[256], buf[64];
	msgpack_sbuffer sb;
	msgpack_unpacked u;
	msgpack_packer pk;
	union ctl_args a, b;
	int usage;

	ck_assert_str_eq(ctl_verb_usage(&v_names, buf, sizeof(buf)),
	    "names NAME... [-a|--all]");
	ck_assert_int_eq(ctl_args_parse(&v_names, 5, w, &a, err, sizeof(err),
	    &usage), 0);
	ck_assert_int_eq(a.names.n, 3);
	ck_assert_str_eq(a.names.v[2], "c");
	ck_assert_ptr_null(a.names.v[3]);
	/* through the wire and back */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	ctl_args_pack(&v_names, &a, &pk);
	msgpack_unpacked_init(&u);
	ck_assert(msgpack_unpack_next(&u, sb.data, sb.size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	ck_assert_int_eq(ctl_args_decode(&v_names, &u.data, &b, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(b.names.n, 3);
	ck_assert_str_eq(b.names.v[0], "a");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	ctl_args_free(&v_names, &a);
	ctl_args_free(&v_names, &b);
	ck_assert_int_eq(ctl_args_parse(&v_names, 1, w, &a, err, sizeof(err),
	    &usage), -1);
	ck_assert_str_eq(err, "names: NAME is missing");
}
END_TEST

START_TEST(t_usage)
{
	char buf[256];

	ck_assert_str_eq(ctl_verb_usage(ctl_verb_find("send"), buf,
	    sizeof(buf)), "send ID TEXT [--key KEY] [--wait] [--timeout-ms N] "
	    "[--stream]");
	ck_assert_str_eq(ctl_verb_usage(ctl_verb_find("kill"), buf,
	    sizeof(buf)), "kill NAME [SIGNAL]");
	ck_assert_str_eq(ctl_verb_usage(ctl_verb_find("route add"), buf,
	    sizeof(buf)), "route add ID KEY=VALUE...");
	ck_assert_str_eq(ctl_verb_usage(ctl_verb_find("events"), buf,
	    sizeof(buf)), "events [-f|--follow] [--since SEQ] [--source S] "
	    "[--type T] [-n|--last N] [--name NAME]");
	ck_assert_str_eq(ctl_verb_usage(ctl_verb_find("restart"), buf,
	    sizeof(buf)), "restart NAME...");
}
END_TEST

/* --- the daemon's side: an args map ------------------------------------ */

enum { V_STR, V_INT, V_NEG, V_BOOL, V_NUL, V_ARRAY };

/* Decode {k1: v1, ...} (each value of the kind given) for verb. */
static int
decode(const char *verb, union ctl_args *a, char *err, size_t errsz,
    int n, ...)
{
	const struct ctl_verb *v = ctl_verb_find(verb);
	msgpack_sbuffer sb;
	msgpack_unpacked u;
	msgpack_packer pk;
	va_list ap;
	int i, kind, r;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, (size_t)n);
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		mp_str(&pk, va_arg(ap, const char *));
		kind = va_arg(ap, int);
		if (kind == V_STR)
			mp_str(&pk, va_arg(ap, const char *));
		else if (kind == V_INT)
			msgpack_pack_int64(&pk, va_arg(ap, int));
		else if (kind == V_NEG)
			msgpack_pack_int64(&pk, -1);
		else if (kind == V_BOOL)
			msgpack_pack_true(&pk);
		else if (kind == V_NUL) {
			msgpack_pack_str(&pk, 3);
			msgpack_pack_str_body(&pk, "a\0b", 3);
		} else
			msgpack_pack_array(&pk, 0);
	}
	va_end(ap);
	msgpack_unpacked_init(&u);
	ck_assert(msgpack_unpack_next(&u, sb.data, sb.size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	err[0] = '\0';
	r = ctl_args_decode(v, &u.data, a, err, errsz);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

START_TEST(t_daemon_good)
{
	union ctl_args a;
	char err[256];
	int usage;

	ck_assert_int_eq(decode("send", &a, err, sizeof(err), 5, "text", V_STR,
	    "hi", "member", V_STR, "w1", "wait", V_BOOL, "timeout_ms", V_INT,
	    700, "key", V_STR, "k"), 0);
	ck_assert_str_eq(a.send.member, "w1");
	ck_assert_str_eq(a.send.text, "hi");
	ck_assert_str_eq(a.send.key, "k");
	ck_assert_int_eq(a.send.wait, 1);
	ck_assert_int_eq(a.send.timeout_ms.v, 700);
	ctl_args_free(ctl_verb_find("send"), &a);
	/* restart: the older {name}, and the command line's {names} */
	ck_assert_int_eq(decode("restart", &a, err, sizeof(err), 1, "name",
	    V_STR, "w1"), 0);
	ck_assert_str_eq(a.targets.name, "w1");
	ck_assert_ptr_null(a.targets.names.v);
	ctl_args_free(ctl_verb_find("restart"), &a);
	ck_assert_int_eq(parse("restart", &a, err, sizeof(err), &usage, "w1",
	    "pool", "worker-*", NULL), 0);
	ck_assert_int_eq(a.targets.names.n, 3);
	ck_assert_str_eq(a.targets.names.v[2], "worker-*");
	ck_assert_ptr_null(a.targets.name);
	ctl_args_free(ctl_verb_find("restart"), &a);
	ck_assert_int_eq(parse("restart", &a, err, sizeof(err), &usage,
	    NULL), -1);
	ck_assert_str_eq(err, "restart: NAME is missing");
	ck_assert_int_eq(usage, 1);
}
END_TEST

/* Each bad args map: refused, naming the field, nothing kept. */
START_TEST(t_daemon_errors)
{
	union ctl_args a;
	char err[256];

	ck_assert_int_eq(decode("kill", &a, err, sizeof(err), 0), -1);
	ck_assert_str_eq(err, "kill: \"name\" is required");
	ck_assert_int_eq(decode("send", &a, err, sizeof(err), 1, "member",
	    V_STR, "w1"), -1);
	ck_assert_str_eq(err, "send: \"text\" is required");
	ck_assert_ptr_null(a.send.member);
	ck_assert_int_eq(decode("send", &a, err, sizeof(err), 2, "member",
	    V_STR, "w1", "text", V_INT, 5), -1);
	ck_assert_str_eq(err, "send: \"text\" is an integer, not a string");
	ck_assert_int_eq(decode("send", &a, err, sizeof(err), 3, "member",
	    V_STR, "w1", "text", V_STR, "x", "wait", V_STR, "yes"), -1);
	ck_assert_str_eq(err, "send: \"wait\" is a string, not a boolean");
	ck_assert_int_eq(decode("tick", &a, err, sizeof(err), 1, "at", V_STR,
	    "5"), -1);
	ck_assert_str_eq(err, "tick: \"at\" is a string, not an integer");
	ck_assert_int_eq(decode("tick", &a, err, sizeof(err), 1, "at", V_NEG),
	    -1);
	ck_assert_str_eq(err, "tick: \"at\" is negative");
	ck_assert_int_eq(decode("status", &a, err, sizeof(err), 2, "name",
	    V_STR, "a", "colour", V_STR, "red"), -1);
	ck_assert_str_eq(err, "status: unknown field \"colour\"");
	ck_assert_ptr_null(a.name.name);
	ck_assert_int_eq(decode("status", &a, err, sizeof(err), 2, "name",
	    V_STR, "a", "name", V_STR, "b"), -1);
	ck_assert_str_eq(err, "status: \"name\" is given twice");
	ck_assert_int_eq(decode("status", &a, err, sizeof(err), 1, "name",
	    V_NUL), -1);
	ck_assert_str_eq(err, "status: \"name\" holds a NUL byte");
	ck_assert_int_eq(decode("status", &a, err, sizeof(err), 1, "name",
	    V_ARRAY), -1);
	ck_assert_str_eq(err, "status: \"name\" is an array, not a string");
	ck_assert_int_eq(decode("reload", &a, err, sizeof(err), 1, "now",
	    V_BOOL), -1);
	ck_assert_str_eq(err, "reload: unknown field \"now\"");
}
END_TEST

START_TEST(t_utf8)
{
	const char *field;
	union ctl_args a;
	char err[256];
	size_t at;

	ck_assert_int_eq(decode("send", &a, err, sizeof(err), 2, "member",
	    V_STR, "w1", "text", V_STR, "ab\xff" "c"), 0);
	ck_assert_int_eq(ctl_args_utf8(ctl_verb_find("send"), &a, &field,
	    &at), 0);
	ck_assert_str_eq(field, "text");
	ck_assert_int_eq(at, 2);
	ctl_args_free(ctl_verb_find("send"), &a);
}
END_TEST

/* mobkitd serves every verb mobkitctl may send (the domains registered). */
START_TEST(t_every_verb_served)
{
	size_t i;

	for (i = 0; i < ctl_nverbs; i++)
		ck_assert_msg(ctl_handler_find(ctl_verbs[i].name) != NULL,
		    "no handler for %s", ctl_verbs[i].name);
}
END_TEST

Suite *
ctlverbs_suite(void)
{
	Suite *s = suite_create("ctlverbs");
	TCase *tc = tcase_create("ctlverbs");

	tcase_add_test(tc, t_options_anywhere);
	tcase_add_test(tc, t_client_errors);
	tcase_add_test(tc, t_key_value);
	tcase_add_test(tc, t_repeated);
	tcase_add_test(tc, t_usage);
	tcase_add_test(tc, t_daemon_good);
	tcase_add_test(tc, t_daemon_errors);
	tcase_add_test(tc, t_utf8);
	tcase_add_test(tc, t_every_verb_served);
	suite_add_tcase(s, tc);
	return s;
}
