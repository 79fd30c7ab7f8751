/* benchlib.h: what the benchmark harnesses share. */
#ifndef MOBKIT_BENCHLIB_H
#define MOBKIT_BENCHLIB_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

/* The p-th percentile (0..1) of v, sorting v. */
uint64_t	pct(uint64_t *v, size_t n, double p);
/* Connect to a control socket, retrying for 10 s; exits on failure. */
int		ctl_connect(const char *path);
/* Send one control request frame; exits on failure. */
void		ctl_request(int fd, const char *verb, int argc,
		    const char **argv);
/* The same, returning -1 when the daemon is gone. */
int		ctl_send_request(int fd, const char *verb, int argc,
		    const char **argv);
/* A connection's read buffer. */
struct rbuf {
	char	*buf;
	size_t	 len, cap;
};
/* Read what fd has; call fn(arg, msg) per whole frame; -1 when gone. */
int		ctl_pump(int fd, struct rbuf *, void (*fn)(void *,
		    const msgpack_object *), void *arg);
/* A numeric field of /proc/PID/FILE (status, smaps_rollup), or -1. */
long		proc_field(pid_t pid, const char *file, const char *field);

/* A keep-alive HTTP/1.1 server on a free loopback port (*port), in a
 * child process, answering every request with resp (a whole response). */
pid_t		http_serve(const char *resp, int *port);

#endif
