/*
 * modules.h: calls to modules, their results, and the route table
 * (mob/modules.c), with the routing verbs.
 */
#ifndef MOB_MODULES_H
#define MOB_MODULES_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "config.h"

struct child;
struct client;

void	 routes_from_config(struct config *);
void	 routes_pack(msgpack_packer *);
void	 routes_push(void);
/* A route added at run time, as a cluster shares it (roster.c). */
struct route_row {
	const char	*id, *recipient, *channel, *sink, *target;
	int		 retry_max;
	int64_t		 backoff_ms;
	int		 rate;
};
/* The added routes become these (config routes keep their ids). */
void	 routes_set_added(const struct route_row *, int);
int	 module_call(struct client *, const char *module, const char *verb,
	    const msgpack_sbuffer *args);
typedef void (*module_done_cb)(void *arg, const msgpack_object *result,
	    const char *err);
int	 module_call_cb(const char *module, const char *verb,
	    const msgpack_sbuffer *args, module_done_cb, void *arg);
void	 module_hello(struct child *);
void	 module_ready(struct child *);
void	 module_gone(struct child *);
struct msg_view;
int	 module_result(struct child *, const struct msg_view *);
struct ctl_deliver_args;
void	 resolve_args_pack(msgpack_packer *, const struct ctl_deliver_args *);


#endif
