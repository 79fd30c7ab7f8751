/* test_table.c: the child state x event table. */
#include "engine/engine.h"
#include "unit.h"

START_TEST(t_table)
{
	static const struct {
		int		 state, event;
		const char	*action;
	} want[] = {
		{ CS_STOPPED, CE_START, "spawn" },
		{ CS_STOPPED, CE_READY, "ignore" },
		{ CS_STARTING, CE_READY, "ready" },
		{ CS_STARTING, CE_EXIT, "failed" },
		{ CS_STARTING, CE_DEADLINE, "deadline" },
		{ CS_STARTING, CE_STOP, "stop" },
		{ CS_HEALTHY, CE_EXIT, "failed" },
		{ CS_HEALTHY, CE_READY, "ignore" },
		{ CS_HEALTHY, CE_DEADLINE, "ignore" },
		{ CS_HEALTHY, CE_START, "ignore" },
		{ CS_FAILED, CE_BACKOFF, "backoff" },
		{ CS_FAILED, CE_START, "spawn" },
		{ CS_FAILED, CE_STOP, "drop" },
		{ CS_FAILED, CE_EXIT, "reaped" },
		{ CS_RESTARTING, CE_READY, "ready" },
		{ CS_RESTARTING, CE_DEADLINE, "deadline" },
		{ CS_EXHAUSTED, CE_START, "spawn" },
		{ CS_EXHAUSTED, CE_BACKOFF, "ignore" },
		{ CS_STOPPING, CE_EXIT, "stopped" },
		{ CS_STOPPING, CE_KILL, "kill" },
		{ CS_STOPPING, CE_START, "ignore" },
		{ CS_STOPPING, CE_READY, "ignore" },
		{ CS_STARTING, CE_WATCHDOG, "watchdog" },
		{ CS_HEALTHY, CE_WATCHDOG, "watchdog" },
		{ CS_RESTARTING, CE_WATCHDOG, "watchdog" },
		{ CS_FAILED, CE_WATCHDOG, "ignore" },
		{ CS_STOPPING, CE_WATCHDOG, "ignore" },
		{ CS_STOPPED, CE_WATCHDOG, "ignore" },
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strcmp(child_action_name(want[i].state,
		    want[i].event), want[i].action) == 0,
		    "state %s event %d: %s, want %s",
		    cstate_names[want[i].state], want[i].event,
		    child_action_name(want[i].state, want[i].event),
		    want[i].action);
	/* every exit is handled in every state, so no process goes unreaped */
	for (i = 0; i < CS__N; i++)
		ck_assert_str_ne(child_action_name((int)i, CE_EXIT), "ignore");
	ck_assert_str_eq(child_action_name(CS__N, 0), "invalid");
}
END_TEST

Suite *
table_suite(void)
{
	Suite *s = suite_create("table");
	TCase *tc = tcase_create("actions");

	tcase_add_test(tc, t_table);
	suite_add_tcase(s, tc);
	return s;
}
