/*
 * turnbench BINDIR [TURNS]: the turn overhead of mobkit-worker.
 *
 * A loopback keep-alive HTTP server answers every request with the same
 * short OpenAI-style event stream.  The baseline is plain libcurl POSTing
 * a chat request to it and reading the stream, one at a time; then one
 * mobkit-worker (provider openai, on its fd 3 a socketpair held by this
 * harness, which plays mobkitd) runs TURNS turns against the same server:
 * RUN sent to RUN_DONE read.  The overhead is the worker's median minus the
 * baseline's (goal: under 1 ms).  Its conversation grows by two messages
 * a turn, as a member's does; the bench sends RESET every 100 turns so that
 * the figure is per turn, not per history length.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "benchlib.h"
#include "frame.h"
#include "msgtab.h"
#include "proto.h"
#include "timeutil.h"

static const char stream[] =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":\"ok\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
    "\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,"
    "\"total_tokens\":6}}\n\n"
    "data: [DONE]\n\n";

static const char body[] = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
    "\"content\":\"hello\"}],\"stream\":true}";

static size_t
sink(char *p, size_t sz, size_t n, void *arg)
{
	(void)p;
	*(size_t *)arg += sz * n;
	return sz * n;
}

/* Plain libcurl, one request at a time on one connection: microseconds. */
static void
baseline(const char *url, uint64_t *us, int n)
{
	struct curl_slist *h = NULL;
	CURL *e = curl_easy_init();
	size_t got;
	int i;

	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: text/event-stream");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &got);
	for (i = 0; i < n; i++) {
		uint64_t t0 = mono_us();

		got = 0;
		if (curl_easy_perform(e) != CURLE_OK || got != sizeof(stream) - 1) {
			fprintf(stderr, "turnbench: baseline request failed\n");
			exit(1);
		}
		us[i] = mono_us() - t0;
	}
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
}

/* Send one message built by w; exits on failure. */
static void
put(int fd, struct msgw *w)
{
	if (msgw_end(w) == -1 || frame_write(fd, msgw_data(w), msgw_len(w),
	    frame_chunk_size(FRAME_MAX)) == -1) {
		fprintf(stderr, "turnbench: write to the worker: %s\n",
		    strerror(errno));
		exit(1);
	}
	msgw_free(w);
}

/* Read messages until one of type want; its status (RUN_DONE) checked. */
static void
await(int fd, int want)
{
	static char *buf;
	static size_t cap;
	msgpack_unpacked u;
	struct msg_view v;
	char err[256], st[16] = "?";
	ssize_t n;
	int done = 0;

	while (!done) {
		if ((n = frame_read(fd, &buf, &cap, frame_chunk_size(FRAME_MAX),
		    FRAME_MSG_MAX)) <= 0) {
			fprintf(stderr, "turnbench: the worker is gone\n");
			exit(1);
		}
		msgpack_unpacked_init(&u);
		if (msgpack_unpack_next(&u, buf, (size_t)n, NULL) <= 0 ||
		    msg_read(&u.data, &v, err, sizeof(err)) == -1) {
			fprintf(stderr, "turnbench: bad message: %s\n", err);
			exit(1);
		}
		if (v.type == want) {
			done = 1;
			if (want == MSG_RUN_DONE && (msgv_copy(&v, K_STATUS,
			    st, sizeof(st)) == -1 || strcmp(st, "completed"))) {
				msgv_copy(&v, K_ERROR, err, sizeof(err));
				fprintf(stderr, "turnbench: turn %s: %s\n", st,
				    err);
				exit(1);
			}
		}
		msgpack_unpacked_destroy(&u);
	}
}

