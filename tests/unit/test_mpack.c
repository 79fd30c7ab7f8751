/* test_mpack.c: the checked reader refuses what it should. */
#include <string.h>

#include "mpack.h"
#include "unit.h"

static msgpack_sbuffer sb;
static msgpack_unpacked u;

/* {"i": 5, "n": -3, "s": "abc", "b": true, "big": 2^63, "bin": nil} */
static const msgpack_object *
sample(void)
{
	msgpack_packer pk;
	const char *err;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);
	mp_kint(&pk, "i", 5);
	mp_kint(&pk, "n", -3);
	mp_kstr(&pk, "s", "abc");
	mp_kbool(&pk, "b", 1);
	mp_str(&pk, "big");
	msgpack_pack_uint64(&pk, (uint64_t)1 << 63);
	mp_knil(&pk, "bin");
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(frame_decode(sb.data, sb.size, &u, &err), 0);
	return &u.data;
}

static void
done(void)
{
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

START_TEST(t_reader)
{
	const msgpack_object *m = sample();
	int64_t v;
	int b;
	char buf[4];
	const char *s;
	size_t len;

	ck_assert_int_eq(mp_get_int(m, "i", &v), 0);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(mp_get_int(m, "n", &v), 0);
	ck_assert_int_eq(v, -3);
	ck_assert_int_eq(mp_get_int(m, "s", &v), -1);	/* wrong type */
	ck_assert_int_eq(mp_get_int(m, "missing", &v), -1);
	ck_assert_int_eq(mp_get_int(m, "big", &v), -1);	/* out of range */
	ck_assert_int_eq(mp_get_bool(m, "b", &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(mp_get_bool(m, "i", &b), -1);
	ck_assert_int_eq(mp_get_str(m, "s", &s, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(mp_get_str(m, "bin", &s, &len), -1);
	ck_assert_int_eq(mp_copy_str(m, "s", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "abc");
	ck_assert_int_eq(mp_copy_str(m, "s", buf, 3), -1);	/* too long */
	ck_assert_ptr_null(mp_strdup(m, "i"));
	ck_assert_ptr_null(mp_find(NULL, "i"));
	done();
}
END_TEST

Suite *
mpack_suite(void)
{
	Suite *s = suite_create("mpack");
	TCase *tc = tcase_create("reader");

	tcase_add_test(tc, t_reader);
	suite_add_tcase(s, tc);
	return s;
}
