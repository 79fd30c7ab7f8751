/*
 * log.c: one line per record on stderr, the process role in every line.
 *
 * In mobkitd (log_queue_start) a line never blocks the caller: it goes to
 * stderr at once if stderr takes it, else into a bounded queue that the
 * event loop flushes when stderr is writable.  A line that does not fit
 * is dropped and counted; "N log lines dropped" follows once the queue
 * has drained.  Writes never block: a pipe, FIFO or terminal is reopened
 * with O_NONBLOCK (a description of our own, so the process that handed
 * us stderr is not affected), a socket is written with MSG_DONTWAIT.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_rolename = "mobkit";
static int log_level = LOG_L_INFO;
static int log_bare;	/* under mobkitd: it adds the time and our name */

/* The queue: [off, len) of buf is still to be written to stderr. */
static struct {
	int		 on;
	int		 sock;		/* stderr is a socket: MSG_DONTWAIT */
	int		 nonblock;	/* stderr is ours and O_NONBLOCK */
	char		*buf;
	size_t		 cap, off, len;
	unsigned long long dropped;
	pthread_mutex_t	 mtx;
} q = { .mtx = PTHREAD_MUTEX_INITIALIZER };

#define LOG_LINE_SLACK	16384	/* room for the rest of a line begun */

static void	log_emit(const char *line, size_t len);
static size_t	line_len(char *line, int n, size_t size);

/* Set the role printed in every line and the verbosity. */
void
log_init(const char *role, int level)
{
	log_rolename = role;
	log_level = level;
}

/* Under mobkitd: no time or role of our own (mobkitd adds them). */
void
log_set_bare(int bare)
{
	log_bare = bare;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

const char *
log_role(void)
{
	return log_rolename;
}

/* Map a log_level name from the config to its value. */
int
log_parselevel(const char *s)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

/* The length of a formatted line; one cut short still ends in "\n". */
static size_t
line_len(char *line, int n, size_t size)
{
	if (n < 0)
		return 0;
	if ((size_t)n >= size) {
		line[size - 2] = '\n';
		return size - 1;
	}
	return (size_t)n;
}

/* Write one record: time, role, level, message, optional strerror. */
static void
log_vwrite(int level, const char *tag, int err, const char *fmt, va_list ap)
{
	char msg[4096], ts[32], line[4096 + 512];
	struct timespec now;
	struct tm tm;
	int n;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_bare) {
		if (err)
			n = snprintf(line, sizeof(line), "%s: %s: %s\n", tag, msg,
			    strerror(err));
		else
			n = snprintf(line, sizeof(line), "%s: %s\n", tag, msg);
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		if (err)
			n = snprintf(line, sizeof(line), "%s.%03ldZ %s %s: %s: "
			    "%s\n", ts, now.tv_nsec / 1000000, log_rolename, tag,
			    msg, strerror(err));
		else
			n = snprintf(line, sizeof(line), "%s.%03ldZ %s %s: %s\n",
			    ts, now.tv_nsec / 1000000, log_rolename, tag, msg);
	}
	log_emit(line, line_len(line, n, sizeof(line)));
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_L_WARN, "warn", err, fmt, ap);
	va_end(ap);
	errno = err;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_WARN, "warn", 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_INFO, "info", 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_DEBUG, "debug", 0, fmt, ap);
	va_end(ap);
}

/* One line of a child's stdout or stderr, tagged with its name. */
void
log_child(const char *name, const char *stream, const char *line)
{
	char ts[32], buf[9000];
	struct timespec now;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(buf, sizeof(buf), "%s.%03ldZ %s[%s] %s: %s\n", ts,
	    now.tv_nsec / 1000000, log_rolename, name, stream, line);
	log_emit(buf, line_len(buf, n, sizeof(buf)));
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_L_ERROR, "fatal", err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_ERROR, "fatal", 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* --- the queue (mobkitd) ------------------------------------------ */

/*
 * Write what stderr takes now, never blocking: the bytes written, 0 when
 * it cannot take any, -1 on an error that will not pass (EPIPE, EIO).
 */
static ssize_t
stderr_write(const char *p, size_t len)
{
	struct pollfd pfd;
	ssize_t n;

	if (q.sock) {
		n = send(STDERR_FILENO, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == ENOTSOCK) {
			q.sock = 0;
			n = write(STDERR_FILENO, p, len);
		}
	} else if (q.nonblock)
		n = write(STDERR_FILENO, p, len);
	else {
		/* a pipe we could not reopen: PIPE_BUF fits once POLLOUT */
		pfd.fd = STDERR_FILENO;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 0) != 1)
			return 0;
		if (!(pfd.revents & POLLOUT))
			return -1;
		n = write(STDERR_FILENO, p, len > PIPE_BUF ? PIPE_BUF : len);
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 0;
	return n;
}

