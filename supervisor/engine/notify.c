/*
 * notify.c: telling our own supervisor (systemd Type=notify) how we are:
 * READY=1 once every child is healthy, STOPPING=1 at shutdown.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "engine/engine.h"

static char	*parent_notify;	/* systemd's NOTIFY_SOCKET, if any */

/* Take NOTIFY_SOCKET for ourselves: our children must not see it. */
void
sd_notify_init(void)
{
	if (getenv("NOTIFY_SOCKET") != NULL) {
		parent_notify = strdup(getenv("NOTIFY_SOCKET"));
		unsetenv("NOTIFY_SOCKET");
	}
}

/* Tell our own supervisor (systemd Type=notify) how we are. */
void
sd_notify_parent(const char *msg)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (parent_notify == NULL)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(parent_notify) >= sizeof(sun.sun_path))
		return;
	strncpy(sun.sun_path, parent_notify, sizeof(sun.sun_path) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(parent_notify));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	else
		len++;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_warn("sd_notify %s", parent_notify);
	close(fd);
}
