/*
 * mobkitd: the root supervisor.  Reads the INI file, forks one process per
 * module and member, and keeps them running by their policies.
 */
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "timeutil.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "store.h"
#include "cluster.h"
#include "control.h"
#include "logs.h"
#include "engine/kind.h"
#include "mob/discover.h"
#include "mob/register.h"

#define LOG_QUEUE_BYTES	(1024 * 1024)	/* log lines waiting for stderr */

/* Usage on fp, then exit with code (0 for --help, 2 for a bad option). */
static void __attribute__((noreturn))
usage(FILE *fp, int code)
{
	fprintf(fp, "usage: mobkitd [-c FILE] [-t] [-v] [-V] [-h]\n"
	    "  -c, --config FILE  config file (default %s)\n"
	    "  -t, --check        check the config and the store, and exit\n"
	    "  -v, --verbose      log at debug level\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this and exit\n", DEF_CONFIG);
	exit(code);
}

/* The control socket owes the shutdown report to those who asked. */
static const struct domain_ops control_domain = {
	.name = "control",
	.shutdown_complete = control_finish_shutdown,
};

/* A process of ours has ended: the child it was, or an adopted one. */
static void
child_gone(pid_t pid, int status)
{
	struct child *c;

	if (!WIFEXITED(status) && !WIFSIGNALED(status))
		return;
	if (discover_reaped(pid, status))	/* [mob] discover's program */
		return;
	TAILQ_FOREACH(c, &D->children, entry)
		if (c->pid == pid) {
			child_exited(c, status);
			return;
		}
	log_debug("reaped adopted process %d", (int)pid);
}

/*
 * SIGCHLD, through libev, which reaps one process per loop iteration:
 * reap the others that have ended as well, so that a thousand exits (a
 * shutdown) are not a thousand turns of the loop.
 */
static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	pid_t pid;
	int status;

	(void)loop;
	(void)revents;
	child_gone(w->rpid, w->rstatus);
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		child_gone(pid, status);
}

/* What a signal does to mobkitd; mobkitd(8) says which and why. */
enum sigaction_kind { SIGK_SHUTDOWN, SIGK_RELOAD, SIGK_REOPEN, SIGK_IGNORE,
    SIGK_FAULT };

static const struct {
	int	sig;
	int	kind;
} sigtab[] = {
	{ SIGTERM, SIGK_SHUTDOWN }, { SIGINT, SIGK_SHUTDOWN },
	{ SIGQUIT, SIGK_SHUTDOWN }, { SIGHUP, SIGK_RELOAD },
	{ SIGUSR1, SIGK_REOPEN }, { SIGUSR2, SIGK_IGNORE },
	{ SIGPIPE, SIGK_IGNORE }, { SIGXFSZ, SIGK_IGNORE },
	{ SIGIO, SIGK_IGNORE }, { SIGALRM, SIGK_SHUTDOWN },
	{ SIGVTALRM, SIGK_SHUTDOWN }, { SIGPROF, SIGK_SHUTDOWN },
	{ SIGXCPU, SIGK_SHUTDOWN },
#ifdef SIGPWR
	{ SIGPWR, SIGK_SHUTDOWN },
#endif
#ifdef SIGSTKFLT
	{ SIGSTKFLT, SIGK_SHUTDOWN },
#endif
	{ SIGSEGV, SIGK_FAULT }, { SIGBUS, SIGK_FAULT }, { SIGFPE, SIGK_FAULT },
	{ SIGILL, SIGK_FAULT }, { SIGTRAP, SIGK_FAULT }, { SIGSYS, SIGK_FAULT },
	{ SIGABRT, SIGK_FAULT },
};

static ev_signal	 sigw[NSIG];
static struct sigaction	 fault_old[NSIG];
static volatile sig_atomic_t fault_sig;
static ev_async		 fault_async;

/* "TERM", "RTMIN+3": a signal's name for the log. */
static const char *
sig_label(int sig, char *buf, size_t sz)
{
	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, sz, "RTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, sz, "%s", signal_name(sig));
	return buf;
}

/* A signal that asks for the ordered shutdown. */
static void
signal_shutdown(int sig)
{
	char name[32];

	log_info("SIG%s received: shutting down in order",
	    sig_label(sig, name, sizeof(name)));
	daemon_shutdown(0);
}

