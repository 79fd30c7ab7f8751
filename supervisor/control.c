/*
 * control.c: the control socket (0600, peer uid checked with SO_PEERCRED)
 * and the verbs mobkitctl sends.  A malformed or oversized request drops
 * that client only.  Dropped clients are freed just before the loop
 * blocks, never under a caller's feet.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mobkitd.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"

#define CTL_HWM		(32 * 1024 * 1024)
#define MAX_ARGS	CTL_MAX_ARGS

struct client {
	TAILQ_ENTRY(client)	 entry;
	uint64_t		 id;
	struct peer		*peer;
	uid_t			 uid;
	int			 dead;
	int			 following;
	int			 busy;		/* a deferred reply is due */
	int			 wants_report;
};

static TAILQ_HEAD(, client) clients = TAILQ_HEAD_INITIALIZER(clients);
static int		 listen_fd = -1;
static ev_io		 accept_io;
static ev_prepare	 reaper;
static uint64_t		 next_client_id = 1;
static char		*sock_path;
static char		 errbuf[8192];

/* Results for deferred replies to stop/restart. */
struct pending {
	uint64_t	 cid;
	char		*name;
	int		 restart;
};

uint64_t
client_id(struct client *cl)
{
	return cl->id;
}

struct client *
client_by_id(uint64_t id)
{
	struct client *cl;

	TAILQ_FOREACH(cl, &clients, entry)
		if (cl->id == id && !cl->dead)
			return cl;
	return NULL;
}

size_t
client_queued(struct client *cl)
{
	return cl->dead ? 0 : peer_queued(cl->peer);
}

int
client_send(struct client *cl, msgpack_sbuffer *sb)
{
	if (cl->dead)
		return -1;
	return peer_send_sbuf(cl->peer, sb);
}

/* Mark a client dead; it is freed before the loop next blocks. */
void
client_drop(struct client *cl, const char *why)
{
	if (cl->dead)
		return;
	log_debug("control client %llu dropped: %s",
	    (unsigned long long)cl->id, why);
	cl->dead = 1;
	events_unsubscribe(cl);
	peer_pause(cl->peer, 1);
	ev_io_stop(D->loop, &cl->peer->wio);
}

static void
reaper_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct client *cl, *t;

	(void)loop;
	(void)w;
	(void)revents;
	TAILQ_FOREACH_SAFE(cl, &clients, entry, t) {
		if (!cl->dead)
			continue;
		TAILQ_REMOVE(&clients, cl, entry);
		peer_free(cl->peer);
		free(cl);
	}
}

/* Send {t: REPLY, ok: true, result: <packed>}. */
void
reply_ok_packed(uint64_t cid, const char *data, size_t len)
{
	struct client *cl = client_by_id(cid);
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (cl == NULL)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kint(&pk, "t", MSG_CTL_REPLY);
	mp_kbool(&pk, "ok", 1);
	mp_str(&pk, "result");
	if (len > 0)
		msgpack_sbuffer_write(&sb, data, len);
	else
		msgpack_pack_nil(&pk);
	if (client_send(cl, &sb) == -1)
		client_drop(cl, "reply larger than the client's queue");
	cl->busy = 0;
	msgpack_sbuffer_destroy(&sb);
}

void
reply_error(uint64_t cid, const char *msg)
{
	struct client *cl = client_by_id(cid);
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (cl == NULL)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kint(&pk, "t", MSG_CTL_REPLY);
	mp_kbool(&pk, "ok", 0);
	mp_kstr(&pk, "error", msg);
	(void)client_send(cl, &sb);
	cl->busy = 0;
	msgpack_sbuffer_destroy(&sb);
}

/* Set the error message of the verb being run; returns -1. */
int
ctl_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return -1;
}

#define fail ctl_fail

static struct child *
need_child(const char *name)
{
	struct child *c = child_find(name);

	if (c == NULL)
		fail("no child named \"%s\"", name);
	return c;
}

/* --- status --------------------------------------------------------- */

