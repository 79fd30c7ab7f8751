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

#include <jansson.h>

#include "config.h"
#include "ctlagents.h"
#include "ctllogs.h"
#include "ctlprint.h"
#include "ctlverbs.h"
#include "frame.h"
#include "inikey.h"
#include "mpack.h"
#include "proto.h"
#include "tojson.h"

#define EX_REFUSED	1
#define EX_USAGE	2
#define EX_UNREACHABLE	3

static int json_out;
/* kept in statics: every exit path may leave them to the process exit */
static const char *cfgpath, *sockpath;
static char *g_sock, *g_buf, **g_argv;
static size_t g_cap;
static union ctl_args g_args;

/* The usage of every verb, or of those whose name starts with prefix. */
static void
usage_verbs(FILE *fp, const char *prefix)
{
	char buf[256];
	size_t i, n = prefix != NULL ? strlen(prefix) : 0;

	for (i = 0; i < ctl_nverbs; i++)
		if (prefix == NULL || (strncmp(ctl_verbs[i].name, prefix, n) ==
		    0 && ctl_verbs[i].name[n] == ' '))
			fprintf(fp, "  %s\n", ctl_verb_usage(&ctl_verbs[i], buf,
			    sizeof(buf)));
}

/* The whole usage on fp. */
static void
usage_all(FILE *fp)
{
	fprintf(fp, "usage: mobkitctl [-c FILE | -s SOCKET] [--json] VERB "
	    "[ARGS...]\n(options may stand anywhere; -- ends them; "
	    "VERB --help for one verb; --version)\nverbs:\n");
	usage_verbs(fp, NULL);
}

/* A usage error: why, the usage on stderr, exit 2. */
static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "mobkitctl: %s\n", why);
	usage_all(stderr);
	exit(EX_USAGE);
}

/* --help: the usage on stdout, exit 0. */
static void __attribute__((noreturn))
help(void)
{
	usage_all(stdout);
	exit(0);
}

static void __attribute__((noreturn))
version(void)
{
	printf("mobkitctl %s (protocol %d)\n", MOBKIT_VERSION, PROTO_VERSION);
	exit(0);
}

/* A usage error of one verb: what is wrong, then how the verb goes. */
static void __attribute__((noreturn))
usage_verb(const struct ctl_verb *v, const char *why)
{
	char buf[256];

	fprintf(stderr, "mobkitctl: %s\nusage: mobkitctl %s\n", why,
	    ctl_verb_usage(v, buf, sizeof(buf)));
	exit(EX_USAGE);
}

/*
 * The control_socket of a config file, read leniently (that one key, not
 * the whole file validated): a reload of a broken file must still reach
 * the daemon so that it can refuse it.  Relative to the file's directory.
 */
static char *
socket_from_config(const char *path)
{
	char *value, *rp, *dir, *abs;

	if ((value = ini_key(path, "mobkitd", "control_socket")) == NULL)
		return strdup(DEF_CONTROL_SOCKET);
	if (value[0] == '/')
		return value;
	if ((rp = realpath(path, NULL)) == NULL)
		return value;
	dir = dirname(rp);
	if (asprintf(&abs, "%s/%s", dir, value) == -1)
		abs = NULL;
	free(rp);
	free(value);
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
read_stdin_text(const char *verb)
{
	size_t len = 0, cap = 65536, max = FRAME_MSG_MAX - 65536;
	char *buf, *nb;
	ssize_t n;

	if ((buf = malloc(cap + 1)) == NULL)
		return NULL;
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				fprintf(stderr, "mobkitctl: %s: standard "
				    "input holds more than %zu bytes, the "
				    "largest input\n", verb, max);
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
			fprintf(stderr, "mobkitctl: %s: standard input: "
			    "%s\n", verb, strerror(errno));
			exit(EX_REFUSED);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		fprintf(stderr, "mobkitctl: %s: the text holds a NUL byte at "
		    "byte %zu\n", verb, strlen(buf));
		exit(EX_REFUSED);
	}
	return buf;
}

/* A field that may be "-" is read from standard input then. */
static void
stdin_fields(const struct ctl_verb *v)
{
	const struct ctl_field *f;
	char **p;
	int i;

	for (i = 0; i < v->nfields; i++) {
		f = &v->fields[i];
		if (!(f->flags & CF_STDIN) || f->type != CT_STR)
			continue;
		p = (char **)(void *)((char *)&g_args + f->off);
		if (*p == NULL || strcmp(*p, "-") != 0)
			continue;
		free(*p);
		if ((*p = read_stdin_text(v->name)) == NULL) {
			fprintf(stderr, "mobkitctl: %s: out of memory\n",
			    v->name);
			exit(EX_REFUSED);
		}
	}
}

