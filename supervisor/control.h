/*
 * control.h: the control socket and the verbs (control.c).  What the
 * engine needs of a client is engine/client.h.
 */
#ifndef CONTROL_H
#define CONTROL_H

#include <msgpack.h>

#include "config.h"
#include "client.h"

struct client;
struct event_client_ops;

extern const struct event_client_ops control_event_ops;

int	 instance_lock(const char *path, const char *what);
int	 control_listen(const char *path);
void	 control_close(void);
void	 control_finish_shutdown(void);
int	 control_reload(msgpack_packer *);

#endif
