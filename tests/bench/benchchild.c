/*
 * benchchild [FIFO]: the first thing it does is write "PID MONO_US" to FIFO
 * (default "stamps" in its directory, for a service directory of
 * daemontools or runit whose run is this program), then it waits to be
 * killed.  The benchmarks read those stamps.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct timespec ts;
	char line[64];
	const char *fifo = argc > 1 ? argv[1] : "stamps";
	int fd, n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%d %lld\n", (int)getpid(),
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	if ((fd = open(fifo, O_WRONLY)) != -1) {
		(void)!write(fd, line, (size_t)n);
		close(fd);
	}
	for (;;)
		pause();
}
