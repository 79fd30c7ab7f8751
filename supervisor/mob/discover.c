/*
 * discover.c: [mob] discover = PROGRAM ARGS.  The program is run (not
 * through a shell) at boot, at reload, on `rediscover` and every
 * discover_interval_ms; what it prints, one JSON object a line, is the
 * discovered part of the roster (discover_apply.c).
 *
 * Invariants: the loop never waits on the program: its stdout and stderr
 * are read by ev_io watchers, its exit is learnt from the root's reaper
 * (discover_reaped), a timer bounds it (discover_timeout_ms, then SIGKILL
 * to its process group).  At most one run at a time; a rediscover that
 * comes during one waits for it.  Its stdout is bounded (DISC_OUT_MAX).
 * A run that fails (exit status, signal, timeout, output too large, a
 * bad line, a failed check) changes nothing and emits
 * mob.rediscover_failed {error}; a successful one mob.rediscovered with
 * what moved.  Nothing of it outlives a shutdown.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"
#include "mpack.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/kind.h"
#include "client.h"
#include "mob/discover.h"
#include "verbs.h"

#define DISC_OUT_MAX	(4 * 1024 * 1024)	/* its stdout, at most */
#define DISC_ERR_MAX	2048		/* its stderr kept, for errors */
#define DISC_WAITERS	64		/* rediscover clients on one run */

extern char **environ;

struct disc_run {
	pid_t		 pid;		/* 0: none running */
	int		 reaped, status;
	ev_io		 out, err;
	ev_timer	 deadline;
	char		*buf;
	size_t		 len, cap;
	char		 ebuf[DISC_ERR_MAX];
	size_t		 elen;
	char		 fail[512];	/* set: the run failed so */
	uint64_t	 waiters[DISC_WAITERS];	/* answered by this run */
	int		 nwaiters;
	uint64_t	 pending[DISC_WAITERS];	/* by the next one */
	int		 npending;
	int		 again;		/* another run asked for during this */
};

static struct disc_run	 R;
static ev_timer		 interval;

static void	disc_start(void);

/* --- the end of a run -------------------------------------------- */

/* Answer the clients of rediscover: result (packed) or error. */
static void
disc_answer(const msgpack_sbuffer *res, const char *err)
{
	int i;

	for (i = 0; i < R.nwaiters; i++)
		if (err != NULL)
			reply_error(R.waiters[i], err);
		else
			reply_ok_packed(R.waiters[i], res->data, res->size);
	R.nwaiters = 0;
}

/* A failed run: said in the log, an event, the clients' error. */
static void
disc_failed(const char *why)
{
	struct evb b;
	char msg[700];

	snprintf(msg, sizeof(msg), "discover: %s", why);
	log_warnx("%s; the roster is unchanged", msg);
	evb_begin(&b, 1);
	mp_kstr(&b.pk, "error", msg);
	evb_emit(&b, "supervisor", "mob", "mob.rediscover_failed");
	disc_answer(NULL, msg);
}