/* Every argument is text: refuse (exit 1) one that is not UTF-8. */
static void
check_utf8(const struct ctl_verb *v)
{
	const char *field;
	size_t at;

	if (ctl_args_utf8(v, &g_args, &field, &at) == -1)
		return;
	fprintf(stderr, "mobkitctl: %s: the %s is not valid UTF-8 at byte "
	    "%zu\n", v->name, field, at);
	exit(EX_REFUSED);
}

/* A value as JSON on a line: a module's result may be any JSON value. */
static void
print_json(json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	printf("%s\n", s != NULL ? s : "null");
	free(s);
}

/* --json: the result as it came; for people: ctlprint.c. */
static void
print_result(const char *verb, json_t *res)
{
	if (res == NULL || json_is_null(res))
		return;
	if (json_out)
		print_json(res, JSON_INDENT(2));
	else
		ctlp_result(verb, res);
}

/*
 * One stream item: an event, or a line about the stream itself (a gap in
 * the buffer; lagged, the last item: exit 1), as it came with --json.
 */
static void
print_event(json_t *e)
{
	json_t *gap = json_object_get(e, "gap");
	int lagged = json_is_string(json_object_get(e, "error"));

	if (print_stream_item(e, json_out))
		return;
	if (json_out)
		print_json(e, JSON_COMPACT);
	else if (gap != NULL)
		printf("-- events %lld to %lld are no longer kept --\n",
		    (long long)json_integer_value(json_object_get(gap,
		    "from_seq")), (long long)json_integer_value(
		    json_object_get(gap, "to_seq")));
	else if (!lagged)
		ctlp_event(e);
	fflush(stdout);
	if (lagged) {
		fprintf(stderr, "mobkitctl: events: %s; resume from seq %lld\n",
		    json_string_value(json_object_get(e, "error")), (long long)
		    json_integer_value(json_object_get(e, "resume_from_seq")));
		exit(EX_REFUSED);
	}
}

/* mobkitctl's own options, taken anywhere on the line like a verb's. */
#define OPT_JSON	300
#define OPT_VERSION	301
static const struct option globals[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "socket", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "", no_argument, NULL, 'V' },		/* -V, as mobkitd has */
};
static const struct ctl_verb *cur_verb;	/* for VERB --help */
#define NGLOBALS	(int)(sizeof(globals) / sizeof(globals[0]))

/*
 * Is the flag c (h or V) on the line as a word of its own (-h, --help,
 * --he...), not one letter of a cluster like the text "-hello"?
 */
static int
flag_alone(int c)
{
	size_t n;
	int i;

	for (i = 1; g_argv[i] != NULL && strcmp(g_argv[i], "--") != 0; i++) {
		if (g_argv[i][0] == '-' && g_argv[i][1] == c &&
		    g_argv[i][2] == '\0')
			return 1;
		n = strlen(g_argv[i]);
		if (n > 2 && strncmp(g_argv[i], c == 'h' ? "--help" :
		    "--version", n) == 0)
			return 1;
	}
	return 0;
}

static void
global_option(int c, const char *value, void *arg)
{
	(void)arg;
	if ((c == 'h' || c == 'V') && !flag_alone(c)) {
		char why[128];

		snprintf(why, sizeof(why), "%s: -%c in a cluster of options "
		    "(a text that starts with \"-\" goes after \"--\")",
		    cur_verb->name, c);
		usage_verb(cur_verb, why);
	}
	if (c == 'c')
		cfgpath = value;
	else if (c == 's')
		sockpath = value;
	else if (c == OPT_JSON)
		json_out = 1;
	else if (c == OPT_VERSION || c == 'V')
		version();
	else if (c == 'h' && cur_verb != NULL) {
		char buf[256];

		printf("usage: mobkitctl %s\n", ctl_verb_usage(cur_verb, buf,
		    sizeof(buf)));
		exit(0);
	} else if (c == 'h')
		help();
	else
		usage(NULL);
}