static void
pack_child(msgpack_packer *pk, struct child *c)
{
	uint64_t now = mono_ms();

	msgpack_pack_map(pk, 13);
	mp_kstr(pk, "name", c->name);
	mp_kstr(pk, "kind", kind_names[c->conf->kind]);
	mp_kstr(pk, "group", c->group->name);
	mp_kstr(pk, "state", cstate_names[c->state]);
	if (c->pid > 0)
		mp_kint(pk, "pid", c->pid);
	else
		mp_knil(pk, "pid");
	mp_kint(pk, "restarts", c->restarts);
	mp_kint(pk, "budget_left", child_budget_left(c));
	mp_str(pk, "last_exit");
	if (!c->exit_known)
		msgpack_pack_nil(pk);
	else if (c->exit_signal) {
		msgpack_pack_map(pk, 1);
		mp_kstr(pk, "signal", signal_name(c->exit_signal));
	} else {
		msgpack_pack_map(pk, 1);
		mp_kint(pk, "code", c->exit_code);
	}
	mp_kint(pk, "since_ms", (int64_t)c->since_wall);
	if (c->timer_kind == CT_BACKOFF && c->next_restart_at > 0)
		mp_kint(pk, "next_restart_in_ms", c->next_restart_at > now ?
		    (int64_t)(c->next_restart_at - now) : 0);
	else
		mp_knil(pk, "next_restart_in_ms");
	mp_kint(pk, "attempt", c->spawned);
	mp_kstr(pk, "ready", ready_names[c->conf->ready]);
	mp_kstr(pk, "restart", restart_names[c->conf->restart]);
}

static int
v_status(struct client *cl, int argc, char **argv, msgpack_packer *pk)
{
	struct child *c, *one = NULL;
	int n = 0;

	(void)cl;
	if (argc > 0 && (one = need_child(argv[0])) == NULL)
		return -1;
	msgpack_pack_map(pk, 3);
	mp_str(pk, "daemon");
	msgpack_pack_map(pk, 4);
	mp_kint(pk, "pid", D->pid);
	mp_kstr(pk, "state", daemon_state());
	mp_kint(pk, "uptime_ms", (int64_t)(mono_ms() - D->start_mono));
	mp_kstr(pk, "config", D->cfg_path);
	mp_str(pk, "groups");
	{
		struct sgroup *g;
		int ng = 0;

		TAILQ_FOREACH(g, &D->groups, entry)
			ng++;
		msgpack_pack_array(pk, (size_t)ng);
		TAILQ_FOREACH(g, &D->groups, entry) {
			msgpack_pack_map(pk, 5);
			mp_kstr(pk, "name", g->name);
			mp_kstr_or_nil(pk, "parent", g->parent ?
			    g->parent->name : NULL);
			mp_kstr(pk, "strategy", strategy_names[g->strategy]);
			mp_kint(pk, "restarts", g->restarts);
			mp_kint(pk, "budget_left", budget_left(&g->budget,
			    g->max_restarts, g->window_ms, mono_ms()));
		}
	}
	mp_str(pk, "children");
	TAILQ_FOREACH(c, &D->children, entry)
		if (!c->removing && (one == NULL || c == one))
			n++;
	msgpack_pack_array(pk, (size_t)n);
	TAILQ_FOREACH(c, &D->children, entry)
		if (!c->removing && (one == NULL || c == one))
			pack_child(pk, c);
	return 0;
}

static void
pack_brief(msgpack_packer *pk, struct child *c)
{
	msgpack_pack_map(pk, 3);
	mp_kstr(pk, "name", c->name);
	mp_kstr(pk, "state", cstate_names[c->state]);
	if (c->pid > 0)
		mp_kint(pk, "pid", c->pid);
	else
		mp_knil(pk, "pid");
}

/* --- start, stop, restart, kill ------------------------------------- */

static int
v_start(struct client *cl, int argc, char **argv, msgpack_packer *pk)
{
	struct child *c;

	(void)cl;
	(void)argc;
	if ((c = need_child(argv[0])) == NULL)
		return -1;
	if (D->shutting_down)
		return fail("mobkitd is shutting down");
	if (c->state == CS_STOPPING || c->held)
		return fail("%s is %s; try again when it has stopped", c->name,
		    c->held ? "being restarted" : "stopping");
	child_start_op(c);
	pack_brief(pk, c);
	return 0;
}

