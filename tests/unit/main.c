/* main.c: run every unit suite. */
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "unit.h"

int
main(void)
{
	SRunner *sr;
	int failed;

	log_init("unit", LOG_L_ERROR);
	sr = srunner_create(frame_suite());
	srunner_add_suite(sr, mpack_suite());
	srunner_add_suite(sr, proto_suite());
	srunner_add_suite(sr, ctlverbs_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, budget_suite());
	srunner_add_suite(sr, table_suite());
	srunner_add_suite(sr, cron_suite());
	srunner_add_suite(sr, fuzz_suite());
	srunner_add_suite(sr, mail_suite());
	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, msgtab_suite());
	srunner_add_suite(sr, wire_suite());
	srunner_add_suite(sr, mcp_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
