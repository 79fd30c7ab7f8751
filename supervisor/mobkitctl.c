/*
 * mobkitctl: drive a running mobkitd over its control socket.
 * Exit status: 0 done, 1 refused or failed, 2 usage, 3 cannot reach.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ini.h>
#include <jansson.h>

#include "config.h"
#include "frame.h"
#include "mpack.h"
#include "proto.h"
#include "tojson.h"

#define EX_REFUSED	1
#define EX_USAGE	2
#define EX_UNREACHABLE	3

static const struct {
	const char	*name;
	int		 min, max;	/* arguments after the verb */
	int		 stream;	/* replies with stream items first */
	const char	*usage;
} verbs[] = {
	{ "status", 0, 1, 0, "status [NAME]" },
	{ "start", 1, 1, 0, "start NAME" },
	{ "stop", 1, 1, 0, "stop NAME" },
	{ "restart", 1, 1, 0, "restart NAME" },
	{ "kill", 1, 2, 0, "kill NAME [SIGNAL]" },
	{ "transitions", 0, 1, 0, "transitions [NAME]" },
	{ "events", 0, 7, 1, "events [--follow] [--since SEQ] [--source S] "
	    "[--type T]" },
	{ "reload", 0, 0, 0, "reload" },
	{ "shutdown", 0, 0, 0, "shutdown" },
	{ "members", 0, 0, 0, "members" },
	{ "spawn", 2, 2, 0, "spawn ID PROFILE" },
	{ "retire", 1, 1, 0, "retire ID" },
	{ "destroy", 1, 1, 0, "destroy ID" },
	{ "reset", 1, 1, 0, "reset ID" },
	{ "interrupt", 1, 1, 0, "interrupt ID" },
	{ "reconcile", 0, 0, 0, "reconcile" },
	{ "send", 2, 8, 0, "send ID TEXT [--key KEY] [--wait] "
	    "[--timeout-ms N]" },
	{ "inputs", 1, 1, 0, "inputs ID" },
	{ "wire", 2, 2, 0, "wire A B" },
	{ "unwire", 2, 2, 0, "unwire A B" },
	{ "routes", 0, 0, 0, "routes" },
	{ "route", 2, 32, 0, "route add ID KEY=VALUE... | route rm ID" },
	{ "deliveries", 0, 0, 0, "deliveries" },
	{ "resolve", 1, 11, 0, "resolve RECIPIENT [--channel C] "
	    "[--retry-max N] [--backoff-ms N] [--rate-limit N]" },
	{ "deliver", 3, 15, 0, "deliver RECIPIENT --payload JSON [--key KEY] "
	    "[resolve options]" },
	{ "schedules", 0, 0, 0, "schedules" },
	{ "tick", 0, 2, 0, "tick [--at EPOCH_MS]" },
};

static int json_out;
/* kept in statics: every exit path may leave them to the process exit */
static char *g_sock, *g_buf, **g_args, *g_text;
static size_t g_cap;

static void __attribute__((noreturn))
usage(const char *why)
{
	size_t i;

	if (why != NULL)
		fprintf(stderr, "mobkitctl: %s\n", why);
	fprintf(stderr, "usage: mobkitctl [-c FILE | -s SOCKET] [--json] VERB "
	    "[ARGS...]\nverbs:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(stderr, "  %s\n", verbs[i].usage);
	exit(EX_USAGE);
}

struct sockfind {
	char	*value;
	int	 in_mobkitd;
};

static int
find_socket_key(void *arg, const char *section, const char *name,
    const char *value)
{
	struct sockfind *sf = arg;

	if (strcmp(section, "mobkitd") == 0 &&
	    strcmp(name, "control_socket") == 0 && sf->value == NULL)
		sf->value = strdup(value);
	return 1;
}

/*
 * The control_socket of a config file, read leniently: a reload of a
 * broken file must still reach the daemon so that it can refuse it.
 */
static char *
socket_from_config(const char *path)
{
	struct sockfind sf = { NULL, 0 };
	char *rp, *dir, *abs;

	(void)ini_parse(path, find_socket_key, &sf);
	if (sf.value == NULL)
		return strdup(DEF_CONTROL_SOCKET);
	if (sf.value[0] == '/')
		return sf.value;
	if ((rp = realpath(path, NULL)) == NULL)
		return sf.value;
	dir = dirname(rp);
	if (asprintf(&abs, "%s/%s", dir, sf.value) == -1)
		abs = NULL;
	free(rp);
	free(sf.value);
	return abs;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "mobkitctl: socket path too long: %s\n", path);
		exit(EX_UNREACHABLE);
	}
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "mobkitctl: cannot reach mobkitd at %s: %s\n",
		    path, strerror(errno));
		exit(EX_UNREACHABLE);
	}
	return fd;
}