/* The output read and checked: apply it, or fail. */
static void
disc_finish_ok(void)
{
	struct disc_list l;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char err[512];

	if (disc_parse(R.buf ? R.buf : "", R.len, &l, err, sizeof(err)) ==
	    -1 || disc_check(&l, err, sizeof(err)) == -1) {
		disc_list_free(&l);
		disc_failed(err);
		return;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	disc_apply(&l, &pk);
	disc_save(D->cfg->discover != NULL ? (R.buf ? R.buf : "") : NULL,
	    R.len);
	log_info("discover: %d member(s) listed", l.n);
	disc_list_free(&l);
	event_emit_raw("supervisor", "mob", "mob.rediscovered", sb.data,
	    sb.size);
	disc_answer(&sb, NULL);
	msgpack_sbuffer_destroy(&sb);
}

/* What the program's stderr said last, for an error message. */
static const char *
disc_stderr(void)
{
	char *nl;

	R.ebuf[R.elen] = '\0';
	while (R.elen > 0 && (R.ebuf[R.elen - 1] == '\n' ||
	    R.ebuf[R.elen - 1] == '\r'))
		R.ebuf[--R.elen] = '\0';
	nl = strrchr(R.ebuf, '\n');
	return nl != NULL ? nl + 1 : R.ebuf;
}

/* Both streams at EOF and the process reaped (or given up): the end. */
static void
disc_finish(void)
{
	char why[512];
	int ex;

	if (R.pid != 0 && (ev_is_active(&R.out) || ev_is_active(&R.err) ||
	    !R.reaped))
		return;
	ev_timer_stop(D->loop, &R.deadline);
	R.pid = 0;
	if (R.fail[0] != '\0')
		disc_failed(R.fail);
	else if (WIFSIGNALED(R.status)) {
		snprintf(why, sizeof(why), "the program was killed by signal "
		    "%d", WTERMSIG(R.status));
		disc_failed(why);
	} else if ((ex = WEXITSTATUS(R.status)) != 0) {
		snprintf(why, sizeof(why), "the program exited %d%s%.300s", ex,
		    R.elen > 0 ? ": " : "", disc_stderr());
		disc_failed(why);
	} else
		disc_finish_ok();
	free(R.buf);
	R.buf = NULL;
	R.len = R.cap = R.elen = 0;
	R.fail[0] = '\0';
	if (R.again) {
		R.again = 0;
		disc_start();
	}
}

/* Stop reading, kill the program's group; it is finished as failed. */
static void
disc_abort(const char *why)
{
	if (R.fail[0] == '\0')
		snprintf(R.fail, sizeof(R.fail), "%s", why);
	if (ev_is_active(&R.out)) {
		ev_io_stop(D->loop, &R.out);
		close(R.out.fd);
	}
	if (ev_is_active(&R.err)) {
		ev_io_stop(D->loop, &R.err);
		close(R.err.fd);
	}
	if (R.pid != 0 && !R.reaped)
		(void)kill(-R.pid, SIGKILL);
	R.reaped = 1;	/* the reaper takes it; we do not wait */
	disc_finish();
}

/* The root reaped a process: ours? (mobkitd.c asks first.) */
int
discover_reaped(pid_t pid, int status)
{
	if (R.pid == 0 || pid != R.pid || R.reaped)
		return 0;
	R.reaped = 1;
	R.status = status;
	disc_finish();
	return 1;
}

/* --- reading the program ---------------------------------------- */

static void
disc_out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	ssize_t n;

	(void)loop;
	(void)revents;
	if (R.len + 65536 > R.cap) {
		R.cap = R.cap ? R.cap * 2 : 65536;
		if ((R.buf = realloc(R.buf, R.cap + 1)) == NULL)
			fatal("realloc");
	}
	n = read(w->fd, R.buf + R.len, R.cap - R.len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		R.len += (size_t)n;
		if (R.len > DISC_OUT_MAX)
			disc_abort("the program printed more than 4194304 "
			    "bytes");
		return;
	}
	ev_io_stop(D->loop, w);
	close(w->fd);
	disc_finish();
}

static void
disc_err_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	char tmp[4096];
	ssize_t n;
	size_t k;

	(void)loop;
	(void)revents;
	n = read(w->fd, tmp, sizeof(tmp));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {	/* keep the last DISC_ERR_MAX - 1 bytes */
		k = (size_t)n > DISC_ERR_MAX - 1 ? DISC_ERR_MAX - 1 : (size_t)n;
		if (R.elen + k > DISC_ERR_MAX - 1) {
			memmove(R.ebuf, R.ebuf + (R.elen + k -
			    (DISC_ERR_MAX - 1)), DISC_ERR_MAX - 1 - k);
			R.elen = DISC_ERR_MAX - 1 - k;
		}
		memcpy(R.ebuf + R.elen, tmp + ((size_t)n - k), k);
		R.elen += k;
		return;
	}
	ev_io_stop(D->loop, w);
	close(w->fd);
	disc_finish();
}

static void
disc_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	char why[64];

	(void)loop;
	(void)w;
	(void)revents;
	snprintf(why, sizeof(why), "the program timed out after %lld ms",
	    (long long)D->cfg->discover_timeout_ms);
	disc_abort(why);
}

/* --- starting it ------------------------------------------------- */

