/*
 * spawn.c: starting a child with fork hygiene, the messages a child sends
 * on its socket (fd 3): the engine's own (HELLO, READY, HEARTBEAT, PONG,
 * EVENT), the rest to the handler its type is registered to (kind.h), and
 * per-child sd_notify sockets.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mpack.h"
#include "msgtab.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/events.h"
#include "engine/internal.h"

#define CHILD_HWM	(8 * 1024 * 1024)

extern char **environ;

/* Find a command: with a slash as is; else next to mobkitd, then PATH. */
char *
command_path(const char *cmd)
{
	const char *path;
	char *p, *dir, *copy, *save = NULL;

	if (strchr(cmd, '/') != NULL)
		return strdup(cmd);
	if (D != NULL && D->self_dir[0] != '\0') {
		if (asprintf(&p, "%s/%s", D->self_dir, cmd) == -1)
			return NULL;
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	if ((path = getenv("PATH")) == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	if ((copy = strdup(path)) == NULL)
		return NULL;
	for (dir = strtok_r(copy, ":", &save); dir != NULL;
	    dir = strtok_r(NULL, ":", &save)) {
		if (asprintf(&p, "%s/%s", *dir ? dir : ".", cmd) == -1)
			break;
		if (access(p, X_OK) == 0) {
			free(copy);
			return p;
		}
		free(p);
	}
	free(copy);
	return NULL;
}

/*
 * A command that cannot be found, or is not an executable file, is a
 * config error (at -t, at start and at reload), not a child that fails
 * forever.
 */
int
config_check_commands(struct config *cfg)
{
	struct stat st;
	char *p, msg[512];
	int i, bad = 0;

	for (i = 0; i < cfg->nchildren; i++) {
		struct child_conf *c = cfg->children[i];

		if (c->command == NULL)
			continue;
		if ((p = command_path(c->command)) != NULL &&
		    stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(p, X_OK) == 0) {
			free(p);
			continue;
		}
		snprintf(msg, sizeof(msg), "%s:%d: [%s %s]: command \"%s\" %s",
		    cfg->path, c->line, kind_names[c->kind], c->name,
		    c->command, p != NULL && stat(p, &st) == 0 &&
		    !S_ISREG(st.st_mode) ? "is not a file" :
		    strchr(c->command, '/') ? "not found or not executable" :
		    "not found next to mobkitd or in PATH");
		free(p);
		(void)strlist_add(&cfg->errors, msg);
		bad++;
	}
	return bad;
}

/* Set NAME=value in env, in place of an earlier NAME. */
static void
env_set(struct strlist *env, const char *kv)
{
	size_t nl = strcspn(kv, "=") + 1;
	char *dup;
	int j;

	for (j = 0; j < env->n; j++)
		if (strncmp(env->v[j], kv, nl) == 0) {
			if ((dup = strdup(kv)) == NULL)
				fatal("strdup");
			free(env->v[j]);
			env->v[j] = dup;
			return;
		}
	if (strlist_add(env, kv) == -1)
		fatal("strlist_add");
}

/* Set NAME=value from a format. */
static void __attribute__((format(printf, 2, 3)))
env_setf(struct strlist *env, const char *fmt, ...)
{
	va_list ap;
	char *kv;

	va_start(ap, fmt);
	if (vasprintf(&kv, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	env_set(env, kv);
	free(kv);
}

/* Pass our own variable name to the child, if we have it. */
static void
env_pass(struct strlist *env, const char *name)
{
	const char *v;

	if (name != NULL && (v = getenv(name)) != NULL)
		env_setf(env, "%s=%s", name, v);
}

/* PATH, LANG, LC_* and TZ: the variables of ours every child gets. */
static int
env_inherited(const char *kv)
{
	return strncmp(kv, "PATH=", 5) == 0 || strncmp(kv, "LANG=", 5) == 0 ||
	    strncmp(kv, "LC_", 3) == 0 || strncmp(kv, "TZ=", 3) == 0;
}

/*
 * The environment of a child, declared, never ours whole: PATH, LANG,
 * LC_*, TZ; HOME, USER, LOGNAME of user =; what pass_env names (in
 * [mobkitd], then in its section); a member's api_key_env; MOBKIT_*;
 * then env.NAME keys, which win.
 */
static char **
child_env(struct child *c, const char *notify, const struct passwd *pw)
{
	struct strlist env = { 0 };
	const struct profile_conf *p;
	const char *profile;
	char **e;
	int i;

	for (e = environ; *e != NULL; e++)
		if (env_inherited(*e))
			env_set(&env, *e);
	if (pw != NULL) {
		env_setf(&env, "HOME=%s", pw->pw_dir);
		env_setf(&env, "USER=%s", pw->pw_name);
		env_setf(&env, "LOGNAME=%s", pw->pw_name);
	}
	for (i = 0; D->cfg != NULL && i < D->cfg->pass_env.n; i++)
		env_pass(&env, D->cfg->pass_env.v[i]);
	for (i = 0; i < c->conf->pass_env.n; i++)
		env_pass(&env, c->conf->pass_env.v[i]);
	if (c->conf->kind == KIND_MEMBER && D->cfg != NULL) {
		profile = kind_of(c)->profile != NULL ?
		    kind_of(c)->profile(c) : c->conf->profile;
		if (profile != NULL &&
		    (p = config_profile(D->cfg, profile)) != NULL)
			env_pass(&env, p->api_key_env);
	}
	env_setf(&env, "MOBKIT_NAME=%s", c->name);
	env_setf(&env, "MOBKIT_KIND=%s", kind_names[c->conf->kind]);
	if (c->conf->ready == READY_MESSAGE)
		env_setf(&env, "MOBKIT_FD=%d", MOBKIT_FD);
	if (notify != NULL)
		env_setf(&env, "NOTIFY_SOCKET=%s", notify);
	if (notify != NULL && c->conf->watchdog_ms > 0)	/* as systemd does */
		env_setf(&env, "WATCHDOG_USEC=%lld",
		    (long long)c->conf->watchdog_ms * 1000);
	if (D->cfg != NULL && D->cfg->control_socket != NULL)
		env_setf(&env, "MOBKIT_SOCKET=%s", D->cfg->control_socket);
	for (i = 0; i < c->conf->env.n; i++)
		env_set(&env, c->conf->env.v[i]);
	if (env.v == NULL && (env.v = calloc(1, sizeof(*env.v))) == NULL)
		fatal("calloc");
	return env.v;
}

/* Free an environment from child_env. */
static void
free_env(char **v)
{
	char **e;

	for (e = v; e != NULL && *e != NULL; e++)
		free(*e);
	free(v);
}

/* --- messages from a child ---------------------------------------- */

static void	notify_cb(struct ev_loop *, ev_io *, int);

/* A bad message from a child is fatal for that child. */
static void
child_bad(struct child *c, const char *why)
{
	if (c->condemned)
		return;
	log_warnx("%s: %s: killing it", c->name, why);
	child_condemn(c, "bad_message", SIGKILL);
}

/*
 * A message from a child: its type is trusted from that child (trust.c),
 * then it is read against its table (msgtab.c); a message that breaks
 * it is bad, and the error names the type and the field.  The engine's
 * types are handled here, others go to their domain's handler.
 */
static int
child_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	struct child *c = arg;
	const msgpack_object *payload;
	struct msg_view mv;
	const struct msg_view *v = &mv;
	int64_t t, ver;
	char type[128], err[256];
	const char *bad;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int r;

	(void)p;
	r = msg_read(m, &mv, err, sizeof(err));
	if ((t = mv.type) == -1) {
		child_bad(c, "message without a type");
		return 0;
	}
	if (trust_check(c, t) == -1)
		return 0;
	if (t == (int)t && msg_dispatch_raw(c, (int)t, m, &bad, &r)) {
		if (r == -1)
			child_bad(c, bad);
		return 0;
	}
	if (r == -1) {
		child_bad(c, err);
		return 0;
	}
	switch (t) {
	case MSG_HELLO:
		if ((ver = msgv_int(v, K_VERSION, -1)) != PROTO_VERSION) {
			log_warnx("%s: speaks protocol %lld, mobkitd speaks %d",
			    c->name, (long long)ver, PROTO_VERSION);
			child_bad(c, "protocol version mismatch");
			return 0;
		}
		c->hello = 1;
		KIND_CALL(c, hello, c);
		return 0;
	case MSG_READY:
		if (!c->hello) {
			child_bad(c, "READY before HELLO");
			return 0;
		}
		if (c->conf->ready == READY_MESSAGE)
			child_ready(c, "message");
		return 0;
	case MSG_HEARTBEAT:
		return 0;
	case MSG_PONG:
		if (watchdog_pong(c, v) == -1)
			child_bad(c, "PONG without a seq");
		return 0;
	case MSG_EVENT:
		(void)msgv_copy(v, K_EVENT_TYPE, type, sizeof(type));
		payload = msgv_obj(v, K_PAYLOAD);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		if (payload != NULL)
			msgpack_pack_object(&pk, *payload);
		else
			msgpack_pack_map(&pk, 0);
		event_emit_raw(c->conf->kind == KIND_MEMBER ? "agent" :
		    "module", c->name, type, sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
		return 0;
	default:
		if (msg_dispatch(c, (int)t, v, &bad) == -1)
			child_bad(c, bad);
		return 0;
	}
}

/* The child's socket closed or broke: a broken one condemns it. */
static void
child_peer_gone(struct peer *p, const char *why, void *arg)
{
	struct child *c = arg;

	if (strcmp(why, "closed") != 0)
		child_bad(c, why);
	if (c->peer == p) {
		peer_free(p);
		c->peer = NULL;
		watchdog_closed(c);
	}
}

/* Close the socket, detach the output pipes, close the notify socket. */
void
child_close_io(struct child *c)
{
	if (c->peer != NULL) {
		peer_free(c->peer);
		c->peer = NULL;
	}
	if (c->out != NULL) {
		outpipe_detach(c->out);
		c->out = NULL;
	}
	if (c->err != NULL) {
		outpipe_detach(c->err);
		c->err = NULL;
	}
	if (c->notify_fd != -1) {
		ev_io_stop(D->loop, &c->notify_io);
		close(c->notify_fd);
		c->notify_fd = -1;
	}
}

/* A per-child sd_notify socket in the abstract namespace. */
static int
notify_open(struct child *c, char *name, size_t namesz)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, one = 1;

	snprintf(name, namesz, "@mobkitd/%d/%s/%d", (int)getpid(), c->name,
	    c->spawned + 1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(name) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path + 1, name + 1, strlen(name) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, len) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A datagram on a child's notify socket: READY=1 from its own group. */
static void
notify_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct child *c = w->data;
	char buf[4096], cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh;
	struct cmsghdr *cm;
	struct ucred *uc = NULL;
	char *line, *save = NULL;
	ssize_t n;

	(void)loop;
	(void)revents;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	if ((n = recvmsg(c->notify_fd, &mh, MSG_DONTWAIT)) <= 0)
		return;
	buf[n] = '\0';
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_CREDENTIALS)
			uc = (struct ucred *)CMSG_DATA(cm);
	if (uc == NULL || c->pid == 0 || (uc->pid != c->pid &&
	    getpgid(uc->pid) != c->pid)) {
		log_warnx("%s: notify message from pid %d ignored: not in its "
		    "process group", c->name, uc ? (int)uc->pid : -1);
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strcmp(line, "READY=1") == 0)
			child_ready(c, "notify");
		else if (strncmp(line, "WATCHDOG=", 9) == 0)
			watchdog_notify(c, line);
}

/* Close every descriptor from lowfd up. */
static int
close_from(int lowfd)
{
	long fd, max;

	if (close_range((unsigned)lowfd, ~0U, 0) == 0)
		return 0;
	max = sysconf(_SC_OPEN_MAX);
	for (fd = lowfd; fd < (max > 0 ? max : 1024); fd++)
		(void)close((int)fd);
	return 0;
}

/* Put fd at a number >= 10 so the dup2s below cannot collide. */
static int
high_fd(int fd)
{
	int n;

	if (fd < 0)
		return fd;
	n = fcntl(fd, F_DUPFD, 10);
	return n;
}

static struct rlimit	nofile_orig;	/* RLIMIT_NOFILE as we were started */
static int		nofile_known;

/* Raise our soft RLIMIT_NOFILE to the hard limit; children get the old. */
void
spawn_limits_init(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &nofile_orig) == -1) {
		log_warn("getrlimit RLIMIT_NOFILE");
		return;
	}
	nofile_known = 1;
	rl = nofile_orig;
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("cannot raise the open file limit from %llu to %llu",
		    (unsigned long long)nofile_orig.rlim_cur,
		    (unsigned long long)rl.rlim_max);
	else
		log_debug("open file limit raised from %llu to %llu",
		    (unsigned long long)nofile_orig.rlim_cur,
		    (unsigned long long)rl.rlim_max);
}