/* Does the option word w ("--key", "-c") take the next word as value? */
static int
takes_value(const char *w)
{
	const struct ctl_field *f;
	size_t i, n;
	int k;

	if (w[1] != '-')	/* -c FILE, -s PATH; -cFILE holds its value */
		return (w[1] == 'c' || w[1] == 's') && w[2] == '\0';
	w += 2;
	if (strchr(w, '=') != NULL)
		return 0;
	n = strlen(w);
	for (k = 0; k < NGLOBALS; k++)
		if (globals[k].has_arg && strncmp(globals[k].name, w, n) == 0)
			return 1;
	for (i = 0; i < ctl_nverbs; i++)
		for (k = 0; k < ctl_verbs[i].nfields; k++) {
			f = &ctl_verbs[i].fields[k];
			if (f->opt != NULL && f->type != CT_BOOL &&
			    strncmp(f->opt, w, n) == 0)
				return 1;
		}
	return 0;
}

/* Where the verb is: the first word that is neither option nor value. */
static int
find_verb(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return i + 1 < argc ? i + 1 : -1;
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			return i;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			help();
		if (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "-V") == 0)
			version();
		if (takes_value(argv[i]) && ++i == argc) {
			fprintf(stderr, "mobkitctl: %s needs a value\n",
			    argv[i - 1]);
			usage(NULL);
		}
	}
	return -1;
}

/* Is -h or --help among the words (before a "--")? */
static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

/* The command line into the verb and g_args, with the global options. */
static const struct ctl_verb *
parse_line(int argc, char **argv)
{
	const struct ctl_verb *v;
	char err[512];
	int vi, used, i, n = 0, bad_usage;

	if ((vi = find_verb(argc, argv)) == -1)
		usage("no verb given");
	if ((v = ctl_verb_lookup(argc - vi, argv + vi, &used)) == NULL) {
		for (i = 0; i < (int)ctl_nverbs; i++)
			if (strncmp(ctl_verbs[i].name, argv[vi],
			    strlen(argv[vi])) == 0 &&
			    ctl_verbs[i].name[strlen(argv[vi])] == ' ')
				break;
		if (i < (int)ctl_nverbs) {	/* "route": say its verbs */
			if (wants_help(argc - vi, argv + vi)) {
				printf("usage:\n");
				usage_verbs(stdout, argv[vi]);
				exit(0);
			}
			fprintf(stderr, "mobkitctl: %s: which one?\nusage:\n",
			    argv[vi]);
			usage_verbs(stderr, argv[vi]);
			exit(EX_USAGE);
		}
		fprintf(stderr, "mobkitctl: unknown verb \"%s\"\n", argv[vi]);
		usage(NULL);
	}
	/* the line without the verb's words, for getopt_long */
	if ((g_argv = calloc((size_t)argc + 1, sizeof(*g_argv))) == NULL)
		exit(EX_REFUSED);
	for (i = 0; i < argc; i++)
		if (i < vi || i >= vi + used)
			g_argv[n++] = argv[i];
	cur_verb = v;
	if (ctl_args_parse_opts(v, n, g_argv, &g_args, globals, NGLOBALS,
	    global_option, NULL, err, sizeof(err), &bad_usage) == -1) {
		if (bad_usage)
			usage_verb(v, err);
		fprintf(stderr, "mobkitctl: %s\n", err);
		exit(EX_REFUSED);
	}
	return v;
}

/* The socket: -s, else $MOBKIT_SOCKET, else -c FILE's, else the default. */
static char *
socket_path(void)
{
	const char *env;

	if (sockpath != NULL)
		return strdup(sockpath);
	/* set but empty (an EnvironmentFile's "MOBKIT_SOCKET="): unset */
	if ((env = getenv("MOBKIT_SOCKET")) != NULL && *env != '\0')
		return strdup(env);
	/* a -c FILE that names no file must not mean the default daemon */
	if (cfgpath != NULL && access(cfgpath, R_OK) == -1) {
		fprintf(stderr, "mobkitctl: -c %s: %s\n", cfgpath,
		    strerror(errno));
		exit(EX_USAGE);
	}
	return socket_from_config(cfgpath != NULL ? cfgpath : DEF_CONFIG);
}

/* Send the typed request. */
static void
send_request(int fd, const struct ctl_verb *v)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	ctl_request_pack(v, &g_args, &pk);
	/* on EPIPE the daemon may have said why: read it next */
	if (frame_write(fd, sb.data, sb.size, FRAME_MAX) == -1 &&
	    errno != EPIPE) {
		fprintf(stderr, "mobkitctl: cannot send to mobkitd at %s: %s\n",
		    g_sock, strerror(errno));
		exit(EX_UNREACHABLE);
	}
	msgpack_sbuffer_destroy(&sb);
}

