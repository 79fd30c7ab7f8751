/* test_store.c: the store interface's contract, in memory and on SQLite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "mob/mailbox.h"
#include "mob/persist.h"
#include "store.h"
#include "unit.h"

static int	 calls;
static char	 last_err[64];

/* An after-commit callback that counts and notes its error. */
static void
done_cb(void *arg, const char *err)
{
	(void)arg;
	calls++;
	snprintf(last_err, sizeof(last_err), "%s", err ? err : "");
}

/* An input, as the mailbox would make one. */
static struct input *
input_new(const char *id)
{
	struct input *in = calloc(1, sizeof(*in));

	snprintf(in->id, sizeof(in->id), "%s", id);
	return in;
}

START_TEST(t_memory)
{
	struct mbox mb;
	struct input *in = input_new("in-1"), out;
	struct store_fin fin;

	memset(&mb, 0, sizeof(mb));
	memset(&out, 0, sizeof(out));
	mb.id = "m";
	ck_assert_int_eq(store_enabled(), 0);
	ck_assert_ptr_null(store_failure());
	/* nothing is written: what waits on a commit runs at once */
	calls = 0;
	store_after_commit(done_cb, NULL);
	ck_assert_int_eq(calls, 1);
	ck_assert_str_eq(last_err, "");
	/* nothing is kept: no input becomes dirty, reads find nothing */
	persist_input(&mb, in);
	ck_assert_int_eq(in->dirty, 0);
	store_snapshot_append("m", "[{\"role\":\"user\"}]");
	ck_assert_ptr_null(store_history("m", 1 << 20));
	ck_assert_int_eq(store_recall("m", "k", 0, &fin), 0);
	ck_assert_int_eq(persist_recall("m", "k", 0, &out), 0);
	ck_assert_int_eq(store_finished("m", 0, 10, NULL, NULL), 0);
	ck_assert_int_eq(store_commit(), 0);
	free(in);
}
END_TEST

START_TEST(t_sqlite_open)
{
	char dir[] = "/tmp/mobkit-unit-store.XXXXXX", path[128], cmd[160];
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* absent is sound; open creates it; closing goes back to memory */
	ck_assert_int_eq(store_verify(dir), 0);
	ck_assert_int_eq(store_open(dir), 0);
	ck_assert_int_eq(store_enabled(), 1);
	ck_assert_ptr_null(store_failure());
	store_close();
	ck_assert_int_eq(store_enabled(), 0);
	ck_assert_int_eq(store_verify(dir), 0);
	/* a file that is not a store is refused, never started over */
	snprintf(path, sizeof(path), "%s/mobkit.db", dir);
	fp = fopen(path, "w");
	fputs("not a database, only text that is long enough to be read as "
	    "a header by the check before SQLite opens the file at all\n", fp);
	fclose(fp);
	ck_assert_int_eq(store_verify(dir), -1);
	ck_assert_int_eq(store_open(dir), -1);
	ck_assert_int_eq(store_enabled(), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("backends");

	tcase_add_test(tc, t_memory);
	tcase_add_test(tc, t_sqlite_open);
	suite_add_tcase(s, tc);
	return s;
}
