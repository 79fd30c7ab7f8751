/*
 * mcpbench BINDIR N SERVER ARGS...: a tool round trip through mobkitd to
 * an MCP server, beside the same call made straight to the same server.
 *
 *  - direct: this process spawns SERVER on pipes, initialises it, and
 *    times tools/call echo as a bare stdio JSON-RPC client (write a line,
 *    read the answer line);
 *  - through mobkitd: the server is an [mcp b] of a running mobkitd;
 *    a control client times `call b echo --args {...}` on one connection:
 *    client -> mobkitd -> mobkit-mcp -> server and back;
 *  - for scale, `status b` on that connection (the control hop alone).
 *
 * Both run N calls after a warm-up, in alternating blocks of 100 so that
 * the machine's moods fall on both alike; median and p99 of each, and
 * their ratio, are printed.  Goal: the relay at most 1.5x the direct call.
 */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>

#include "benchlib.h"
#include "mpack.h"
#include "proto.h"
#include "timeutil.h"

#define BLOCK	100
#define WARMUP	200

static char	 dir[64], sockpath[128];
static FILE	*srv_in, *srv_out;
static pid_t	 srv_pid, sup_pid;
static int64_t	 next_id = 1;

/* --- direct: a bare stdio JSON-RPC client --------------------------- */

/* Send a request and read lines until the response with its id. */
static void
rpc(const char *method, const char *params)
{
	char *line = NULL;
	size_t cap = 0;
	int64_t id = next_id++;
	json_t *v;
	int match;

	fprintf(srv_in, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"%s\""
	    "%s%s}\n", (long long)id, method, params ? ",\"params\":" : "",
	    params ? params : "");
	fflush(srv_in);
	while (getline(&line, &cap, srv_out) != -1) {
		if ((v = json_loads(line, 0, NULL)) == NULL)
			continue;	/* a line that is not JSON */
		match = json_integer_value(json_object_get(v, "id")) == id &&
		    (json_object_get(v, "result") || json_object_get(v,
		    "error"));
		json_decref(v);
		if (match) {
			free(line);
			return;
		}
	}
	fprintf(stderr, "mcpbench: the server closed its output\n");
	exit(1);
}