/* In the child: limit_nofile, or the soft limit mobkitd was started with. */
static int
child_limits(struct child *c)
{
	struct rlimit rl;

	if (!nofile_known || getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 0;
	if (c->conf->limit_nofile > 0) {
		rl.rlim_cur = (rlim_t)c->conf->limit_nofile;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
			rl.rlim_max = rl.rlim_cur;	/* root may */
	} else
		rl.rlim_cur = nofile_orig.rlim_cur;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		dprintf(2, "mobkitd: %s: cannot set the open file limit to "
		    "%llu: %s\n", c->name, (unsigned long long)rl.rlim_cur,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* In the forked child: never returns. */
static void __attribute__((noreturn))
child_exec(struct child *c, const char *path, char **envp, int sock,
    int out, int err, pid_t parent, const struct passwd *pw)
{
	static const int reset[] = { SIGUSR2, SIGPIPE, SIGXFSZ, SIGIO,
	    SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGALRM, SIGCHLD };
	sigset_t none;
	size_t i;
	int null;

	/*
	 * Signals are blocked across the fork.  Caught signals revert to the
	 * default at exec, ignored ones would stay ignored: the ones mobkitd
	 * ignores, and those commonly sent, go back to the default here,
	 * before the mask is cleared, so that nothing pending runs a handler
	 * of ours in the child (a rarer one that slips into the instant
	 * before exec finds our descriptors closed: it does nothing).
	 */
	setpgid(0, 0);
	for (i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		(void)signal(reset[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(126);
	sock = high_fd(sock);
	out = high_fd(out);
	err = high_fd(err);
	if ((null = open("/dev/null", O_RDONLY)) == -1)
		_exit(126);
	null = high_fd(null);
	if (dup2(null, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1)
		_exit(126);
	if (sock >= 0 && dup2(sock, MOBKIT_FD) == -1)
		_exit(126);
	if (close_from(sock >= 0 ? MOBKIT_FD + 1 : MOBKIT_FD) == -1)
		_exit(126);
	if (child_limits(c) == -1)
		_exit(126);
	if (c->conf->cwd != NULL && chdir(c->conf->cwd) == -1) {
		dprintf(2, "mobkitd: %s: cannot chdir to %s: %s\n", c->name,
		    c->conf->cwd, strerror(errno));
		_exit(126);
	}
	if (pw != NULL && (setgid(pw->pw_gid) == -1 ||
	    initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1)) {
		dprintf(2, "mobkitd: %s: cannot become %s: %s\n", c->name,
		    pw->pw_name, strerror(errno));
		_exit(126);
	}
	if (path == NULL) {
		dprintf(2, "mobkitd: %s: command \"%s\" not found next to "
		    "mobkitd or in PATH\n", c->name, c->conf->command);
		_exit(127);
	}
	execve(path, c->conf->argv.v, envp);
	dprintf(2, "mobkitd: %s: cannot execute %s: %s\n", c->name, path,
	    strerror(errno));
	_exit(127);
}

/* Did a spawn fail for lack of resources, not for the child's fault? */
static int
resource_errno(int err)
{
	return err == EMFILE || err == ENFILE || err == EAGAIN ||
	    err == ENOMEM || err == ENOBUFS;
}

/* The account of user =, or NULL (logged) when it cannot be. */
static struct passwd *
spawn_user(struct child *c, struct passwd *buf)
{
	struct passwd *pw;

	if (geteuid() != 0) {
		log_warnx("%s: user = %s needs mobkitd to run as root",
		    c->name, c->conf->user);
		return NULL;
	}
	if ((pw = getpwnam(c->conf->user)) == NULL) {
		log_warnx("%s: no such user %s", c->name, c->conf->user);
		return NULL;
	}
	*buf = *pw;
	return buf;
}

/* In the parent after the fork: our ends of the child's descriptors. */
static void
spawn_parent(struct child *c, pid_t pid, int sv[2], int op[2], int ep[2],
    int nfd)
{
	setpgid(pid, pid);	/* no race with a kill of the group */
	c->pid = pid;
	if (sv[1] != -1)
		close(sv[1]);
	close(op[1]);
	close(ep[1]);
	if (sv[0] != -1) {
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
		c->peer = peer_new(D->loop, sv[0], FRAME_MAX, CHILD_HWM,
		    child_msg, child_peer_gone, c);
	}
	fcntl(op[0], F_SETFL, O_NONBLOCK);
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	c->out = outpipe_new(c, op[0], 1);
	c->err = outpipe_new(c, ep[0], 0);
	if (nfd != -1) {
		c->notify_fd = nfd;
		ev_io_init(&c->notify_io, notify_cb, nfd, EV_READ);
		c->notify_io.data = c;
		ev_io_start(D->loop, &c->notify_io);
	}
	log_debug("%s: spawned pid %d", c->name, (int)pid);
}

/*
 * Fork and exec one child; its state is the caller's business.  0, -1, or
 * SPAWN_RESOURCE when fds, processes or memory ran out (errno says which):
 * to be retried, not the child's failure.
 */
int
spawn_child(struct child *c)
{
	int sv[2] = { -1, -1 }, op[2] = { -1, -1 }, ep[2] = { -1, -1 };
	int nfd = -1, err;
	char notify[128], *path, **envp;
	const char *what;
	struct passwd *pw = NULL, pwbuf;
	pid_t pid, self = getpid();
	sigset_t all, old;

	if (c->conf->user != NULL && (pw = spawn_user(c, &pwbuf)) == NULL)
		return -1;
	path = command_path(c->conf->command);
	what = "socketpair";
	if (c->conf->ready == READY_MESSAGE &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		goto fail;
	what = "pipe";
	if (pipe2(op, O_CLOEXEC) == -1 || pipe2(ep, O_CLOEXEC) == -1)
		goto fail;
	what = "notify socket";
	if (c->conf->ready == READY_NOTIFY &&
	    (nfd = notify_open(c, notify, sizeof(notify))) == -1)
		goto fail;
	envp = child_env(c, nfd != -1 ? notify : NULL, pw);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	what = "fork";
	if ((pid = fork()) == -1) {
		err = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		free_env(envp);
		errno = err;
		goto fail;
	}
	if (pid == 0)
		child_exec(c, path, envp, sv[1], op[1], ep[1], self, pw);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free_env(envp);
	free(path);
	path = NULL;
	spawn_parent(c, pid, sv, op, ep, nfd);
	return 0;
fail:
	err = errno;
	log_warnx("%s: cannot spawn: %s: %s", c->name, what, strerror(err));
	free(path);
	if (sv[0] != -1) {
		close(sv[0]);
		close(sv[1]);
	}
	if (op[0] != -1) {
		close(op[0]);
		close(op[1]);
	}
	if (ep[0] != -1) {
		close(ep[0]);
		close(ep[1]);
	}
	if (nfd != -1)
		close(nfd);
	errno = err;
	return resource_errno(err) ? SPAWN_RESOURCE : -1;
}
