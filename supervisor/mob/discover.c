/* placeholder */
#include "client.h"
#include "verbs.h"
static int
v_rediscover(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	(void)cl; (void)a; (void)pk;
	return ctl_fail("not yet");
}

static const struct ctl_handler discover_verbs[] = {
	{ "rediscover", v_rediscover },
};
CTL_VERBS(discover_verbs)
