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
#include <limits.h>
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
#include "engine/spawn_exec.h"

#define CHILD_HWM	(8 * 1024 * 1024)

extern char **environ;

#ifndef MOBKIT_LIBEXECDIR
#define MOBKIT_LIBEXECDIR	"/usr/local/libexec/mobkit"
#endif

/* dir/cmd when that is an executable file, else NULL. */
static char *
command_in(const char *dir, const char *cmd)
{
	struct stat st;
	char *p;

	if (asprintf(&p, "%s/%s", *dir ? dir : ".", cmd) == -1)
		return NULL;
	if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
		return p;
	free(p);
	return NULL;
}

/*
 * Find a command: with a slash as is; else in mobkitd's own directory (a
 * build tree's bin/), then in DIR/../libexec/mobkit (an installed tree,
 * wherever it was put: a DESTDIR, a moved prefix), then in the libexec
 * directory compiled in (PREFIX/libexec/mobkit), then in PATH.
 */
char *
command_path(const char *cmd)
{
	const char *path;
	char *p, *dir, *copy, *save = NULL, rel[PATH_MAX];

	if (strchr(cmd, '/') != NULL)
		return strdup(cmd);
	if (D != NULL && D->self_dir[0] != '\0') {
		if ((p = command_in(D->self_dir, cmd)) != NULL)
			return p;
		if (snprintf(rel, sizeof(rel), "%s/../libexec/mobkit",
		    D->self_dir) < (int)sizeof(rel) &&
		    (p = command_in(rel, cmd)) != NULL)
			return p;
	}
	if ((p = command_in(MOBKIT_LIBEXECDIR, cmd)) != NULL)
		return p;
	if ((path = getenv("PATH")) == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	if ((copy = strdup(path)) == NULL)
		return NULL;
	for (dir = strtok_r(copy, ":", &save); dir != NULL;
	    dir = strtok_r(NULL, ":", &save))
		if ((p = command_in(dir, cmd)) != NULL)
			break;
	free(copy);
	return p;
}

/* 1 (and the error recorded) when cmd of c is not an executable file. */
static int
command_bad(struct config *cfg, const struct child_conf *c, const char *cmd)
{
	struct stat st;
	char *p, msg[PATH_MAX + 512], where[PATH_MAX + 16];

	if ((p = command_path(cmd)) != NULL && stat(p, &st) == 0 &&
	    S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
		free(p);
		return 0;
	}
	snprintf(msg, sizeof(msg), "%s: [%s %s]: command \"%s\" %s",
	    config_where(cfg, c->line, where, sizeof(where)),
	    kind_names[c->kind], c->name, cmd,
	    p != NULL && stat(p, &st) == 0 && !S_ISREG(st.st_mode) ?
	    "is not a file" : strchr(cmd, '/') ? "not found or not executable" :
	    "not found next to mobkitd or in PATH (nor in ../libexec/mobkit "
	    "beside it, or " MOBKIT_LIBEXECDIR ")");
	free(p);
	(void)strlist_add(&cfg->errors, msg);
	return 1;
}

/*
 * A command that cannot be found, or is not an executable file, is a
 * config error (at -t, at start and at reload), not a child that fails
 * forever; so is an [mcp] server's own command.
 */
int
config_check_commands(struct config *cfg)
{
	const char *srv;
	int i, bad = 0;

	for (i = 0; i < cfg->nchildren; i++) {
		struct child_conf *c = cfg->children[i];

		if (c->command != NULL)
			bad += command_bad(cfg, c, c->command);
		if ((srv = mcp_server_command(c)) != NULL)
			bad += command_bad(cfg, c, srv);
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

static struct rlimit	nofile_orig;	/* RLIMIT_NOFILE as we were started */
static struct rlimit	nofile_now;	/* ours now */
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
	nofile_now = rl = nofile_orig;
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("cannot raise the open file limit from %llu to %llu",
		    (unsigned long long)nofile_orig.rlim_cur,
		    (unsigned long long)rl.rlim_max);
	else {
		nofile_now = rl;
		log_debug("open file limit raised from %llu to %llu",
		    (unsigned long long)nofile_orig.rlim_cur,
		    (unsigned long long)rl.rlim_max);
	}
}

/* The child's RLIMIT_NOFILE: limit_nofile, or the one we were started with. */
static void
plan_limits(struct child *c, struct spawn_plan *p)
{
	struct rlimit rl = nofile_now;

	if (!nofile_known)
		return;
	if (c->conf->limit_nofile > 0) {
		rl.rlim_cur = (rlim_t)c->conf->limit_nofile;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
			rl.rlim_max = rl.rlim_cur;	/* root may */
	} else
		rl.rlim_cur = nofile_orig.rlim_cur;
	p->set_nofile = rl.rlim_cur != nofile_now.rlim_cur ||
	    rl.rlim_max != nofile_now.rlim_max;
	p->nofile = rl;
}

/*
 * The signals whose disposition is not the default, looked up once: ours
 * are all set before the first spawn (mobkitd.c, libev's SIGCHLD), and
 * any ignored by whoever started mobkitd, glibc's own 32 and 33 included.
 */
static void
plan_signals(struct spawn_plan *p)
{
	static int sigs[NSIG], nsigs = -1;
	int sig;

	if (nsigs == -1) {
		nsigs = 0;
		for (sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP &&
			    !spawn_sig_default(sig))
				sigs[nsigs++] = sig;
	}
	p->sigs = sigs;
	p->nsigs = nsigs;
}

/* /dev/null, opened once, for the children's stdin. */
static int
null_fd(void)
{
	static int fd = -1;

	if (fd == -1)
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd;
}

/* The groups of user =, looked up in the parent: 0, or -1 (errno). */
static int
plan_groups(const struct passwd *pw, gid_t **groups, int *n)
{
	gid_t *g;
	int want = 32;

	for (;;) {
		if ((g = reallocarray(*groups, (size_t)want,
		    sizeof(*g))) == NULL)
			return -1;
		*groups = g;
		*n = want;
		if (getgrouplist(pw->pw_name, pw->pw_gid, g, n) != -1)
			return 0;
		if (*n <= want) {	/* nothing larger will do */
			errno = EINVAL;
			return -1;
		}
		want = *n;
	}
}

/* After a child side that failed: say why on its stderr, as it would. */
static void
plan_report(struct child *c, const struct spawn_plan *p, int fd)
{
	const char *why = strerror(p->errnum);

	switch (p->step) {
	case STEP_NOFILE:
		dprintf(fd, "mobkitd: %s: cannot set the open file limit to "
		    "%llu: %s\n", c->name,
		    (unsigned long long)p->nofile.rlim_cur, why);
		break;
	case STEP_CHDIR:
		dprintf(fd, "mobkitd: %s: cannot chdir to %s: %s\n", c->name,
		    c->conf->cwd, why);
		break;
	case STEP_USER:
		dprintf(fd, "mobkitd: %s: cannot become %s: %s\n", c->name,
		    c->conf->user, why);
		break;
	case STEP_NOTFOUND:
		dprintf(fd, "mobkitd: %s: command \"%s\" not found next to "
		    "mobkitd or in PATH\n", c->name, c->conf->command);
		break;
	case STEP_EXEC:
		dprintf(fd, "mobkitd: %s: cannot execute %s: %s\n", c->name,
		    p->path, why);
		break;
	default:
		break;
	}
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

/* In the parent after the child exec'd: our ends of its descriptors. */
static void
spawn_parent(struct child *c, pid_t pid, int sv[2], int op[2], int ep[2],
    int nfd)
{
	c->pid = pid;		/* its own group already: it did that first */
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
 * What the child side needs of user =: its ids and groups.  Groups that
 * cannot be listed make the child side fail as initgroups would have.
 */
static void
plan_user(const struct passwd *pw, struct spawn_plan *p, gid_t **groups)
{
	int n;

	p->as_user = 1;
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	if (plan_groups(pw, groups, &n) == -1) {
		p->user_errno = errno;
		return;
	}
	p->groups = *groups;
	p->ngroups = n;
}

/* Everything the child side of c needs, but the user's. */
static void
plan_fill(struct child *c, struct spawn_plan *p, char *path, char **envp,
    int sock, int out, int err)
{
	p->path = path;
	p->argv = c->conf->argv.v;
	p->envp = envp;
	p->sock = sock;
	p->out = out;
	p->err = err;
	p->cwd = c->conf->cwd;
	plan_limits(c, p);
	plan_signals(p);
}

/* Start the child of a plan with every signal blocked; its pid or -1. */
static pid_t
spawn_run(struct spawn_plan *p)
{
	static pid_t self;
	sigset_t all, old;
	pid_t pid;
	int err;

	if (self == 0)
		self = getpid();
	p->parent = self;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = spawn_exec(p);
	err = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return pid;
}

/* Close both ends of each pipe or pair that is open. */
static void
close_pairs(int sv[2], int op[2], int ep[2], int nfd)
{
	int *v[] = { sv, op, ep };
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i][0] != -1) {
			close(v[i][0]);
			close(v[i][1]);
		}
	if (nfd != -1)
		close(nfd);
}

/*
 * Start one child (clone, then exec); its state is the caller's business.
 * 0, -1, or SPAWN_RESOURCE when fds, processes or memory ran out (errno
 * says which): to be retried, not the child's failure.  Everything the
 * child side needs is computed here, before the clone (spawn_exec.c).
 */
int
spawn_child(struct child *c)
{
	int sv[2] = { -1, -1 }, op[2] = { -1, -1 }, ep[2] = { -1, -1 };
	int nfd = -1, err;
	char notify[128], *path, **envp;
	const char *what;
	struct passwd *pw = NULL, pwbuf;
	struct spawn_plan plan = { .sock = -1 };
	gid_t *groups = NULL;
	pid_t pid;

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
	what = "/dev/null";
	if ((plan.null = null_fd()) == -1)
		goto fail;
	envp = child_env(c, nfd != -1 ? notify : NULL, pw);
	plan_fill(c, &plan, path, envp, sv[1], op[1], ep[1]);
	if (pw != NULL)
		plan_user(pw, &plan, &groups);
	what = "fork";
	pid = spawn_run(&plan);
	err = errno;
	free_env(envp);
	free(groups);
	if (pid == -1) {
		errno = err;
		goto fail;
	}
	if (plan.step != STEP_NONE)
		plan_report(c, &plan, ep[1]);
	free(path);
	spawn_parent(c, pid, sv, op, ep, nfd);
	return 0;
fail:
	err = errno;
	log_warnx("%s: cannot spawn: %s: %s", c->name, what, strerror(err));
	free(path);
	close_pairs(sv, op, ep, nfd);
	errno = err;
	return resource_errno(err) ? SPAWN_RESOURCE : -1;
}
