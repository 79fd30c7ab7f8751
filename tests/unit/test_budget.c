/* test_budget.c: sliding-window budgets and doubling, capped backoff. */
#include <stdlib.h>

#include "budget.h"
#include "unit.h"

START_TEST(t_window)
{
	struct budget b = { 0 };

	ck_assert_int_eq(budget_left(&b, 3, 1000, 0), 3);
	budget_spend(&b, 100);
	budget_spend(&b, 200);
	budget_spend(&b, 900);
	ck_assert_int_eq(budget_count(&b, 1000, 999), 3);
	ck_assert_int_eq(budget_left(&b, 3, 1000, 999), 0);
	/* 100 leaves the window at 1100, 200 at 1200 */
	ck_assert_int_eq(budget_count(&b, 1000, 1100), 2);
	ck_assert_int_eq(budget_left(&b, 3, 1000, 1200), 2);
	ck_assert_int_eq(budget_count(&b, 1000, 5000), 0);
	budget_reset(&b);
	ck_assert_int_eq(budget_count(&b, 1000, 0), 0);
	/* growth past the initial capacity */
	for (int i = 0; i < 100; i++)
		budget_spend(&b, 10000 + (uint64_t)i);
	ck_assert_int_eq(budget_count(&b, 1000, 10100), 100);
	ck_assert_int_eq(budget_left(&b, 5, 1000, 10100), 0);
	free(b.t);
}
END_TEST

START_TEST(t_backoff)
{
	ck_assert_uint_eq(backoff_delay(100, 30000, 1), 100);
	ck_assert_uint_eq(backoff_delay(100, 30000, 2), 200);
	ck_assert_uint_eq(backoff_delay(100, 30000, 3), 400);
	ck_assert_uint_eq(backoff_delay(100, 30000, 9), 25600);
	ck_assert_uint_eq(backoff_delay(100, 30000, 10), 30000);
	ck_assert_uint_eq(backoff_delay(100, 30000, 1000), 30000);
	ck_assert_uint_eq(backoff_delay(0, 30000, 50), 0);
	ck_assert_uint_eq(backoff_delay(500, 300, 1), 300);
}
END_TEST

Suite *
budget_suite(void)
{
	Suite *s = suite_create("budget");
	TCase *tc = tcase_create("arithmetic");

	tcase_add_test(tc, t_window);
	tcase_add_test(tc, t_backoff);
	suite_add_tcase(s, tc);
	return s;
}