static void
direct_open(char **argv)
{
	int in[2], out[2];

	if (pipe(in) == -1 || pipe(out) == -1)
		exit(1);
	if ((srv_pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	srv_in = fdopen(in[1], "w");
	srv_out = fdopen(out[0], "r");
	rpc("initialize", "{\"protocolVersion\":\"2025-06-18\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"mcpbench\","
	    "\"version\":\"1\"}}");
	fprintf(srv_in, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}\n");
	fflush(srv_in);
}

static uint64_t
direct_call(void)
{
	uint64_t t0 = mono_us();

	rpc("tools/call", "{\"name\":\"echo\",\"arguments\":{\"message\":"
	    "\"bench\"}}");
	return mono_us() - t0;
}

/* --- through mobkitd ------------------------------------------------ */

static int	 got_reply, reply_ok;

static void
on_frame(void *arg, const msgpack_object *m)
{
	int64_t t;
	int ok;

	(void)arg;
	if (mp_get_int(m, "t", &t) == 0 && t == MSG_CTL_REPLY) {
		got_reply = 1;
		reply_ok = mp_get_bool(m, "ok", &ok) == 0 && ok;
	}
}

/* One request; the reply's ok. */
static int
ctl_roundtrip(int fd, struct rbuf *rb, const char *verb, int argc,
    const char **argv)
{
	got_reply = 0;
	ctl_request(fd, verb, argc, argv);
	while (!got_reply)
		if (ctl_pump(fd, rb, on_frame, NULL) == -1) {
			fprintf(stderr, "mcpbench: mobkitd went away\n");
			exit(1);
		}
	return reply_ok;
}

static void
sup_start(const char *bindir, char **argv)
{
	char cfg[128], exe[256];
	FILE *fp;
	int i;

	snprintf(cfg, sizeof(cfg), "%s/mobkit.ini", dir);
	if ((fp = fopen(cfg, "w")) == NULL)
		exit(1);
	fprintf(fp, "[mobkitd]\ncontrol_socket = %s\nlog_level = error\n"
	    "start_timeout_ms = 60000\n\n[mcp b]\ncommand = %s\nargs =",
	    sockpath, argv[0]);
	for (i = 1; argv[i] != NULL; i++)
		fprintf(fp, " \"%s\"", argv[i]);
	fprintf(fp, "\n");
	fclose(fp);
	snprintf(exe, sizeof(exe), "%s/mobkitd", bindir);
	if ((sup_pid = fork()) == 0) {
		freopen("/dev/null", "w", stderr);
		execl(exe, exe, "-c", cfg, (char *)NULL);
		_exit(127);
	}
}

static uint64_t
root_call(int fd, struct rbuf *rb)
{
	static const char *a[] = { "b", "echo", "--args",
	    "{\"message\":\"bench\"}" };
	uint64_t t0 = mono_us();

	if (!ctl_roundtrip(fd, rb, "call", 4, a)) {
		fprintf(stderr, "mcpbench: call refused\n");
		exit(1);
	}
	return mono_us() - t0;
}

/* status b: the control round trip alone, for scale. */
static uint64_t
status_call(int fd, struct rbuf *rb)
{
	static const char *a[] = { "b" };
	uint64_t t0 = mono_us();

	(void)ctl_roundtrip(fd, rb, "status", 1, a);
	return mono_us() - t0;
}

static void
report(const char *label, uint64_t *v, size_t n, uint64_t *p50,
    uint64_t *p99)
{
	*p50 = pct(v, n, 0.5);
	*p99 = pct(v, n, 0.99);
	printf("  %-34s median %6llu us  p99 %6llu us\n", label,
	    (unsigned long long)*p50, (unsigned long long)*p99);
}

int
main(int argc, char *argv[])
{
	struct rbuf rb = { NULL, 0, 0 };
	uint64_t *d, *r, *c, d50, d99, r50, r99, c50, c99;
	size_t n, i, j;
	int fd, tries;

	if (argc < 4) {
		fprintf(stderr, "usage: mcpbench BINDIR N SERVER [ARGS...]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	n = (n + BLOCK - 1) / BLOCK * BLOCK;
	snprintf(dir, sizeof(dir), "/tmp/mobkit-mcpbench.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sockpath, sizeof(sockpath), "%s/ctl.sock", dir);
	direct_open(argv + 3);
	sup_start(argv[1], argv + 3);
	fd = ctl_connect(sockpath);
	/* a call is refused until [mcp b] is configured and up */
	for (tries = 0; tries < 600; tries++) {
		static const char *a[] = { "b", "echo", "--args", "{}" };

		if (ctl_roundtrip(fd, &rb, "call", 4, a))
			break;
		usleep(100000);
	}
	if (tries == 600) {
		fprintf(stderr, "mcpbench: [mcp b] never answered a call\n");
		return 1;
	}
	if ((d = calloc(n, sizeof(*d))) == NULL ||
	    (r = calloc(n, sizeof(*r))) == NULL ||
	    (c = calloc(n, sizeof(*c))) == NULL)
		return 1;
	for (i = 0; i < WARMUP; i++) {
		(void)direct_call();
		(void)root_call(fd, &rb);
	}
	for (i = 0; i < n; i += BLOCK) {
		for (j = i; j < i + BLOCK; j++)
			d[j] = direct_call();
		for (j = i; j < i + BLOCK; j++)
			r[j] = root_call(fd, &rb);
		for (j = i; j < i + BLOCK; j++)
			c[j] = status_call(fd, &rb);
	}
	printf("MCP tool round trip (tools/call echo), %zu calls each, "
	    "server: %s\n", n, argv[3]);
	report("direct stdio JSON-RPC (bare C)", d, n, &d50, &d99);
	report("through mobkitd + mobkit-mcp", r, n, &r50, &r99);
	report("(a control round trip: status b)", c, n, &c50, &c99);
	printf("  ratio: median %.2fx, p99 %.2fx (goal: at most 1.5x)\n",
	    d50 ? (double)r50 / (double)d50 : 0.0,
	    d99 ? (double)r99 / (double)d99 : 0.0);
	kill(sup_pid, SIGTERM);
	waitpid(sup_pid, NULL, 0);
	fclose(srv_in);
	kill(srv_pid, SIGTERM);
	waitpid(srv_pid, NULL, 0);
	unlink(sockpath);
	snprintf(sockpath, sizeof(sockpath), "%s/mobkit.ini", dir);
	unlink(sockpath);
	rmdir(dir);
	free(d);
	free(r);
	free(c);
	free(rb.buf);
	return 0;
}