/* The program's environment: PATH, LANG, LC_*, TZ, pass_env, MOBKIT_*. */
static char **
disc_env(void)
{
	struct strlist env = { 0 };
	const char *v;
	char *kv;
	char **e;
	int i;

	for (e = environ; *e != NULL; e++)
		if (strncmp(*e, "PATH=", 5) == 0 || strncmp(*e, "LANG=", 5) ==
		    0 || strncmp(*e, "LC_", 3) == 0 || strncmp(*e, "TZ=", 3) ==
		    0)
			(void)strlist_add(&env, *e);
	for (i = 0; i < D->cfg->pass_env.n; i++)
		if ((v = getenv(D->cfg->pass_env.v[i])) != NULL) {
			if (asprintf(&kv, "%s=%s", D->cfg->pass_env.v[i], v) ==
			    -1)
				fatal("asprintf");
			(void)strlist_add(&env, kv);
			free(kv);
		}
	if (asprintf(&kv, "MOBKIT_SOCKET=%s", D->cfg->control_socket) == -1)
		fatal("asprintf");
	(void)strlist_add(&env, kv);
	free(kv);
	if (asprintf(&kv, "MOBKIT_MOB=%s", D->cfg->mob_id) == -1)
		fatal("asprintf");
	(void)strlist_add(&env, kv);
	free(kv);
	return env.v;
}

/*
 * The program's path: with a '/', as given (relative to the config's
 * directory, as a module's command); else found in PATH.
 */
static char *
disc_path(const char *prog)
{
	const char *path = getenv("PATH"), *p, *c;
	char *f;

	if (prog[0] == '/')
		return strdup(prog);
	if (strchr(prog, '/') != NULL) {
		if (asprintf(&f, "%s/%s", D->cfg->dir ? D->cfg->dir : ".",
		    prog) == -1)
			fatal("asprintf");
		return f;
	}
	for (p = path ? path : "/usr/bin:/bin"; ; p = c + 1) {
		c = strchrnul(p, ':');
		if (asprintf(&f, "%.*s/%s", (int)(c - p), p, prog) == -1)
			fatal("asprintf");
		if (access(f, X_OK) == 0)
			return f;
		free(f);
		if (*c == '\0')
			return NULL;
	}
}

/* In the child: stdio wired, its own process group, exec (never back). */
static void __attribute__((noreturn))
disc_exec(const char *path, char **argv, char **envp, int out, int err)
{
	struct sigaction sa;
	sigset_t none;
	int fd;

	(void)setpgid(0, 0);
	if ((fd = open("/dev/null", O_RDONLY)) != -1 && fd != 0) {
		(void)dup2(fd, 0);
		(void)close(fd);
	}
	(void)dup2(out, 1);
	(void)dup2(err, 2);
	if (out > 2)
		(void)close(out);
	if (err > 2)
		(void)close(err);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, argv, envp);
	_exit(127);
}

/* Read the program's stdout and stderr (ends of pipes, non-blocking). */
static void
disc_watch(int out, int err)
{
	(void)fcntl(out, F_SETFL, O_NONBLOCK);
	(void)fcntl(err, F_SETFL, O_NONBLOCK);
	ev_io_set(&R.out, out, EV_READ);
	ev_io_set(&R.err, err, EV_READ);
	ev_io_start(D->loop, &R.out);
	ev_io_start(D->loop, &R.err);
}

/* Free a NULL-terminated array of strings. */
static void
strv_free(char **v)
{
	char **p;

	for (p = v; p != NULL && *p != NULL; p++)
		free(*p);
	free(v);
}

/* Fork and exec; 0, or -1 with R.fail set. */
static int
disc_spawn_prog(void)
{
	struct strlist argv = { 0 };
	char **envp = NULL, *path = NULL;
	const char *serr = NULL;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, rc = -1;
	pid_t pid;

	if (split_args(D->cfg->discover, &argv, &serr) == -1 || argv.n == 0)
		snprintf(R.fail, sizeof(R.fail), "bad discover line: %s",
		    serr ? serr : "empty");
	else if ((path = disc_path(argv.v[0])) == NULL)
		snprintf(R.fail, sizeof(R.fail), "%s: not found in PATH",
		    argv.v[0]);
	else if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1)
		snprintf(R.fail, sizeof(R.fail), "pipe: %s", strerror(errno));
	else {
		envp = disc_env();
		if ((pid = fork()) == -1)
			snprintf(R.fail, sizeof(R.fail), "fork: %s",
			    strerror(errno));
		else if (pid == 0)
			disc_exec(path, argv.v, envp, po[1], pe[1]);
		else {
			(void)setpgid(pid, pid);
			R.pid = pid;
			rc = 0;
		}
	}
	if (rc == 0)
		disc_watch(po[0], pe[0]);
	else {
		if (po[0] != -1)
			close(po[0]);
		if (pe[0] != -1)
			close(pe[0]);
	}
	if (po[1] != -1)
		close(po[1]);
	if (pe[1] != -1)
		close(pe[1]);
	strlist_free(&argv);
	strv_free(envp);
	free(path);
	return rc;
}