/* A signal from the loop: shutdown, reload or reopen, by sigtab. */
static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t i;

	(void)loop;
	(void)revents;
	for (i = 0; i < sizeof(sigtab) / sizeof(sigtab[0]); i++)
		if (sigtab[i].sig == w->signum)
			break;
	if (i == sizeof(sigtab) / sizeof(sigtab[0]) ||
	    sigtab[i].kind == SIGK_SHUTDOWN) {
		signal_shutdown(w->signum);	/* realtime signals too */
		return;
	}
	if (sigtab[i].kind == SIGK_RELOAD) {
		log_info("SIGHUP received: reloading %s", D->cfg_path);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		(void)control_reload(&pk);
		msgpack_sbuffer_destroy(&sb);
	} else if (sigtab[i].kind == SIGK_REOPEN) {
		logs_reopen();
	}
}

/*
 * A fault signal (SEGV, BUS, FPE, ILL, TRAP, SYS, ABRT).  Sent by another
 * process with kill(2) it is a request like SIGTERM: the loop does the
 * ordered shutdown.  A real fault, or our own abort(), gets the action
 * that was there before (the default: a core dump; or a sanitizer's).
 */
static void
fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si != NULL && si->si_code <= 0 && si->si_pid != getpid()) {
		fault_sig = sig;
		ev_async_send(D->loop, &fault_async);
		return;
	}
	(void)sigaction(sig, &fault_old[sig], NULL);
}

/* A fault signal sent by kill(1), now on the loop: shut down. */
static void
fault_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (fault_sig != 0)
		signal_shutdown(fault_sig);
}

/* Every catchable signal that would end mobkitd: handled or ignored. */
static void
signals_init(void)
{
	struct sigaction sa;
	size_t i;
	int sig;

	ev_async_init(&fault_async, fault_cb);
	ev_async_start(D->loop, &fault_async);
	for (i = 0; i < sizeof(sigtab) / sizeof(sigtab[0]); i++) {
		sig = sigtab[i].sig;
		memset(&sa, 0, sizeof(sa));
		sigfillset(&sa.sa_mask);
		if (sigtab[i].kind == SIGK_IGNORE) {
			sa.sa_handler = SIG_IGN;
			if (sigaction(sig, &sa, NULL) == -1)
				fatal("sigaction %d", sig);
		} else if (sigtab[i].kind == SIGK_FAULT) {
			sa.sa_sigaction = fault_handler;
			sa.sa_flags = SA_SIGINFO | SA_RESTART;
			if (sigaction(sig, &sa, &fault_old[sig]) == -1)
				fatal("sigaction %d", sig);
		} else {
			ev_signal_init(&sigw[sig], signal_cb, sig);
			ev_signal_start(D->loop, &sigw[sig]);
		}
	}
	for (sig = SIGRTMIN; sig <= SIGRTMAX && sig < NSIG; sig++) {
		ev_signal_init(&sigw[sig], signal_cb, sig);
		ev_signal_start(D->loop, &sigw[sig]);
	}
}

static ev_prepare	 log_prep;
static ev_io		 log_io;

/* stderr can take more: write the queue; stop once it is empty. */
static void
log_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	if (log_flush() == 0)
		ev_io_stop(loop, w);
}

/* Before the loop blocks: wait for stderr only while lines are queued. */
static void
log_prep_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)w;
	(void)revents;
	if (log_pending() > 0 && !ev_is_active(&log_io))
		ev_io_start(loop, &log_io);
}

/* The directory of our own binary, where sibling commands are found. */
static void
find_self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) <= 0)
		return;
	buf[n] = '\0';
	snprintf(D->self_dir, sizeof(D->self_dir), "%s", dirname(buf));
}

static void
mkdirs(const char *path)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(buf, 0755);
			*p = '/';
		}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", buf);
}

/* Read the config; with -t, or when it is bad, say so and exit. */
static struct config *
config_read(const char *path, int check)
{
	struct config *cfg;
	int i;

	if ((cfg = config_load(path)) == NULL)
		fatal("config_load");
	if (cfg->errors.n == 0)
		(void)config_check_commands(cfg);
	if (!check && cfg->errors.n == 0)
		logs_apply(cfg);	/* log_format, log_dir: from the first line */
	for (i = 0; i < cfg->warnings.n; i++)
		if (check || cfg->errors.n > 0)
			fprintf(stderr, "%s\n", cfg->warnings.v[i]);
		else
			log_warnx("%s", cfg->warnings.v[i]);
	if (cfg->errors.n > 0) {
		for (i = 0; i < cfg->errors.n; i++)
			fprintf(stderr, "%s\n", cfg->errors.v[i]);
		config_free(cfg);
		exit(1);
	}
	if (check) {
		/* the store too: a damaged one is named, never started over */
		store_set_node(cfg->node_id, cfg->lease_ms);
		store_set_origin(cfg->path, cfg->store_line);
		i = cfg->state_dir != NULL && store_verify(cfg->state_dir) == -1;
		i |= cfg->store != NULL && store_verify(cfg->store) == -1;
		config_free(cfg);
		exit(i);
	}
	return cfg;
}

