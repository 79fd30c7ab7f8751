/*
 * benchchild FIFO: the first thing it does is write "PID MONO_US" to FIFO,
 * then it waits to be killed.  The benchmarks read those stamps.
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
	int fd, n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (argc < 2)
		return 2;
	n = snprintf(line, sizeof(line), "%d %lld\n", (int)getpid(),
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	if ((fd = open(argv[1], O_WRONLY)) != -1) {
		(void)!write(fd, line, (size_t)n);
		close(fd);
	}
	for (;;)
		pause();
}