/* Start mobkit-worker on a socketpair; our end. */
static int
start_worker(const char *bindir, pid_t *pid)
{
	char path[512];
	int sv[2];

	snprintf(path, sizeof(path), "%s/mobkit-worker", bindir);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		exit(1);
	if ((*pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* its log (a line per RESET) is not the bench's output */
		if (dup2(sv[1], MOBKIT_FD) == -1 || null == -1 ||
		    dup2(null, 2) == -1)
			_exit(127);
		setenv("MOBKIT_FD", "3", 1);
		setenv("MOBKIT_NAME", "bench", 1);
		execl(path, "mobkit-worker", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	return sv[0];
}

/* The worker: CONFIG, then n turns, each RUN to RUN_DONE: microseconds. */
static void
worker_turns(const char *bindir, const char *base, uint64_t *us, int n)
{
	struct msgw w;
	char id[32];
	pid_t pid;
	int fd = start_worker(bindir, &pid), i;

	await(fd, MSG_HELLO);
	msgw_begin(&w, MSG_CONFIG);
	msgw_str(&w, K_ID, "bench");
	msgw_str(&w, K_MOB, "bench");
	msgw_str(&w, K_PROVIDER, "openai");
	msgw_str(&w, K_MODEL, "m");
	msgw_str(&w, K_BASE_URL, base);
	msgw_bool(&w, K_COMMS, 0);
	put(fd, &w);
	await(fd, MSG_READY);
	for (i = 0; i < n; i++) {
		uint64_t t0 = mono_us();

		snprintf(id, sizeof(id), "in-%d", i);
		msgw_begin(&w, MSG_RUN);
		msgw_str(&w, K_INPUT_ID, id);
		msgw_str(&w, K_TEXT, "hello");
		msgw_int(&w, K_ATTEMPT, 1);
		put(fd, &w);
		await(fd, MSG_RUN_DONE);
		us[i] = mono_us() - t0;
		if (i % 100 == 99) {
			msgw_begin(&w, MSG_RESET);
			put(fd, &w);
		}
	}
	close(fd);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

int
main(int argc, char *argv[])
{
	char resp[1024], url[256], base[128];
	uint64_t *b, *t, bm, tm;
	int n, port;
	pid_t http;

	if (argc < 2) {
		fprintf(stderr, "usage: turnbench BINDIR [TURNS]\n");
		return 2;
	}
	n = argc > 2 ? atoi(argv[2]) : 2000;
	if (n < 10)
		n = 10;
	signal(SIGPIPE, SIG_IGN);
	snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Type: "
	    "text/event-stream\r\nContent-Length: %zu\r\n\r\n%s",
	    sizeof(stream) - 1, stream);
	http = http_serve(resp, &port);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1", port);
	snprintf(url, sizeof(url), "%s/chat/completions", base);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((b = calloc((size_t)n, sizeof(*b))) == NULL ||
	    (t = calloc((size_t)n, sizeof(*t))) == NULL)
		return 1;
	baseline(url, b, n);
	worker_turns(argv[1], base, t, n);
	kill(http, SIGTERM);
	waitpid(http, NULL, 0);
	printf("turn overhead of mobkit-worker (openai provider, %d turns on "
	    "a loopback keep-alive server)\n", n);
	printf("  bare libcurl request:     p50 %6.3f ms  p99 %6.3f ms\n",
	    pct(b, (size_t)n, 0.5) / 1e3, pct(b, (size_t)n, 0.99) / 1e3);
	printf("  worker RUN -> RUN_DONE:   p50 %6.3f ms  p99 %6.3f ms\n",
	    pct(t, (size_t)n, 0.5) / 1e3, pct(t, (size_t)n, 0.99) / 1e3);
	bm = pct(b, (size_t)n, 0.5);
	tm = pct(t, (size_t)n, 0.5);
	printf("  overhead p50:             %6.3f ms (goal < 1 ms), %.2fx "
	    "the bare request\n", tm > bm ? (tm - bm) / 1e3 : 0.0,
	    bm ? (double)tm / (double)bm : 0.0);
	free(b);
	free(t);
	return 0;
}
