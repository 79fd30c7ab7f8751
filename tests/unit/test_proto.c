/* test_proto.c: the control request parser and the message type names. */
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "ctlverbs.h"
#include "mpack.h"
#include "proto.h"
#include "unit.h"

/* Pack {t, version?, verb, args} with the args a map of strings. */
static void
pack_req(msgpack_sbuffer *sb, int64_t t, int64_t version, const char *verb,
    int n, const char **kv)
{
	msgpack_packer pk;
	int i;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, version >= 0 ? 4 : 3);
	mp_kint(&pk, "t", t);
	if (version >= 0)
		mp_kint(&pk, "version", version);
	mp_kstr(&pk, "verb", verb);
	mp_str(&pk, "args");
	msgpack_pack_map(&pk, (size_t)n);
	for (i = 0; i < n; i++)
		mp_kstr(&pk, kv[2 * i], kv[2 * i + 1]);
}

START_TEST(t_ctl_req_good)
{
	const char *kv[] = { "member", "w", "text", "hello" };
	const struct ctl_verb *v;
	struct ctl_req r;
	union ctl_args a;
	msgpack_sbuffer sb;
	char err[256];

	pack_req(&sb, MSG_CTL_REQUEST, PROTO_VERSION, "send", 2, kv);
	ck_assert_int_eq(ctl_req_decode(sb.data, sb.size, &r, &v, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(r.version, PROTO_VERSION);
	ck_assert_str_eq(r.verb, "send");
	ck_assert_str_eq(v->name, "send");
	ck_assert_str_eq(a.send.member, "w");
	ck_assert_str_eq(a.send.text, "hello");
	ck_assert_ptr_null(a.send.key);
	ctl_args_free(v, &a);
	ck_assert_ptr_null(a.send.text);
	msgpack_sbuffer_destroy(&sb);
	/* no version: parsed, version -1 (the connection decides) */
	pack_req(&sb, MSG_CTL_REQUEST, -1, "status", 0, NULL);
	ck_assert_int_eq(ctl_req_decode(sb.data, sb.size, &r, &v, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(r.version, -1);
	ck_assert_ptr_null(a.name.name);
	ctl_args_free(v, &a);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* Each bad request is refused with what is wrong with it. */
START_TEST(t_ctl_req_bad)
{
	static const struct {
		const char	*hex;	/* msgpack, as pairs of hex digits */
		const char	*err;
	} bad[] = {
		{ "c1", "malformed msgpack" },
		{ "83a174", "truncated msgpack" },
		{ "2a", "message is not a map" },
		{ "81a17864", "no integer message type \"t\"" },
		{ "81a1742c", "message type 44 (FIRE) is not a request" },
		{ "82a17464a776657273696f6ea131",
		    "\"version\" is a string, not an integer" },
		{ "82a17464a4766572622a", "\"verb\" is an integer, not a string" },
		{ "82a17464a46172677390", "no \"verb\"" },
		{ "82a17464a476657262a173", "no \"args\"" },
		{ "83a17464a476657262a173a461726773a178",
		    "\"args\" is a string, not a map" },
		{ "83a17464a476657262a173a46172677391c0",
		    "\"args\" is an array, not a map" },
		{ "83a17464a476657262a173a46172677380", "unknown verb \"s\"" },
		/* {t, verb: kill, args: {name: nil}} */
		{ "83a17464a476657262a46b696c6ca46172677381a46e616d65c0",
		    "kill: \"name\" is nil, not a string" },
	};
	const struct ctl_verb *v;
	struct ctl_req r;
	union ctl_args a;
	char buf[64], err[256];
	size_t i, j, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = strlen(bad[i].hex) / 2;
		for (j = 0; j < n; j++)
			buf[j] = (char)strtol((char[]){ bad[i].hex[2 * j],
			    bad[i].hex[2 * j + 1], 0 }, NULL, 16);
		ck_assert_msg(ctl_req_decode(buf, n, &r, &v, &a, err,
		    sizeof(err)) == -1, "%s accepted", bad[i].hex);
		ck_assert_msg(strcmp(err, bad[i].err) == 0, "%s: \"%s\", "
		    "want \"%s\"", bad[i].hex, err, bad[i].err);
		ck_assert_ptr_null(a.kill.name);
	}
}
END_TEST

/* A verb too long is refused. */
START_TEST(t_ctl_req_limits)
{
	char verb[CTL_VERB_MAX + 8], err[256];
	const struct ctl_verb *v;
	struct ctl_req r;
	union ctl_args a;
	msgpack_sbuffer sb;

	memset(verb, 'v', sizeof(verb) - 1);
	verb[sizeof(verb) - 1] = '\0';
	pack_req(&sb, MSG_CTL_REQUEST, 1, verb, 0, NULL);
	ck_assert_int_eq(ctl_req_decode(sb.data, sb.size, &r, &v, &a, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "\"verb\" is longer than 31 bytes or holds a "
	    "NUL");
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(t_msg_names)
{
	ck_assert_str_eq(msg_type_name(MSG_PING), "PING");
	ck_assert_str_eq(msg_type_name(MSG_PONG), "PONG");
	ck_assert_str_eq(msg_type_name(9999), "unknown");
}
END_TEST

Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("ctl_req");

	tcase_add_test(tc, t_ctl_req_good);
	tcase_add_test(tc, t_ctl_req_bad);
	tcase_add_test(tc, t_ctl_req_limits);
	tcase_add_test(tc, t_msg_names);
	suite_add_tcase(s, tc);
	return s;
}