/* The daemon's state, its loop, signals and the log queue's watchers. */
static void
daemon_init(const char *path, int verbose)
{
	D->verbose = verbose;
	D->pid = getpid();
	D->start_mono = mono_ms();
	if ((D->cfg_path = realpath(path, NULL)) == NULL &&
	    (D->cfg_path = strdup(path)) == NULL)
		fatal("strdup");
	TAILQ_INIT(&D->children);
	TAILQ_INIT(&D->groups);
	TAILQ_INIT(&D->stoppers);
	sd_notify_init();
	if (D->pid != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("cannot become a child subreaper");
	D->loop = ev_default_loop(EVFLAG_AUTO);
	signals_init();
	ev_io_init(&log_io, log_io_cb, STDERR_FILENO, EV_WRITE);
	ev_prepare_init(&log_prep, log_prep_cb);
	ev_prepare_start(D->loop, &log_prep);
	spawn_limits_init();
}

/* The lock, the event ring, the control socket, reaping, the store. */
static int
daemon_open(struct config *cfg)
{
	static ev_child wchild;
	char lock[PATH_MAX];

	if (cfg->state_dir != NULL) {
		mkdirs(cfg->state_dir);
		snprintf(lock, sizeof(lock), "%s/lock", cfg->state_dir);
		if (instance_lock(lock, "state_dir") == -1)
			return -1;
	}
	events_init(8192);
	events_set_client_ops(&control_event_ops);
	if (control_listen(cfg->control_socket) == -1) {
		log_warnx("cannot listen on %s", cfg->control_socket);
		return -1;
	}
	ev_child_init(&wchild, child_cb, 0, 0);
	ev_child_start(D->loop, &wchild);
	if (cfg->state_dir != NULL && store_open(cfg->state_dir) == -1) {
		log_warnx("cannot open the store in %s", cfg->state_dir);
		return -1;
	}
	store_set_node(cfg->node_id, cfg->lease_ms);
	if (cfg->store != NULL && store_open(cfg->store) == -1) {
		log_warnx("cannot open the store (%s:%d)", cfg->path,
		    cfg->store_line);
		return -1;
	}
	return 0;
}

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "check", no_argument, NULL, 't' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	static struct daemon d;
	const char *path = DEF_CONFIG;
	struct config *cfg;
	int ch, check = 0, verbose = 0;

	/*
	 * Large transient buffers (a conversation handed to a restarting
	 * worker, a long reply) are mapped and go back to the system when
	 * freed: a fixed threshold stops glibc from raising it after the
	 * first such free and keeping them in the heap for good.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	while ((ch = getopt_long(argc, argv, "c:tvVh", long_opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("mobkitd %s (protocol %d)\n", MOBKIT_VERSION,
			    PROTO_VERSION);
			return 0;
		case 'h':
			usage(stdout, 0);
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mobkitd: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr, 2);
	}
	log_init("mobkitd", verbose ? LOG_L_DEBUG : LOG_L_INFO);
	D = &d;
	find_self_dir();
	cfg = config_read(path, check);
	log_queue_start(LOG_QUEUE_BYTES);
	if (!verbose)
		log_setlevel(cfg->log_level);
	daemon_init(path, verbose);
	if (daemon_open(cfg) == -1) {
		config_free(cfg);
		return 1;
	}
	log_info("mobkitd %s started (pid %d, config %s, %d children)",
	    MOBKIT_VERSION, (int)D->pid, D->cfg_path, cfg->nchildren);
	mob_register();
	domain_register(&control_domain);
	tree_build(cfg);
	ev_run(D->loop, 0);
	(void)store_commit();
	cluster_release_all();
	cluster_stop();
	store_close();
	control_close();
	log_info("exiting with status %d", D->exit_code);
	return D->exit_code;
}
