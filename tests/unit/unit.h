/* unit.h: the suites of the unit test binary. */
#ifndef UNIT_H
#define UNIT_H

#include <check.h>

Suite	*frame_suite(void);
Suite	*mpack_suite(void);
Suite	*proto_suite(void);
Suite	*ctlverbs_suite(void);
Suite	*config_suite(void);
Suite	*budget_suite(void);
Suite	*table_suite(void);
Suite	*cron_suite(void);
Suite	*fuzz_suite(void);
Suite	*mail_suite(void);
Suite	*store_suite(void);
Suite	*msgtab_suite(void);
Suite	*wire_suite(void);
Suite	*mcp_suite(void);

#endif
