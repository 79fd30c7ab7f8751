/* main.c: run every unit suite. */
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "unit.h"

/* mobkitd.c is not linked here; the tree only needs this from it. */
void	sd_notify_parent(const char *);

void
sd_notify_parent(const char *msg)
{
	(void)msg;
}

int	config_check_commands(struct config *);

int
config_check_commands(struct config *cfg)
{
	(void)cfg;
	return 0;
}

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
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
