/*
 * test_msgtab.c: every message type's table, through the reader and the
 * writer.  For each type: a whole message reads; one without each required
 * field in turn, one with a field of the wrong type and one with an extra
 * field are refused with an error naming the type and the field; what the
 * writer packs reads back the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpack.h"
#include "msgtab.h"
#include "proto.h"
#include "unit.h"

#define SKIP_NONE	-1
#define EXTRA		"zz_extra"

/* A value of the field's type (bad: of another type). */
static void
pack_value(msgpack_packer *pk, const struct msg_field *f, int bad);

/* A record (or message, type != 0) of d: every field but skip. */
static void
pack_rec(msgpack_packer *pk, const struct msg_def *d, int skip, int bad,
    int extra)
{
	int i, n = d->nfields + (d->type != 0) + (extra != 0);

	if (skip != SKIP_NONE)
		n--;
	msgpack_pack_map(pk, (size_t)n);
	if (d->type != 0)
		mp_kint(pk, "t", d->type);
	for (i = 0; i < d->nfields; i++) {
		if (d->fields[i].key == skip)
			continue;
		mp_str(pk, msg_key_name(d->fields[i].key));
		pack_value(pk, &d->fields[i], d->fields[i].key == bad);
	}
	if (extra)
		mp_kint(pk, EXTRA, 1);
}

static void
pack_value(msgpack_packer *pk, const struct msg_field *f, int bad)
{
	switch (bad ? (f->type == MF_INT ? MF_STR : MF_INT) : f->type) {
	case MF_INT:
		msgpack_pack_int64(pk, 7);
		break;
	case MF_STR:
		mp_str(pk, "s");
		break;
	case MF_BOOL:
		msgpack_pack_true(pk);
		break;
	case MF_BIN:
		msgpack_pack_bin(pk, 1);
		msgpack_pack_bin_body(pk, "x", 1);
		break;
	case MF_MAP:
		if (f->rec != NULL)
			pack_rec(pk, f->rec, SKIP_NONE, -1, 0);
		else
			msgpack_pack_map(pk, 0);
		break;
	case MF_ARRAY:
		msgpack_pack_array(pk, f->rec != NULL);
		if (f->rec != NULL)
			pack_rec(pk, f->rec, SKIP_NONE, -1, 0);
		break;
	default:
		msgpack_pack_int64(pk, 1);
	}
}

/* Read what pack_rec packs; the error (or "") into err. */
static int
read_one(const struct msg_def *d, int skip, int bad, int extra, char *err,
    size_t errsz)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	struct msg_view v;
	const char *why;
	int r;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_rec(&pk, d, skip, bad, extra);
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(frame_decode(sb.data, sb.size, &u, &why), 0);
	err[0] = '\0';
	r = d->type != 0 ? msg_read(&u.data, &v, err, errsz) :
	    msg_read_rec(&u.data, d, &v, err, errsz);
	if (r == 0 && d->type != 0)
		ck_assert_int_eq(v.type, d->type);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

/* err must name the table and the field, with what is wrong. */
static void
expect(const char *err, const struct msg_def *d, const char *key,
    const char *what)
{
	char want[128];

	snprintf(want, sizeof(want), "%s: field \"%s\": %s", d->name, key,
	    what);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
	    "%s: got \"%s\", want \"%s...\"", d->name, err, want);
}

/* The whole check of one table (a message or a record). */
static void
check_def(const struct msg_def *d)
{
	char err[512];
	int i, nreq = 0;

	ck_assert_msg(read_one(d, SKIP_NONE, -1, 0, err, sizeof(err)) == 0,
	    "%s: a whole message: %s", d->name, err);
	for (i = 0; i < d->nfields; i++) {
		const struct msg_field *f = &d->fields[i];
		const char *k = msg_key_name(f->key);

		if (f->flags & MF_REQ) {
			nreq++;
			ck_assert_int_eq(read_one(d, f->key, -1, 0, err,
			    sizeof(err)), -1);
			expect(err, d, k, "missing");
		} else
			ck_assert_msg(read_one(d, f->key, -1, 0, err,
			    sizeof(err)) == 0, "%s: without optional %s: %s",
			    d->name, k, err);
		if (f->type == MF_ANY)
			continue;
		ck_assert_int_eq(read_one(d, SKIP_NONE, f->key, 0, err,
		    sizeof(err)), -1);
		expect(err, d, k, f->type == MF_INT ? "a string, not" :
		    "an integer, not");
	}
	ck_assert_int_eq(read_one(d, SKIP_NONE, -1, 1, err, sizeof(err)), -1);
	expect(err, d, EXTRA, "unknown");
	(void)nreq;
}