/*
 * `send ID -`: the text is standard input (an argument holds at most
 * 128 KiB).  It must fit one message and hold no NUL byte.
 */
static char *
read_stdin_text(void)
{
	size_t len = 0, cap = 65536, max = FRAME_MSG_MAX - 65536;
	char *buf, *nb;
	ssize_t n;

	if ((buf = malloc(cap + 1)) == NULL)
		return NULL;
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				fprintf(stderr, "mobkitctl: send: standard "
				    "input holds more than %zu bytes, the "
				    "largest input\n", max);
				exit(EX_REFUSED);
			}
			cap = cap * 2 > max ? max : cap * 2;
			if ((nb = realloc(buf, cap + 1)) == NULL)
				return NULL;
			buf = nb;
		}
		if ((n = read(STDIN_FILENO, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mobkitctl: send: standard input: "
			    "%s\n", strerror(errno));
			exit(EX_REFUSED);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		fprintf(stderr, "mobkitctl: send: the text holds a NUL byte at "
		    "byte %zu\n", strlen(buf));
		exit(EX_REFUSED);
	}
	return buf;
}

/* Every argument is text: refuse (exit 1) one that is not UTF-8. */
static void
check_utf8(int nargs)
{
	ssize_t at;
	int j;

	for (j = 1; j < nargs; j++) {
		if ((at = utf8_invalid(g_args[j], strlen(g_args[j]))) == -1)
			continue;
		if (strcmp(g_args[0], "send") == 0 && j == 2)
			fprintf(stderr, "mobkitctl: send: the text is not "
			    "valid UTF-8 at byte %zd\n", at);
		else
			fprintf(stderr, "mobkitctl: %s: argument %d is not "
			    "valid UTF-8 at byte %zd\n", g_args[0], j, at);
		exit(EX_REFUSED);
	}
}