static void
op_done(struct stopper *s, void *arg)
{
	struct pending *p = arg;
	struct child *c = child_find(p->name);
	msgpack_sbuffer sb;
	msgpack_packer pk;

	TAILQ_REMOVE(&D->stoppers, s, entry);
	free(s->v);
	free(s);
	if (c != NULL) {
		c->held = 0;
		if (p->restart && !D->shutting_down)
			child_start_op(c);
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (c != NULL) {
		pack_brief(&pk, c);
		reply_ok_packed(p->cid, sb.data, sb.size);
	} else
		reply_error(p->cid, "the child went away");
	msgpack_sbuffer_destroy(&sb);
	free(p->name);
	free(p);
}

/* Stop (and for restart, start again) once the process is gone. */
static int
stop_or_restart(struct client *cl, const char *name, int restart,
    msgpack_packer *pk)
{
	struct child *c;
	struct pending *p;

	if ((c = need_child(name)) == NULL)
		return -1;
	if (D->shutting_down)
		return fail("mobkitd is shutting down");
	if (c->held)
		return fail("%s is being restarted by its group; try again",
		    c->name);
	if (!restart)
		c->want_run = 0;
	if (c->pid == 0) {
		if (!restart) {
			child_event(c, CE_STOP);
			pack_brief(pk, c);
			return 0;
		}
		child_start_op(c);
		pack_brief(pk, c);
		return 0;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->name = strdup(c->name)) == NULL)
		fatal("calloc");
	p->cid = cl->id;
	p->restart = restart;
	c->held = 1;
	(void)stopper_new(&c, 1, 0, op_done, p);
	stoppers_poke();
	return 1;
}

static int
v_stop(struct client *cl, int argc, char **argv, msgpack_packer *pk)
{
	(void)argc;
	return stop_or_restart(cl, argv[0], 0, pk);
}

static int
v_restart(struct client *cl, int argc, char **argv, msgpack_packer *pk)
{
	(void)argc;
	return stop_or_restart(cl, argv[0], 1, pk);
}

static int
v_kill(struct client *cl, int argc, char **argv, msgpack_packer *pk)
{
	struct child *c;
	int sig = SIGTERM;

	(void)cl;
	if ((c = need_child(argv[0])) == NULL)
		return -1;
	if (argc > 1 && (sig = signal_parse(argv[1])) == -1)
		return fail("bad signal \"%s\"", argv[1]);
	if (c->pid == 0)
		return fail("%s is not running (%s)", c->name,
		    cstate_names[c->state]);
	if (kill(c->pid, sig) == -1)
		return fail("kill %d: %s", (int)c->pid, strerror(errno));
	msgpack_pack_map(pk, 3);
	mp_kstr(pk, "name", c->name);
	mp_kint(pk, "pid", c->pid);
	mp_kstr(pk, "signal", signal_name(sig));
	return 0;
}

/* --- transitions, events, reload, shutdown -------------------------- */

static int
v_transitions(struct client *cl, int argc, char **argv, msgpack_packer *pk)
{
	(void)cl;
	return transitions_pack(pk, argc > 0 ? argv[0] : NULL);
}

static int
v_events(struct client *cl, int argc, char **argv, msgpack_packer *pk)
{
	const char *source = NULL, *type = NULL;
	int64_t since = 0;
	int i, follow = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--follow") == 0 ||
		    strcmp(argv[i], "-f") == 0)
			follow = 1;
		else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			if (parse_ms(argv[++i], &since) == -1)
				return fail("--since: bad sequence number "
				    "\"%s\"", argv[i]);
		} else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc)
			source = argv[++i];
		else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc)
			type = argv[++i];
		else
			return fail("events: unknown option \"%s\"", argv[i]);
	}
	events_replay(cl, (uint64_t)since, source, type);
	if (cl->dead)
		return 1;
	if (follow) {
		events_subscribe(cl, source, type);
		cl->following = 1;
		return 1;
	}
	msgpack_pack_map(pk, 1);
	mp_kint(pk, "last_seq", (int64_t)events_last_seq());
	return 0;
}

/* Reload the config file as a transaction (verb and SIGHUP). */
int
control_reload(msgpack_packer *pk)
{
	struct config *ncfg;
	size_t off = 0;
	int i;

	if (D->shutting_down)
		return fail("mobkitd is shutting down");
	if ((ncfg = config_load(D->cfg_path)) == NULL)
		return fail("out of memory");
	if (ncfg->errors.n == 0)
		(void)config_check_commands(ncfg);
	if (ncfg->errors.n > 0) {
		errbuf[0] = '\0';
		for (i = 0; i < ncfg->errors.n && off < sizeof(errbuf); i++)
			off += (size_t)snprintf(errbuf + off,
			    sizeof(errbuf) - off, "%s%s", i ? "\n" : "",
			    ncfg->errors.v[i]);
		log_warnx("reload refused: %d problem(s) in %s; nothing "
		    "changed", ncfg->errors.n, D->cfg_path);
		for (i = 0; i < ncfg->errors.n; i++)
			log_warnx("%s", ncfg->errors.v[i]);
		event_simple("supervisor", "mobkitd", "config.reload_refused");
		config_free(ncfg);
		return -1;
	}
	if (strcmp(ncfg->control_socket, D->cfg->control_socket) != 0)
		log_warnx("reload: control_socket changes only at restart");
	return tree_reload(ncfg, pk);
}