START_TEST(t_every_table)
{
	int i, n = 0;

	for (i = 0; msg_defs[i] != NULL; i++, n++) {
		ck_assert_ptr_eq(msg_def_of(msg_defs[i]->type), msg_defs[i]);
		ck_assert_str_eq(msg_defs[i]->name,
		    msg_type_name(msg_defs[i]->type));
		check_def(msg_defs[i]);
	}
	ck_assert_int_eq(n, 27);	/* HELLO ... MCP_RESULT */
	check_def(&msg_rec_route);
	check_def(&msg_rec_schedule);
	check_def(&msg_rec_resolution);
}
END_TEST

/* A bad record inside a message names the message, item and field. */
START_TEST(t_nested)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	struct msg_view v;
	const char *why;
	char err[512];

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kint(&pk, "t", MSG_ROUTES);
	mp_str(&pk, "routes");
	msgpack_pack_array(&pk, 2);
	pack_rec(&pk, &msg_rec_route, SKIP_NONE, -1, 0);
	pack_rec(&pk, &msg_rec_route, K_SINK, -1, 0);
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(frame_decode(sb.data, sb.size, &u, &why), 0);
	ck_assert_int_eq(msg_read(&u.data, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "ROUTES: field \"routes\": item 1: route: "
	    "field \"sink\": missing");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* No type, an unknown type, a key twice, a string too long. */
START_TEST(t_envelope)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	struct msg_view v;
	const char *why;
	char err[512], id[80];

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kint(&pk, "seq", 1);
	msgpack_pack_map(&pk, 1);
	mp_kint(&pk, "t", 99);
	msgpack_pack_map(&pk, 3);
	mp_kint(&pk, "t", MSG_PONG);
	mp_kint(&pk, "seq", 1);
	mp_kint(&pk, "seq", 2);
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	msgpack_pack_map(&pk, 2);
	mp_kint(&pk, "t", MSG_INTERRUPT);
	mp_kstr(&pk, "input_id", id);
	msgpack_unpacked_init(&u);
	{
		size_t off = 0;
		static const char *const want[] = {
			"message without an integer type \"t\"",
			"message type 99: unknown",
			"PONG: field \"seq\": twice",
			"INTERRUPT: field \"input_id\": longer than 63 bytes",
		};
		int i;

		for (i = 0; i < 4; i++) {
			ck_assert_int_eq(msgpack_unpack_next(&u, sb.data,
			    sb.size, &off), MSGPACK_UNPACK_SUCCESS);
			ck_assert_int_eq(msg_read(&u.data, &v, err,
			    sizeof(err)), -1);
			ck_assert_str_eq(err, want[i]);
		}
	}
	(void)why;
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* Decode a writer's message and read it against its table. */
static void
read_back(struct msgw *w, msgpack_unpacked *u, struct msg_view *v)
{
	const char *why;
	char err[512];

	ck_assert_int_eq(msgw_end(w), 0);
	msgpack_unpacked_init(u);
	ck_assert_int_eq(frame_decode(msgw_data(w), msgw_len(w), u, &why), 0);
	ck_assert_msg(msg_read(&u->data, v, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(t_writer_round_trip)
{
	msgpack_unpacked u;
	struct msg_view v;
	struct msgw w;
	char buf[64];
	size_t len;

	msgw_begin(&w, MSG_ATTEMPT);
	msgw_str(&w, K_DELIVERY_ID, "d-1");
	msgw_int(&w, K_ATTEMPT, 3);
	msgw_str(&w, K_STATUS, "sent");
	msgw_str(&w, K_ERROR, NULL);
	msgw_int(&w, K_AT_MS, -5);
	msgw_bool(&w, K_FINAL, 1);
	read_back(&w, &u, &v);
	ck_assert_int_eq(v.type, MSG_ATTEMPT);
	ck_assert_int_eq(msgv_copy(&v, K_DELIVERY_ID, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "d-1");
	ck_assert_int_eq(msgv_int(&v, K_ATTEMPT, 0), 3);
	ck_assert_int_eq(msgv_int(&v, K_AT_MS, 0), -5);
	ck_assert_int_eq(msgv_bool(&v, K_FINAL, 0), 1);
	ck_assert_ptr_null(msgv_strdup(&v, K_ERROR));	/* nil */
	ck_assert_ptr_nonnull(msgv_raw(&v, K_ERROR));
	ck_assert_int_eq(msgv_has(&v, K_ERROR), 0);
	ck_assert_int_eq(memcmp(msgv_str(&v, K_STATUS, &len), "sent", 4), 0);
	ck_assert_uint_eq(len, 4);	/* not NUL-terminated */
	ck_assert_int_eq(((const unsigned char *)msgw_data(&w))[0], 0x87);
	msgpack_unpacked_destroy(&u);
	msgw_free(&w);

	/* a map passed through, and records inside a message */
	msgw_begin(&w, MSG_SCHEDULES);
	msgpack_pack_array(msgw_key(&w, K_SCHEDULES), 1);
	{
		struct msgw r;

		msgw_rec(&r, &w.pk, &msg_rec_schedule);
		msgw_str(&r, K_ID, "s1");
		msgw_str(&r, K_KIND, "cron");
		msgw_str(&r, K_EXPR, "* * * * *");
		msgw_str(&r, K_TIMEZONE, "UTC");
		msgw_nil(&r, K_LAST_DUE_MS);
		ck_assert_int_eq(msgw_end(&r), 0);
	}
	read_back(&w, &u, &v);
	ck_assert_uint_eq(msgv_obj(&v, K_SCHEDULES)->via.array.size, 1);
	msgpack_unpacked_destroy(&u);
	msgw_free(&w);

	/* past the inline bytes, onto the heap */
	{
		static char big[100000];
		char *back;

		memset(big, 'b', sizeof(big) - 1);
		msgw_begin(&w, MSG_RUN);
		msgw_str(&w, K_INPUT_ID, "in-1");
		msgw_str(&w, K_TEXT, big);
		read_back(&w, &u, &v);
		back = msgv_strdup(&v, K_TEXT);
		ck_assert_str_eq(back, big);
		free(back);
		msgpack_unpacked_destroy(&u);
		msgw_free(&w);
	}
}
END_TEST

/* A key the table does not declare, twice, or a required one missing. */
START_TEST(t_writer_refuses)
{
	struct msgw w;

	msgw_begin(&w, MSG_PING);
	ck_assert_int_eq(msgw_end(&w), -1);		/* no seq */
	msgw_free(&w);
	msgw_begin(&w, MSG_PING);
	msgw_int(&w, K_SEQ, 1);
	msgw_int(&w, K_DUE_MS, 1);			/* not PING's */
	ck_assert_int_eq(msgw_end(&w), -1);
	msgw_free(&w);
	msgw_begin(&w, MSG_PING);
	msgw_int(&w, K_SEQ, 1);
	msgw_int(&w, K_SEQ, 2);
	ck_assert_int_eq(msgw_end(&w), -1);
	msgw_free(&w);
	msgw_begin(&w, MSG_INTERRUPT);			/* longer than 63 */
	msgw_str(&w, K_INPUT_ID, "0123456789012345678901234567890123456789"
	    "012345678901234567890123");
	ck_assert_int_eq(msgw_end(&w), -1);
	msgw_free(&w);
}
END_TEST

Suite *
msgtab_suite(void)
{
	Suite *s = suite_create("msgtab");
	TCase *tc = tcase_create("msgtab");

	tcase_add_test(tc, t_every_table);
	tcase_add_test(tc, t_nested);
	tcase_add_test(tc, t_envelope);
	tcase_add_test(tc, t_writer_round_trip);
	tcase_add_test(tc, t_writer_refuses);
	suite_add_tcase(s, tc);
	return s;
}