/* Count the lines in [p, p + len) (a cut last line counts too). */
static unsigned long long
count_lines(const char *p, size_t len)
{
	unsigned long long n = 0;
	const char *e = p + len;

	while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		n++;
		p++;
	}
	return n > 0 ? n : len > 0;
}

/* Append to the queue; with force, past the cap (the rest of a line). */
static int
queue_add(const char *line, size_t len, int force)
{
	if (!force && q.len - q.off + len > q.cap) {
		q.dropped++;
		return -1;
	}
	if (q.len + len > q.cap + LOG_LINE_SLACK) {
		memmove(q.buf, q.buf + q.off, q.len - q.off);
		q.len -= q.off;
		q.off = 0;
	}
	if (q.len + len > q.cap + LOG_LINE_SLACK) {	/* forced, full */
		q.dropped++;
		return -1;
	}
	memcpy(q.buf + q.len, line, len);
	q.len += len;
	return 0;
}

/* Queue "N log lines dropped" once the lines before it are out. */
static void
queue_dropped_report(void)
{
	char line[256], ts[32];
	struct timespec now;
	struct tm tm;
	int n;

	if (q.dropped == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s warn: %llu log lines "
	    "dropped (stderr could not take them)\n", ts,
	    now.tv_nsec / 1000000, log_rolename, q.dropped);
	q.dropped = 0;
	(void)queue_add(line, line_len(line, n, sizeof(line)), 1);
}

/* Write the queue as far as stderr takes it; the caller holds q.mtx. */
static void
queue_flush_locked(void)
{
	ssize_t n;

	for (;;) {
		while (q.off < q.len) {
			if ((n = stderr_write(q.buf + q.off, q.len - q.off)) ==
			    0)
				return;
			if (n < 0) {
				/* lost: count its lines, try again later */
				q.dropped += count_lines(q.buf + q.off,
				    q.len - q.off);
				q.off = q.len = 0;
				return;
			}
			q.off += (size_t)n;
		}
		q.off = q.len = 0;
		if (q.dropped == 0)
			return;
		queue_dropped_report();
	}
}

/* One formatted line: to stderr now, or queued, or dropped and counted. */
static void
log_emit(const char *line, size_t len)
{
	ssize_t n = 0;

	if (!q.on) {
		(void)fwrite(line, 1, len, stderr);
		return;
	}
	pthread_mutex_lock(&q.mtx);
	if (q.off == q.len) {
		if ((n = stderr_write(line, len)) < 0) {
			q.dropped++;
			pthread_mutex_unlock(&q.mtx);
			return;
		}
		if ((size_t)n == len) {
			if (q.dropped > 0) {
				queue_dropped_report();
				queue_flush_locked();
			}
			pthread_mutex_unlock(&q.mtx);
			return;
		}
	}
	(void)queue_add(line + n, len - (size_t)n, n > 0);
	pthread_mutex_unlock(&q.mtx);
}

/* At exit: give stderr up to a second to take what is queued. */
static void
log_atexit(void)
{
	struct pollfd pfd;
	int i;

	for (i = 0; i < 100 && log_flush() > 0; i++) {
		pfd.fd = STDERR_FILENO;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, 10);
	}
}

/*
 * From now on lines never block: stderr gets what it takes, up to cap
 * bytes wait in the queue, the rest is dropped and counted.
 */
void
log_queue_start(size_t cap)
{
	struct stat st;
	int fd;

	if (q.on)
		return;
	if ((q.buf = malloc(cap + LOG_LINE_SLACK)) == NULL)
		return;		/* stay blocking: better than no log */
	q.cap = cap;
	if (fstat(STDERR_FILENO, &st) == 0 && S_ISSOCK(st.st_mode))
		q.sock = 1;
	else if (fstat(STDERR_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) ||
	    S_ISCHR(st.st_mode))) {
		/* an open file description of our own, non-blocking */
		if ((fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK |
		    O_CLOEXEC)) != -1) {
			if (dup2(fd, STDERR_FILENO) != -1)
				q.nonblock = 1;
			close(fd);
		}
	} else
		q.nonblock = 1;		/* a file: writes do not wait */
	q.on = 1;
	atexit(log_atexit);
}

/* Write what is queued as far as stderr takes it: the bytes left. */
size_t
log_flush(void)
{
	size_t left;

	if (!q.on)
		return 0;
	pthread_mutex_lock(&q.mtx);
	queue_flush_locked();
	left = q.len - q.off;
	pthread_mutex_unlock(&q.mtx);
	return left;
}

/* Bytes waiting for stderr. */
size_t
log_pending(void)
{
	size_t left;

	if (!q.on)
		return 0;
	pthread_mutex_lock(&q.mtx);
	left = q.len - q.off;
	pthread_mutex_unlock(&q.mtx);
	return left;
}

/* SIGUSR1: reopen log files.  mobkitd logs to stderr only, so far. */
void
log_reopen(void)
{
	log_info("reopening logs");
}