static int
v_reload(struct client *cl, int argc, char **argv, msgpack_packer *pk)
{
	(void)cl;
	(void)argc;
	(void)argv;
	return control_reload(pk);
}

static int
v_shutdown(struct client *cl, int argc, char **argv, msgpack_packer *pk)
{
	(void)argc;
	(void)argv;
	(void)pk;
	cl->wants_report = 1;
	daemon_shutdown(0);
	return 1;
}

static const struct verb {
	const char	*name;
	int		 min, max;
	int		 (*fn)(struct client *, int, char **, msgpack_packer *);
} verbs[] = {
	{ "status", 0, 1, v_status },
	{ "start", 1, 1, v_start },
	{ "stop", 1, 1, v_stop },
	{ "restart", 1, 1, v_restart },
	{ "kill", 1, 2, v_kill },
	{ "transitions", 0, 1, v_transitions },
	{ "events", 0, 16, v_events },
	{ "reload", 0, 0, v_reload },
	{ "shutdown", 0, 0, v_shutdown },
	{ "members", 0, 0, v_members },
	{ "spawn", 2, 2, v_spawn },
	{ "retire", 1, 1, v_retire },
	{ "destroy", 1, 1, v_destroy },
	{ "reset", 1, 1, v_reset },
	{ "interrupt", 1, 1, v_interrupt },
	{ "reconcile", 0, 0, v_reconcile },
	{ "send", 2, 8, v_send },
	{ "inputs", 1, 1, v_inputs },
	{ "wire", 2, 2, v_wire },
	{ "unwire", 2, 2, v_unwire },
	{ "routes", 0, 0, v_routes },
	{ "route", 2, 32, v_route },
	{ "resolve", 1, 9, v_resolve },
	{ "schedules", 0, 0, v_schedules },
	{ "tick", 0, 2, v_tick },
	{ "deliver", 3, 15, v_deliver },
	{ "deliveries", 0, 0, v_deliveries },
};

/* Pack the shutdown report for every client waiting for it. */
void
control_finish_shutdown(void)
{
	struct client *cl;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int i;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	mp_str(&pk, "drain");
	msgpack_pack_map(&pk, 3);
	mp_kint(&pk, "drained", D->drained);
	mp_kbool(&pk, "timed_out", D->drain_timed_out);
	mp_kint(&pk, "duration_ms", (int64_t)D->drain_ms);
	mp_str(&pk, "stopped");
	msgpack_pack_array(&pk, (size_t)D->stopped_order.n);
	for (i = 0; i < D->stopped_order.n; i++)
		mp_str(&pk, D->stopped_order.v[i]);
	mp_kint(&pk, "orphans_killed", D->orphans_killed);
	mp_kint(&pk, "orphan_processes", D->orphans_found);
	mp_str(&pk, "stages");
	msgpack_pack_array(&pk, (size_t)D->stages.n);
	for (i = 0; i < D->stages.n; i++)
		mp_str(&pk, D->stages.v[i]);
	TAILQ_FOREACH(cl, &clients, entry) {
		if (cl->dead)
			continue;
		if (cl->wants_report)
			reply_ok_packed(cl->id, sb.data, sb.size);
		(void)peer_flush(cl->peer, 2000);
	}
	msgpack_sbuffer_destroy(&sb);
}

/*
 * A request {t: CTL_REQUEST, verb: str, args: [str, ...]} as its verb and
 * a NULL-terminated argv of copies; returns argc, -1 when the request is
 * malformed, -2 when an argument is not a string (nothing to free then).
 */
int
control_request_parse(const msgpack_object *m, char *verb, size_t verbsz,
    char *argv[CTL_MAX_ARGS + 1])
{
	const msgpack_object *args;
	int64_t t;
	size_t i;
	int argc = 0;

	if (mp_get_int(m, "t", &t) == -1 || t != MSG_CTL_REQUEST ||
	    mp_copy_str(m, "verb", verb, verbsz) == -1 ||
	    (args = mp_find(m, "args")) == NULL ||
	    args->type != MSGPACK_OBJECT_ARRAY || args->via.array.size > MAX_ARGS)
		return -1;
	for (i = 0; i < args->via.array.size; i++) {
		const msgpack_object *a = &args->via.array.ptr[i];
		const char *s;
		size_t len;

		if (a->type != MSGPACK_OBJECT_STR)
			goto bad;
		/* an empty string has a NULL pointer */
		s = a->via.str.size > 0 ? a->via.str.ptr : "";
		len = a->via.str.size;
		if (memchr(s, '\0', len) != NULL)
			goto bad;
		argv[argc] = strndup(s, len);
		if (argv[argc++] == NULL)
			fatal("strndup");
	}
	argv[argc] = NULL;
	return argc;
bad:
	while (argc > 0)
		free(argv[--argc]);
	return -2;
}

