/*
 * log.c: one line per record on stderr, the process role in every line.
 * In mobkitd a line is text ("TIME mobkitd LEVEL: MSG", "<N>mobkitd
 * LEVEL: MSG" when stderr is the journal) or JSON (log_format = json),
 * and mobkitd's own lines also go to DIR/mobkitd.log (log_dir).
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
#include "logfile.h"

static const char *log_rolename = "mobkit";
static int log_level = LOG_L_INFO;
static int log_bare;	/* under mobkitd: it adds the time and our name */
static int log_json;	/* log_format = json */
static int log_journal;	/* stderr is the journal: <N> and no time */

/* The queue: [off, len) of buf is still to be written to stderr. */
static struct {
	int		 on;
	int		 sock;		/* stderr is a socket: MSG_DONTWAIT */
	int		 nonblock;	/* stderr is ours and O_NONBLOCK */
	char		*buf;
	size_t		 cap, off, len;
	unsigned long long dropped;
	struct logfile	*file;		/* DIR/mobkitd.log, or NULL */
	pthread_mutex_t	 mtx;
} q = { .mtx = PTHREAD_MUTEX_INITIALIZER };

#define LOG_LINE_SLACK	LOG_LINE_MAX	/* room for the rest of a line begun */

static void	log_emit(const struct log_rec *);
static int	journal_detect(void);
static size_t	line_len(char *line, int n, size_t size);

