/*
 * mobkitd: the root supervisor.  Reads the INI file, forks one process per
 * module and member, and keeps them running by their policies.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mobkitd.h"
#include "proto.h"
#include "timeutil.h"

#define MOBKIT_VERSION	"0.1.0"

static char	*parent_notify;	/* systemd's NOTIFY_SOCKET, if any */

/*
 * A command that cannot be found is a config error (at -t, at start and at
 * reload), not a child that fails forever.
 */
int
config_check_commands(struct config *cfg)
{
	char *p, msg[512];
	int i, bad = 0;

	for (i = 0; i < cfg->nchildren; i++) {
		struct child_conf *c = cfg->children[i];

		if (c->command == NULL)
			continue;
		if ((p = command_path(c->command)) != NULL &&
		    access(p, X_OK) == 0) {
			free(p);
			continue;
		}
		free(p);
		snprintf(msg, sizeof(msg), "%s:%d: [%s %s]: command \"%s\" not "
		    "found%s", cfg->path, c->line, kind_names[c->kind], c->name,
		    c->command, strchr(c->command, '/') ? " or not executable" :
		    " next to mobkitd or in PATH");
		(void)strlist_add(&cfg->errors, msg);
		bad++;
	}
	return bad;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: mobkitd [-c FILE] [-t] [-v] [-V]\n");
	exit(1);
}

/* Tell our own supervisor (systemd Type=notify) how we are. */
void
sd_notify_parent(const char *msg)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (parent_notify == NULL)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(parent_notify) >= sizeof(sun.sun_path))
		return;
	strncpy(sun.sun_path, parent_notify, sizeof(sun.sun_path) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(parent_notify));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	else
		len++;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_warn("sd_notify %s", parent_notify);
	close(fd);
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct child *c;

	(void)loop;
	(void)revents;
	if (!WIFEXITED(w->rstatus) && !WIFSIGNALED(w->rstatus))
		return;
	TAILQ_FOREACH(c, &D->children, entry)
		if (c->pid == w->rpid) {
			child_exited(c, w->rstatus);
			return;
		}
	log_debug("reaped adopted process %d", (int)w->rpid);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	(void)loop;
	(void)revents;
	switch (w->signum) {
	case SIGTERM:
	case SIGINT:
		log_info("SIG%s received", w->signum == SIGTERM ? "TERM" :
		    "INT");
		daemon_shutdown(0);
		break;
	case SIGHUP:
		log_info("SIGHUP received: reloading %s", D->cfg_path);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		(void)control_reload(&pk);
		msgpack_sbuffer_destroy(&sb);
		break;
	}
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

int
main(int argc, char *argv[])
{
	static struct daemon d;
	static ev_signal sterm, sint, shup;
	static ev_child wchild;
	const char *path = DEF_CONFIG;
	struct config *cfg;
	int ch, check = 0, verbose = 0, i;

	while ((ch = getopt(argc, argv, "c:tvV")) != -1) {
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
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("mobkitd", verbose ? LOG_L_DEBUG : LOG_L_INFO);
	D = &d;
	find_self_dir();
	if ((cfg = config_load(path)) == NULL)
		fatal("config_load");
	if (cfg->errors.n == 0)
		(void)config_check_commands(cfg);
	if (cfg->errors.n > 0) {
		for (i = 0; i < cfg->errors.n; i++)
			fprintf(stderr, "%s\n", cfg->errors.v[i]);
		return 1;
	}
	if (check) {
		/* the store too: a damaged one is named, never started over */
		i = cfg->state_dir != NULL && store_verify(cfg->state_dir) == -1;
		config_free(cfg);
		return i;
	}
	if (!verbose)
		log_setlevel(cfg->log_level);
	D->verbose = verbose;
	D->pid = getpid();
	D->start_mono = mono_ms();
	if ((D->cfg_path = realpath(path, NULL)) == NULL &&
	    (D->cfg_path = strdup(path)) == NULL)
		fatal("strdup");
	TAILQ_INIT(&D->children);
	TAILQ_INIT(&D->groups);
	TAILQ_INIT(&D->stoppers);
	if (getenv("NOTIFY_SOCKET") != NULL) {
		parent_notify = strdup(getenv("NOTIFY_SOCKET"));
		unsetenv("NOTIFY_SOCKET");
	}
	if (D->pid != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("cannot become a child subreaper");
	signal(SIGPIPE, SIG_IGN);
	if (cfg->state_dir != NULL)
		mkdirs(cfg->state_dir);
	D->loop = ev_default_loop(EVFLAG_AUTO);
	events_init(8192);
	if (control_listen(cfg->control_socket) == -1) {
		log_warnx("cannot listen on %s", cfg->control_socket);
		return 1;
	}
	ev_signal_init(&sterm, signal_cb, SIGTERM);
	ev_signal_init(&sint, signal_cb, SIGINT);
	ev_signal_init(&shup, signal_cb, SIGHUP);
	ev_signal_start(D->loop, &sterm);
	ev_signal_start(D->loop, &sint);
	ev_signal_start(D->loop, &shup);
	ev_child_init(&wchild, child_cb, 0, 0);
	ev_child_start(D->loop, &wchild);
	if (cfg->state_dir != NULL && store_open(cfg->state_dir) == -1) {
		log_warnx("cannot open the store in %s", cfg->state_dir);
		return 1;
	}
	log_info("mobkitd %s started (pid %d, config %s, %d children)",
	    MOBKIT_VERSION, (int)D->pid, D->cfg_path, cfg->nchildren);
	tree_build(cfg);
	ev_run(D->loop, 0);
	store_close();
	control_close();
	log_info("exiting with status %d", D->exit_code);
	return D->exit_code;
}