/* One request from a control client. */
static int
client_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	struct client *cl = arg;
	char *argv[MAX_ARGS + 1], verb[32];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t i;
	int argc, r = -1;

	(void)p;
	if (cl->dead)
		return 0;
	if ((argc = control_request_parse(m, verb, sizeof(verb), argv)) == -1) {
		reply_error(cl->id, "malformed request");
		client_drop(cl, "malformed request");
		return 0;
	}
	if (cl->busy || cl->following) {
		while (argc > 0)
			free(argv[--argc]);
		client_drop(cl, "request while another is in progress");
		return 0;
	}
	if (argc == -2) {
		reply_error(cl->id, "malformed request: arguments must be "
		    "strings");
		client_drop(cl, "malformed arguments");
		return 0;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, verb) == 0)
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]))
		r = fail("unknown verb \"%s\"", verb);
	else if (argc < verbs[i].min || argc > verbs[i].max)
		r = fail("%s: wrong number of arguments (%d)", verb, argc);
	else {
		errbuf[0] = '\0';
		cl->busy = 1;
		r = verbs[i].fn(cl, argc, argv, &pk);
	}
	if (r == 0)
		reply_ok_packed(cl->id, sb.data, sb.size);
	else if (r == -1)
		reply_error(cl->id, errbuf);
	msgpack_sbuffer_destroy(&sb);
	while (argc > 0)
		free(argv[--argc]);
	return 0;
}

static void
client_gone(struct peer *p, const char *why, void *arg)
{
	struct client *cl = arg;

	(void)p;
	if (strcmp(why, "closed") != 0)
		log_warnx("control client %llu: %s",
		    (unsigned long long)cl->id, why);
	client_drop(cl, why);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *cl;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	(void)w;
	(void)revents;
	if ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept");
		return;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		close(fd);
		return;
	}
	cl->id = next_client_id++;
	if ((cl->peer = peer_new(loop, fd, FRAME_MAX, CTL_HWM, client_msg,
	    client_gone, cl)) == NULL) {
		close(fd);
		free(cl);
		return;
	}
	TAILQ_INSERT_TAIL(&clients, cl, entry);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		log_warnx("control: refused a client with uid %d",
		    (int)cred.uid);
		snprintf(errbuf, sizeof(errbuf), "permission denied: uid %d "
		    "is neither root nor mobkitd's uid %d", (int)cred.uid,
		    (int)geteuid());
		reply_error(cl->id, errbuf);
		(void)peer_flush(cl->peer, 100);
		client_drop(cl, "uid refused");
		return;
	}
	cl->uid = cred.uid;
}

/* Create the socket (refusing to steal a live one) and listen. */
int
control_listen(const char *path)
{
	struct sockaddr_un sun;
	char *dir, *tmp;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control_socket: \"%s\" is longer than %zu bytes",
		    path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	if ((tmp = strdup(path)) == NULL)
		return -1;
	dir = dirname(tmp);
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		log_warn("mkdir %s", dir);
	free(tmp);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_warnx("another mobkitd is listening on %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_warn("bind %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	(void)chmod(path, 0600);
	if (listen(fd, 128) == -1) {
		log_warn("listen %s", path);
		close(fd);
		return -1;
	}
	listen_fd = fd;
	if ((sock_path = strdup(path)) == NULL)
		fatal("strdup");
	ev_io_init(&accept_io, accept_cb, fd, EV_READ);
	ev_io_start(D->loop, &accept_io);
	ev_prepare_init(&reaper, reaper_cb);
	ev_prepare_start(D->loop, &reaper);
	return 0;
}

void
control_close(void)
{
	struct client *cl, *t;

	if (listen_fd == -1)
		return;
	ev_io_stop(D->loop, &accept_io);
	ev_prepare_stop(D->loop, &reaper);
	close(listen_fd);
	listen_fd = -1;
	(void)unlink(sock_path);
	free(sock_path);
	TAILQ_FOREACH_SAFE(cl, &clients, entry, t) {
		TAILQ_REMOVE(&clients, cl, entry);
		events_unsubscribe(cl);
		peer_free(cl->peer);
		free(cl);
	}
}