/* Set the role printed in every line and the verbosity. */
void
log_init(const char *role, int level)
{
	log_rolename = role;
	log_level = level;
	log_journal = journal_detect();
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

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* The syslog priority of a level: <3> error ... <7> debug. */
static int
level_prio(int level)
{
	static const int prio[] = { 3, 4, 6, 7 };

	return level >= 0 && level <= LOG_L_DEBUG ? prio[level] : 6;
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * s as a JSON string into d (room bytes, at least 16): escaped, a byte
 * that is not UTF-8 as U+FFFD, cut with "...[cut]" when it does not fit.
 */
static size_t
json_str(char *d, size_t room, const char *s)
{
	static const char cut[] = "...[cut]\"";
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, n, left = strlen(s), need;
	char esc[8];

	d[o++] = '"';
	while (left > 0) {
		n = 1;
		need = 0;
		if (*p == '"' || *p == '\\')
			need = (size_t)snprintf(esc, sizeof(esc), "\\%c", *p);
		else if (*p == '\n')
			need = (size_t)snprintf(esc, sizeof(esc), "\\n");
		else if (*p == '\t')
			need = (size_t)snprintf(esc, sizeof(esc), "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			need = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *p);
		else if (*p >= 0x80 && (n = utf8_seq(p, left)) == 0) {
			n = 1;
			need = (size_t)snprintf(esc, sizeof(esc), "\\ufffd");
		}
		if (o + (need > 0 ? need : n) + sizeof(cut) > room) {
			memcpy(d + o, cut, sizeof(cut) - 1);
			return o + sizeof(cut) - 1;
		}
		memcpy(d + o, need > 0 ? esc : (const char *)p, need > 0 ?
		    need : n);
		o += need > 0 ? need : n;
		p += n;
		left -= n;
	}
	d[o++] = '"';
	return o;
}

/* "2026-12-02T10:00:00.123Z" */
static void
iso_time(char *buf, size_t sz, const struct timespec *ts)
{
	struct tm tm;
	char s[24];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sz, "%s.%03dZ", s, (int)(ts->tv_nsec / 1000000) % 1000);
}

/* One record as a JSON object on one line (sz at least 512). */
static size_t
fmt_json(char *buf, size_t sz, const struct log_rec *r)
{
	char ts[64];
	size_t o;

	iso_time(ts, sizeof(ts), &r->ts);
	o = (size_t)snprintf(buf, sz, "{\"ts\":\"%s\",\"level\":\"%s\","
	    "\"child\":", ts, level_names[r->level]);
	if (r->child != NULL) {
		o += json_str(buf + o, 256, r->child);
		o += (size_t)snprintf(buf + o, sz - o, ",\"stream\":\"%s\"",
		    r->stream);
	} else
		o += (size_t)snprintf(buf + o, sz - o, "null");
	o += (size_t)snprintf(buf + o, sz - o, ",\"msg\":");
	o += json_str(buf + o, sz - o - 3, r->msg);
	memcpy(buf + o, "}\n", 3);
	return o + 2;
}

/* One record as a line of text or JSON, by flags (LOG_FMT_*). */
size_t
log_fmt(char *buf, size_t sz, const struct log_rec *r, int flags)
{
	char ts[64] = "", prio[8] = "", who[320] = "";
	int n;

	if (flags & LOG_FMT_JSON)
		return fmt_json(buf, sz, r);
	if (flags & LOG_FMT_PRIO)
		snprintf(prio, sizeof(prio), "<%d>", level_prio(r->level));
	if (flags & LOG_FMT_TIME) {
		iso_time(ts, sizeof(ts) - 1, &r->ts);
		strcat(ts, " ");
	}
	if (flags & LOG_FMT_BARE)
		;
	else if (r->child != NULL)
		snprintf(who, sizeof(who), "%s[%s] ", log_rolename, r->child);
	else
		snprintf(who, sizeof(who), "%s ", log_rolename);
	n = snprintf(buf, sz, "%s%s%s%s: %s\n", prio, ts, who,
	    r->child != NULL ? r->stream : r->tag, r->msg);
	return line_len(buf, n, sz);
}

/* How stderr's lines look: JSON, bare, or the journal's <N> (no time). */
static int
stderr_flags(void)
{
	if (log_json)
		return LOG_FMT_JSON;
	if (log_bare)
		return LOG_FMT_BARE;
	return log_journal ? LOG_FMT_PRIO : LOG_FMT_TIME;
}

/* How a log file's lines look (the time always, JSON by log_format). */
int
log_file_flags(void)
{
	return log_json ? LOG_FMT_JSON : LOG_FMT_TIME;
}

void
log_set_format(int json)
{
	log_json = json;
}

/* Write one record: time, role, level, message, optional strerror. */
static void
log_vwrite(int level, const char *tag, int err, const char *fmt, va_list ap)
{
	char msg[4096];
	struct log_rec r;
	size_t n;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
	}
	memset(&r, 0, sizeof(r));
	r.level = level;
	r.tag = tag;
	r.msg = msg;
	clock_gettime(CLOCK_REALTIME, &r.ts);
	log_emit(&r);
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

/*
 * The level of a child's line: its own "<N>" prefix (sd-daemon style) or
 * its "error:", "warn:", "debug:" word (mobkit's children), else info.
 */
int
log_line_level(const char *line)
{
	static const struct {
		const char	*w;
		int		 level;
	} words[] = {
		{ "fatal: ", LOG_L_ERROR }, { "error: ", LOG_L_ERROR },
		{ "warn: ", LOG_L_WARN }, { "warning: ", LOG_L_WARN },
		{ "info: ", LOG_L_INFO }, { "debug: ", LOG_L_DEBUG },
	};
	size_t i;

	if (line[0] == '<' && line[1] >= '0' && line[1] <= '7' &&
	    line[2] == '>')
		return line[1] <= '3' ? LOG_L_ERROR : line[1] == '4' ?
		    LOG_L_WARN : line[1] == '7' ? LOG_L_DEBUG : LOG_L_INFO;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strncmp(line, words[i].w, strlen(words[i].w)) == 0)
			return words[i].level;
	return LOG_L_INFO;
}

/* One line of a child's stdout or stderr, tagged with its name. */
void
log_child(const char *name, const char *stream, const char *line)
{
	struct log_rec r;

	memset(&r, 0, sizeof(r));
	r.level = log_line_level(line);
	r.child = name;
	r.stream = stream;
	r.msg = line;
	clock_gettime(CLOCK_REALTIME, &r.ts);
	log_emit(&r);
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

/* A record of our own about the log itself, formatted for stderr. */
static size_t
note_fmt(char *buf, size_t sz, int level, const char *msg, int flags)
{
	struct log_rec r;

	memset(&r, 0, sizeof(r));
	r.level = level;
	r.tag = level_names[level];
	r.msg = msg;
	clock_gettime(CLOCK_REALTIME, &r.ts);
	return log_fmt(buf, sz, &r, flags);
}

/* Queue "N log lines dropped" once the lines before it are out. */
static void
queue_dropped_report(void)
{
	char msg[128], line[512];
	size_t n;

	if (q.dropped == 0)
		return;
	snprintf(msg, sizeof(msg), "%llu log lines dropped (stderr could "
	    "not take them)", q.dropped);
	q.dropped = 0;
	n = note_fmt(line, sizeof(line), LOG_L_WARN, msg, stderr_flags());
	(void)queue_add(line, n, 1);
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
stderr_emit_locked(const char *line, size_t len)
{
	ssize_t n = 0;

	if (!q.on) {
		(void)fwrite(line, 1, len, stderr);
		return;
	}
	if (q.off == q.len) {
		if ((n = stderr_write(line, len)) < 0) {
			q.dropped++;
			return;
		}
		if ((size_t)n == len) {
			if (q.dropped > 0) {
				queue_dropped_report();
				queue_flush_locked();
			}
			return;
		}
	}
	(void)queue_add(line + n, len - (size_t)n, n > 0);
}

/*
 * What happened to mobkitd.log, said on stderr (and in the file itself
 * once it is written again).  The caller holds q.mtx.
 */
static void
file_report_locked(int r)
{
	char msg[PATH_MAX + 512], line[PATH_MAX + 1024];
	size_t n;

	if (r == LF_BROKE)
		snprintf(msg, sizeof(msg), "log file %s: %s; its lines are "
		    "lost until it can be written again", q.file->path,
		    q.file->err);
	else if (r == LF_RECOVERED)
		snprintf(msg, sizeof(msg), "log file %s: written again (%llu "
		    "lines were lost)", q.file->path,
		    (unsigned long long)q.file->lost);
	else
		return;
	n = note_fmt(line, sizeof(line), r == LF_BROKE ? LOG_L_ERROR :
	    LOG_L_INFO, msg, stderr_flags());
	stderr_emit_locked(line, n);
	if (r == LF_RECOVERED) {
		n = note_fmt(line, sizeof(line), LOG_L_INFO, msg,
		    log_file_flags());
		(void)logfile_write(q.file, line, n);
	}
}

/* One record: to mobkitd.log (our own lines) and to stderr. */
static void
log_emit(const struct log_rec *r)
{
	char line[LOG_LINE_MAX];
	size_t len;
	int fr;

	pthread_mutex_lock(&q.mtx);
	if (q.file != NULL && r->child == NULL) {
		len = log_fmt(line, sizeof(line), r, log_file_flags());
		if ((fr = logfile_write(q.file, line, len)) != LF_OK)
			file_report_locked(fr);
	}
	len = log_fmt(line, sizeof(line), r, stderr_flags());
	stderr_emit_locked(line, len);
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

/*
 * Is stderr the journal?  systemd says so in JOURNAL_STREAM=DEV:INODE,
 * which must be the file on fd 2 (a redirection makes it another).
 */
static int
journal_detect(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (js == NULL || fstat(STDERR_FILENO, &st) == -1)
		return 0;
	errno = 0;
	dev = strtoull(js, &end, 10);
	if (errno != 0 || end == js || *end != ':')
		return 0;
	js = end + 1;
	ino = strtoull(js, &end, 10);
	if (errno != 0 || end == js || *end != '\0')
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

int
log_is_journal(void)
{
	return log_journal;
}

/*
 * mobkitd's own lines go to path too (NULL: to stderr only), rotated at
 * max bytes, keeping keep files.  The file is opened at once, so that a
 * directory it cannot be written to is said at start.
 */
void
log_set_file(const char *path, int64_t max, int keep)
{
	int r = LF_OK;

	pthread_mutex_lock(&q.mtx);
	if (q.file != NULL && (path == NULL || strcmp(path, q.file->path) !=
	    0)) {
		logfile_free(q.file);
		q.file = NULL;
	}
	if (path != NULL && q.file == NULL) {
		if ((q.file = logfile_new(path, max, keep)) != NULL)
			r = logfile_reopen(q.file);
	} else if (q.file != NULL)
		logfile_limits(q.file, max, keep);
	if (r != LF_OK)
		file_report_locked(r);
	pthread_mutex_unlock(&q.mtx);
}

/* SIGUSR1: open mobkitd.log again (logrotate moved it away). */
void
log_reopen(void)
{
	int r;

	pthread_mutex_lock(&q.mtx);
	if (q.file != NULL && (r = logfile_reopen(q.file)) != LF_OK)
		file_report_locked(r);
	pthread_mutex_unlock(&q.mtx);
}