static void
fmt_duration(char *buf, size_t sz, long long ms)
{
	long long s = ms / 1000;

	if (s < 60)
		snprintf(buf, sz, "%llds", s);
	else if (s < 3600)
		snprintf(buf, sz, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, sz, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, sz, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

static void
print_child(json_t *c, const char *prefix, int last)
{
	json_t *le = json_object_get(c, "last_exit");
	char pid[32] = "-", exitb[96] = "", next[48] = "";

	if (json_is_integer(json_object_get(c, "pid")))
		snprintf(pid, sizeof(pid), "%lld", (long long)json_integer_value(
		    json_object_get(c, "pid")));
	if (json_is_object(le)) {
		if (json_object_get(le, "signal"))
			snprintf(exitb, sizeof(exitb), "  last exit: signal %s",
			    jstr(le, "signal"));
		else
			snprintf(exitb, sizeof(exitb), "  last exit: %lld",
			    (long long)json_integer_value(json_object_get(le,
			    "code")));
		if (json_object_get(le, "reason"))	/* why mobkitd killed it */
			snprintf(exitb + strlen(exitb), sizeof(exitb) -
			    strlen(exitb), " (%s)", jstr(le, "reason"));
	}
	if (json_is_integer(json_object_get(c, "next_restart_in_ms")))
		snprintf(next, sizeof(next), "  restart in %lld ms",
		    (long long)json_integer_value(json_object_get(c,
		    "next_restart_in_ms")));
	printf("%s%s %-16s %-10s pid %-7s restarts %-3lld budget %lld%s%s\n",
	    prefix, last ? "└─" : "├─", jstr(c, "name"), jstr(c, "state"), pid,
	    (long long)json_integer_value(json_object_get(c, "restarts")),
	    (long long)json_integer_value(json_object_get(c, "budget_left")),
	    exitb, next);
}

/* Does a group (or a subgroup of it) hold any child of the answer? */
static int
group_has(json_t *res, const char *gname)
{
	json_t *c, *g;
	size_t i;

	json_array_foreach(json_object_get(res, "children"), i, c)
		if (strcmp(jstr(c, "group"), gname) == 0)
			return 1;
	json_array_foreach(json_object_get(res, "groups"), i, g)
		if (strcmp(jstr(g, "parent"), gname) == 0 &&
		    group_has(res, jstr(g, "name")))
			return 1;
	return 0;
}

/* Print a group and, below it, its children and subgroups as a tree. */
static void
print_group(json_t *res, const char *gname, const char *prefix)
{
	json_t *children = json_object_get(res, "children");
	json_t *groups = json_object_get(res, "groups"), *c, *g;
	size_t i, n = 0, k = 0;
	char sub[256];

	json_array_foreach(children, i, c)
		if (strcmp(jstr(c, "group"), gname) == 0)
			n++;
	json_array_foreach(groups, i, g)
		if (strcmp(jstr(g, "parent"), gname) == 0 &&
		    group_has(res, jstr(g, "name")))
			n++;
	json_array_foreach(children, i, c)
		if (strcmp(jstr(c, "group"), gname) == 0)
			print_child(c, prefix, ++k == n);
	json_array_foreach(groups, i, g) {
		if (strcmp(jstr(g, "parent"), gname) != 0 ||
		    !group_has(res, jstr(g, "name")))
			continue;
		k++;
		printf("%s%s %s (%s, restarts %lld, budget %lld)\n", prefix,
		    k == n ? "└─" : "├─", jstr(g, "name"), jstr(g, "strategy"),
		    (long long)json_integer_value(json_object_get(g,
		    "restarts")),
		    (long long)json_integer_value(json_object_get(g,
		    "budget_left")));
		snprintf(sub, sizeof(sub), "%s%s", prefix, k == n ? "   " :
		    "│  ");
		print_group(res, jstr(g, "name"), sub);
	}
}

static void
print_status(json_t *res)
{
	json_t *d = json_object_get(res, "daemon"), *g;
	char up[32];
	size_t i;

	fmt_duration(up, sizeof(up), (long long)json_integer_value(
	    json_object_get(d, "uptime_ms")));
	printf("mobkitd pid %lld, %s, up %s, config %s\n",
	    (long long)json_integer_value(json_object_get(d, "pid")),
	    jstr(d, "state"), up, jstr(d, "config"));
	json_array_foreach(json_object_get(res, "groups"), i, g)
		if (strcmp(jstr(g, "name"), "root") == 0)
			printf("root (%s, restarts %lld, budget %lld)\n",
			    jstr(g, "strategy"), (long long)json_integer_value(
			    json_object_get(g, "restarts")),
			    (long long)json_integer_value(json_object_get(g,
			    "budget_left")));
	print_group(res, "root", "");
}

static void
print_time(long long ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	printf("%s.%03lld", buf, ms % 1000);
}

static void
print_names(json_t *res, const char *key)
{
	json_t *v;
	size_t i;

	printf("%s:", key);
	json_array_foreach(json_object_get(res, key), i, v)
		printf(" %s", json_string_value(v));
	printf("\n");
}

/* A value as JSON on a line: a module's result may be any JSON value. */
static void
print_json(json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	printf("%s\n", s != NULL ? s : "null");
	free(s);
}

/* Human output for the verbs that have one; JSON for the rest. */
static void
print_result(const char *verb, json_t *res)
{
	json_t *t;
	size_t i;

	if (json_out || res == NULL || json_is_null(res)) {
		if (res != NULL && !json_is_null(res)) {
			print_json(res, JSON_INDENT(2));
		}
		return;
	}
	if (strcmp(verb, "status") == 0)
		print_status(res);
	else if (strcmp(verb, "transitions") == 0) {
		json_array_foreach(res, i, t) {
			print_time((long long)json_integer_value(
			    json_object_get(t, "at_ms")));
			printf("  %-16s %-10s -> %-10s attempt %lld\n",
			    jstr(t, "name"), json_is_null(json_object_get(t,
			    "from")) ? "(new)" : jstr(t, "from"), jstr(t, "to"),
			    (long long)json_integer_value(json_object_get(t,
			    "attempt")));
		}
	} else if (strcmp(verb, "reload") == 0) {
		print_names(res, "added");
		print_names(res, "removed");
		print_names(res, "changed");
		print_names(res, "unchanged");
	} else if (strcmp(verb, "shutdown") == 0) {
		print_names(res, "stopped");
		printf("orphans killed: %lld\n", (long long)json_integer_value(
		    json_object_get(res, "orphans_killed")));
	} else if (strcmp(verb, "members") == 0) {
		printf("%-16s %-12s %-10s %-7s %6s %-26s %s\n", "ID", "PROFILE",
		    "STATE", "PID", "QUEUED", "RUNNING", "RESTARTS");
		json_array_foreach(res, i, t) {
			json_t *pid = json_object_get(t, "pid");

			printf("%-16s %-12s %-10s %-7lld %6lld %-26s %lld\n",
			    jstr(t, "id"), jstr(t, "profile"), jstr(t, "state"),
			    json_is_integer(pid) ? (long long)
			    json_integer_value(pid) : 0LL,
			    (long long)json_integer_value(json_object_get(t,
			    "queued")), jstr(t, "running"),
			    (long long)json_integer_value(json_object_get(t,
			    "restarts")));
		}
	} else if (strcmp(verb, "send") == 0) {
		json_t *r = json_object_get(res, "result");

		printf("%s %s", jstr(res, "outcome"), jstr(res, "input_id"));
		if (json_is_string(json_object_get(res, "reason")))
			printf(": %s", jstr(res, "reason"));
		if (json_is_object(r))
			printf("\n%s: %s", jstr(r, "status"),
			    json_is_string(json_object_get(r, "text")) ?
			    jstr(r, "text") : jstr(r, "error"));
		printf("\n");
	} else if (strcmp(verb, "inputs") == 0) {
		printf("%-26s %-10s %-8s %-16s %s\n", "INPUT", "STATE",
		    "ATTEMPTS", "KEY", "RESULT / ERROR");
		json_array_foreach(res, i, t)
			printf("%-26s %-10s %-8lld %-16s %.60s\n",
			    jstr(t, "input_id"), jstr(t, "state"),
			    (long long)json_integer_value(json_object_get(t,
			    "attempts")), jstr(t, "key"),
			    json_is_string(json_object_get(t, "result")) ?
			    jstr(t, "result") : jstr(t, "error"));
	} else if (strcmp(verb, "events") == 0) {
		/* the stream said it all */
	} else {
		print_json(res, JSON_INDENT(2));
	}
}

/*
 * One stream item: an event, or a line about the stream itself printed as
 * it came (a gap in the buffer; lagged, the last line: exit 1).
 */
static void
print_event(json_t *e)
{
	char *s;
	int lagged = json_is_string(json_object_get(e, "error"));

	if (json_out || lagged || json_object_get(e, "gap") != NULL) {
		print_json(e, JSON_COMPACT);
		if (lagged) {
			fflush(stdout);
			fprintf(stderr, "mobkitctl: events: %s; resume from "
			    "seq %lld\n", jstr(e, "error"), (long long)
			    json_integer_value(json_object_get(e,
			    "resume_from_seq")));
			exit(EX_REFUSED);
		}
	} else {
		s = json_dumps(json_object_get(e, "payload"), JSON_COMPACT |
		    JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
		printf("%6lld ", (long long)json_integer_value(
		    json_object_get(e, "seq")));
		print_time((long long)json_integer_value(json_object_get(e,
		    "timestamp_ms")));
		printf(" %-10s %-16s %-32s %s\n", jstr(e, "source"),
		    jstr(e, "name"), jstr(e, "event_type"), s ? s : "");
		free(s);
	}
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	const char *cfgpath = NULL, *sockpath = NULL;
	size_t i;
	int nargs = 0, fd, j, verb = -1;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	static msgpack_unpacked u;
	ssize_t n;

	signal(SIGPIPE, SIG_IGN);
	if ((g_args = calloc((size_t)argc + 1, sizeof(*g_args))) == NULL)
		return EX_REFUSED;
	for (j = 1; j < argc; j++) {
		if (strcmp(argv[j], "--json") == 0)
			json_out = 1;
		else if (nargs == 0 && strcmp(argv[j], "-c") == 0 &&
		    j + 1 < argc)
			cfgpath = argv[++j];
		else if (nargs == 0 && strcmp(argv[j], "-s") == 0 &&
		    j + 1 < argc)
			sockpath = argv[++j];
		else if (nargs == 0 && (strcmp(argv[j], "-h") == 0 ||
		    strcmp(argv[j], "--help") == 0))
			usage(NULL);
		else if (nargs == 0 && argv[j][0] == '-')
			usage("unknown option");
		else
			g_args[nargs++] = argv[j];
	}
	if (nargs == 0)
		usage("no verb given");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, g_args[0]) == 0)
			verb = (int)i;
	if (verb == -1) {
		fprintf(stderr, "mobkitctl: unknown verb \"%s\"\n", g_args[0]);
		usage(NULL);
	}
	if (nargs - 1 < verbs[verb].min || nargs - 1 > verbs[verb].max) {
		fprintf(stderr, "usage: mobkitctl %s\n", verbs[verb].usage);
		return EX_USAGE;
	}
	if (strcmp(g_args[0], "send") == 0 && strcmp(g_args[2], "-") == 0) {
		if ((g_text = read_stdin_text()) == NULL) {
			fprintf(stderr, "mobkitctl: send: out of memory\n");
			return EX_REFUSED;
		}
		g_args[2] = g_text;
	}
	check_utf8(nargs);
	if (sockpath != NULL)
		g_sock = strdup(sockpath);
	else if (getenv("MOBKIT_SOCKET") != NULL)
		g_sock = strdup(getenv("MOBKIT_SOCKET"));
	else if (cfgpath != NULL)
		g_sock = socket_from_config(cfgpath);
	else
		g_sock = socket_from_config(DEF_CONFIG);
	if (g_sock == NULL)
		return EX_REFUSED;
	fd = connect_to(g_sock);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	mp_kint(&pk, "t", MSG_CTL_REQUEST);
	mp_kint(&pk, "version", PROTO_VERSION);
	mp_kstr(&pk, "verb", g_args[0]);
	mp_str(&pk, "args");
	msgpack_pack_array(&pk, (size_t)nargs - 1);
	for (j = 1; j < nargs; j++)
		mp_str(&pk, g_args[j]);
	/* on EPIPE the daemon may have said why: read it below */
	if (frame_write(fd, sb.data, sb.size, FRAME_MAX) == -1 &&
	    errno != EPIPE) {
		fprintf(stderr, "mobkitctl: cannot send to mobkitd at %s: %s\n",
		    g_sock, strerror(errno));
		return EX_UNREACHABLE;
	}
	msgpack_sbuffer_destroy(&sb);
	for (;;) {
		const char *err;
		const msgpack_object *o;
		int64_t t;
		int ok;

		if ((n = frame_read(fd, &g_buf, &g_cap, FRAME_MAX,
		    FRAME_MSG_MAX)) <= 0) {
			if (n == -1 && errno == EMSGSIZE)
				fprintf(stderr, "mobkitctl: mobkitd's answer is "
				    "larger than %zu bytes\n",
				    (size_t)FRAME_MSG_MAX);
			else
				fprintf(stderr, "mobkitctl: mobkitd closed the "
				    "connection without an answer\n");
			return EX_UNREACHABLE;
		}
		msgpack_unpacked_init(&u);
		if (frame_decode(g_buf, (size_t)n, &u, &err) == -1 ||
		    mp_get_int(&u.data, "t", &t) == -1) {
			fprintf(stderr, "mobkitctl: bad answer from mobkitd\n");
			return EX_REFUSED;
		}
		if (t == MSG_CTL_STREAM) {
			json_t *e = (o = mp_find(&u.data, "item")) ?
			    mp_to_json(o) : json_null();

			print_event(e);
			json_decref(e);
			msgpack_unpacked_destroy(&u);
			continue;
		}
		if (t != MSG_CTL_REPLY || mp_get_bool(&u.data, "ok", &ok) == -1) {
			fprintf(stderr, "mobkitctl: bad answer from mobkitd\n");
			return EX_REFUSED;
		}
		if (!ok) {
			char *msg = mp_strdup(&u.data, "error");

			fprintf(stderr, "mobkitctl: %s\n", msg ? msg :
			    "refused");
			free(msg);
			return EX_REFUSED;
		}
		if ((o = mp_find(&u.data, "result")) != NULL &&
		    !verbs[verb].stream) {
			json_t *res = mp_to_json(o);
			const char *st;

			print_result(g_args[0], res);
			/* send: a rejection, or a wait that did not complete */
			if (strcmp(g_args[0], "send") == 0 && ((st =
			    json_string_value(json_object_get(res, "outcome")))
			    == NULL || strcmp(st, "rejected") == 0 ||
			    ((st = json_string_value(json_object_get(
			    json_object_get(res, "result"), "status"))) != NULL
			    && strcmp(st, "completed") != 0))) {
				json_decref(res);
				return EX_REFUSED;
			}
			json_decref(res);
		}
		msgpack_unpacked_destroy(&u);
		break;
	}
	close(fd);
	free(g_buf);
	free(g_sock);
	free(g_args);
	free(g_text);
	return 0;
}