/* send: a rejection, or a wait that did not complete, exits 1. */
static int
send_failed(json_t *res)
{
	const char *st;

	if ((st = json_string_value(json_object_get(res, "outcome"))) ==
	    NULL || strcmp(st, "rejected") == 0)
		return 1;
	st = json_string_value(json_object_get(json_object_get(res,
	    "result"), "status"));
	return st != NULL && strcmp(st, "completed") != 0;
}

/* The reply: print it (a refusal on stderr); the exit status. */
static int
print_reply(const struct ctl_verb *v, const msgpack_object *m)
{
	const msgpack_object *o;
	json_t *res;
	char *msg;
	int ok, rc = 0;

	if (mp_get_bool(m, "ok", &ok) == -1) {
		fprintf(stderr, "mobkitctl: bad answer from mobkitd\n");
		return EX_REFUSED;
	}
	if (!ok) {
		msg = mp_strdup(m, "error");
		fprintf(stderr, "mobkitctl: %s\n", msg ? msg : "refused");
		free(msg);
		return EX_REFUSED;
	}
	if ((o = mp_find(m, "result")) == NULL || v->stream)
		return 0;
	res = mp_to_json(o);
	if (strcmp(v->name, "send") == 0 && g_args.send.stream)
		print_stream_result(res, json_out);
	else
		print_result(v->name, res);
	if (strcmp(v->name, "send") == 0 && send_failed(res))
		rc = EX_REFUSED;
	if (strcmp(v->name, "call") == 0 &&
	    json_is_true(json_object_get(res, "is_error")))
		rc = EX_REFUSED;
	if (strcmp(v->name, "is-healthy") == 0 &&
	    !json_is_true(json_object_get(res, "healthy")))
		rc = EX_REFUSED;
	/* the operation failed: exit 1 like a refusal */
	if (strcmp(v->name, "deliver") == 0 && json_is_string(
	    json_object_get(res, "status")) && strcmp(json_string_value(
	    json_object_get(res, "status")), "failed") == 0)
		rc = EX_REFUSED;
	json_decref(res);
	return rc;
}

/*
 * A follower whose reader went away (events -f | head -1): SIGPIPE is
 * ignored for the socket, so the closed pipe is seen here, and ends it
 * as quietly as the signal would have.  Another write error is said.
 */
static void
stdout_check(void)
{
	if (fflush(stdout) != EOF && !ferror(stdout))
		return;
	if (errno == EPIPE)
		exit(0);
	fprintf(stderr, "mobkitctl: standard output: %s\n", strerror(errno));
	exit(EX_REFUSED);
}

/* Read stream items, then the reply; the exit status. */
static int
read_answer(int fd, const struct ctl_verb *v)
{
	static msgpack_unpacked u;
	const msgpack_object *o;
	const char *err;
	int64_t t;
	ssize_t n;
	json_t *e;
	int rc;

	for (;;) {
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
		    mp_get_int(&u.data, "t", &t) == -1 ||
		    (t != MSG_CTL_STREAM && t != MSG_CTL_REPLY)) {
			fprintf(stderr, "mobkitctl: bad answer from mobkitd\n");
			return EX_REFUSED;
		}
		if (t == MSG_CTL_REPLY)
			break;
		e = (o = mp_find(&u.data, "item")) ? mp_to_json(o) :
		    json_null();
		if (print_log_item(v->name, &g_args, e, json_out) == 0)
			print_event(e);
		json_decref(e);
		msgpack_unpacked_destroy(&u);
		stdout_check();
	}
	rc = print_reply(v, &u.data);
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
main(int argc, char *argv[])
{
	const struct ctl_verb *v;
	int fd, rc;

	signal(SIGPIPE, SIG_IGN);
	v = parse_line(argc, argv);
	ctlp_init();
	/* events -f: the last 10 first, unless told otherwise */
	if (strcmp(v->name, "events") == 0 && g_args.events.follow &&
	    !g_args.events.n.set && !g_args.events.since.set) {
		g_args.events.n.v = 10;
		g_args.events.n.set = 1;
	}
	stdin_fields(v);
	check_utf8(v);
	if ((g_sock = socket_path()) == NULL)
		return EX_REFUSED;
	fd = connect_to(g_sock);
	send_request(fd, v);
	rc = read_answer(fd, v);
	close(fd);
	free(g_buf);
	free(g_sock);
	free(g_argv);
	ctl_args_free(v, &g_args);
	return rc;
}
