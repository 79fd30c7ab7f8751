/*
 * stdio.c: MCP's stdio transport: the server is our child, its stdin and
 * stdout pipes carry one JSON-RPC message a line, its stderr is ours
 * (mobkitd logs it).  It stays in our process group (the root's stop and
 * kill reach it) and dies with us (PR_SET_PDEATHSIG).  Writes are queued
 * and written as the pipe takes them, up to a bound; the server's exit or
 * the end of its output ends the bridge, non-zero.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "jsonrpc.h"
#include "log.h"

#define WQ_MAX		(64u << 20)	/* bytes queued for the server */
#define STOP_GRACE	2.0		/* s: stdin closed -> TERM -> KILL */

struct chunk {
	struct chunk	*next;
	char		*buf;
	size_t		 len, off;
};

static struct {
	pid_t		 pid;
	int		 in, out;	/* its stdin (we write), stdout */
	ev_io		 rio, wio;
	ev_child	 cw;
	ev_timer	 grace;
	int		 graces;
	struct chunk	*head, *tail;
	size_t		 queued;
	struct jrpc_lines lines;
} P = { .in = -1, .out = -1 };

static void
line_cb(void *arg, char *line, size_t len)
{
	(void)arg;
	session_line(line, len);
}

/* The server's output: lines to the session; EOF ends us. */
static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	char buf[65536];
	ssize_t n;

	(void)revents;
	if ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		jrpc_lines_feed(&P.lines, buf, (size_t)n, line_cb, NULL);
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	ev_io_stop(loop, w);
	if (P.graces > 0)
		return;		/* stopping: its exit ends us */
	log_warnx("%s: the server closed its output%s", bridge_name,
	    n == -1 ? " (read error)" : "");
	if (P.pid > 0)
		kill(P.pid, SIGKILL);
	bridge_exit(1);
}

/* Write what is queued while the pipe takes it; wait for room if full. */
static void
flush(void)
{
	struct chunk *c;
	ssize_t n;

	while ((c = P.head) != NULL) {
		n = write(P.in, c->buf + c->off, c->len - c->off);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (!ev_is_active(&P.wio))
				ev_io_start(bridge_loop, &P.wio);
			return;
		}
		if (n == -1) {
			log_warn("%s: writing to the server", bridge_name);
			bridge_exit(1);
		}
		c->off += (size_t)n;
		if (c->off < c->len)
			continue;
		P.head = c->next;
		if (P.head == NULL)
			P.tail = NULL;
		P.queued -= c->len;
		free(c->buf);
		free(c);
	}
	ev_io_stop(bridge_loop, &P.wio);
}

static void
write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	flush();
}

static int
stdio_send(char *msg, size_t len, int64_t id)
{
	struct chunk *c;

	(void)id;
	if (P.in == -1 || P.queued + len > WQ_MAX) {
		free(msg);
		return -1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->buf = msg;
	c->len = len;
	if (P.tail != NULL)
		P.tail->next = c;
	else
		P.head = c;
	P.tail = c;
	P.queued += len;
	if (!ev_is_active(&P.wio))
		flush();	/* at once: the pipe is usually empty */
	return 0;
}

/* The server exited: so do we, 0 only if we asked it to. */
static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	int st = w->rstatus;

	(void)loop;
	(void)revents;
	P.pid = 0;
	if (P.graces > 0)
		bridge_exit(0);
	if (WIFSIGNALED(st))
		log_warnx("%s: the server was killed by signal %d",
		    bridge_name, WTERMSIG(st));
	else
		log_warnx("%s: the server exited with status %d", bridge_name,
		    WEXITSTATUS(st));
	bridge_exit(1);
}

/* Stopping: stdin closed, then TERM, then KILL, a grace apart. */
static void
grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	if (P.pid <= 0)
		bridge_exit(0);
	kill(P.pid, P.graces++ == 1 ? SIGTERM : SIGKILL);
	ev_timer_set(w, STOP_GRACE, 0.);
	ev_timer_start(bridge_loop, w);
}

static void
stdio_stop(void)
{
	ev_io_stop(bridge_loop, &P.wio);
	if (P.in != -1)
		close(P.in);
	P.in = -1;
	P.graces = 1;
	if (P.pid <= 0)
		bridge_exit(0);
	ev_timer_init(&P.grace, grace_cb, STOP_GRACE / 4, 0.);
	ev_timer_start(bridge_loop, &P.grace);
}

/* In the child: signals as at birth, pipes on 0 and 1, then exec. */
static void __attribute__((noreturn))
exec_server(char **argv, int in[2], int out[2], pid_t parent)
{
	sigset_t all;
	int sig;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	if (dup2(in[0], 0) == -1 || dup2(out[1], 1) == -1)
		_exit(127);
	closefrom(3);
	execvp(argv[0], argv);
	dprintf(2, "mobkit-mcp: %s: cannot run \"%s\": %s\n", bridge_name,
	    argv[0], strerror(errno));
	_exit(127);
}

/* Spawn the server and watch its pipes and its exit. */
int
stdio_open(char **argv)
{
	int in[2], out[2];
	pid_t me = getpid();

	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1) {
		log_warn("%s: pipe", bridge_name);
		return -1;
	}
	if ((P.pid = fork()) == -1) {
		log_warn("%s: fork", bridge_name);
		return -1;
	}
	if (P.pid == 0)
		exec_server(argv, in, out, me);
	close(in[0]);
	close(out[1]);
	P.in = in[1];
	P.out = out[0];
	fcntl(P.in, F_SETFL, O_NONBLOCK);
	fcntl(P.out, F_SETFL, O_NONBLOCK);
	jrpc_lines_init(&P.lines, JRPC_LINE_MAX);
	ev_io_init(&P.rio, read_cb, P.out, EV_READ);
	ev_io_init(&P.wio, write_cb, P.in, EV_WRITE);
	ev_io_start(bridge_loop, &P.rio);
	ev_child_init(&P.cw, child_cb, P.pid, 0);
	ev_child_start(bridge_loop, &P.cw);
	bridge_transport = &stdio_transport;
	log_info("%s: server %s started, pid %d", bridge_name, argv[0],
	    (int)P.pid);
	return 0;
}

const struct transport stdio_transport = {
	.name = "stdio",
	.send = stdio_send,
	.stop = stdio_stop,
};