/* Start a run (or have the running one followed by another). */
static void
disc_start(void)
{
	if (D->shutting_down)
		return;
	if (R.pid != 0) {
		R.again = 1;
		return;
	}
	while (R.npending > 0 && R.nwaiters < DISC_WAITERS)
		R.waiters[R.nwaiters++] = R.pending[--R.npending];
	if (D->cfg->discover == NULL) {	/* nothing discovered any more */
		R.reaped = 1;
		R.status = 0;
		disc_finish_ok();
		return;
	}
	R.reaped = 0;
	R.status = 0;
	R.fail[0] = '\0';
	if (disc_spawn_prog() == -1) {
		disc_failed(R.fail);
		R.fail[0] = '\0';
		return;
	}
	ev_timer_set(&R.deadline, D->cfg->discover_timeout_ms / 1000.0, 0.);
	ev_timer_start(D->loop, &R.deadline);
}

/* --- when it runs -------------------------------------------------- */

static void
interval_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	disc_start();
}

/*
 * Boot and reload: run the program (at reload the discovered members
 * stay until this run says otherwise; without a discover line they are
 * retired), and (re)arm discover_interval_ms.
 */
static void
disc_configure(struct config *cfg, int reload)
{
	static int inited;

	if (!inited) {
		ev_init(&R.out, disc_out_cb);
		ev_init(&R.err, disc_err_cb);
		ev_init(&R.deadline, disc_deadline_cb);
		ev_init(&interval, interval_cb);
		inited = 1;
	}
	ev_timer_stop(D->loop, &interval);
	if (cfg->discover != NULL && cfg->discover_interval_ms > 0) {
		ev_timer_set(&interval, cfg->discover_interval_ms / 1000.0,
		    cfg->discover_interval_ms / 1000.0);
		ev_timer_start(D->loop, &interval);
	}
	if (cfg->discover != NULL || (reload && discover_count() > 0))
		disc_start();
}

/* Shutdown: no more runs; a running program is killed. */
static void
disc_shutdown(void)
{
	int i;

	ev_timer_stop(D->loop, &interval);
	R.again = 0;
	for (i = 0; i < R.npending; i++)
		reply_error(R.pending[i], "mobkitd is shutting down");
	R.npending = 0;
	if (R.pid != 0)
		disc_abort("mobkitd is shutting down");
}

static const struct domain_ops discover_domain = {
	.name = "discover",
	.configure = disc_configure,
	.members_stopped = disc_shutdown,
};

/* After the store's domain: members it spawns find their history. */
void
discover_register(void)
{
	domain_register(&discover_domain);
}

/* rediscover: run the program now; answered when it is done. */
static int
v_rediscover(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	(void)a;
	(void)pk;
	if (D->shutting_down)
		return ctl_fail("mobkitd is shutting down");
	if (D->cfg->discover == NULL)
		return ctl_fail("no [mob] discover program is configured");
	if (R.nwaiters == DISC_WAITERS || R.npending == DISC_WAITERS)
		return ctl_fail("too many rediscover requests waiting");
	if (R.pid != 0) {	/* a fresh run: the program's answer may */
		R.pending[R.npending++] = client_id(cl);	/* have moved */
		R.again = 1;
	} else {
		R.waiters[R.nwaiters++] = client_id(cl);
		disc_start();
	}
	return 1;
}

static const struct ctl_handler discover_verbs[] = {
	{ "rediscover", v_rediscover },
};
CTL_VERBS(discover_verbs)
