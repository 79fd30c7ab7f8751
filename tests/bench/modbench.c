/*
 * modbench BINDIR TESTBINDIR: the modules' figures, each beside a baseline
 * in the same run.
 *
 *  - webhook deliveries per second through mobkitd (deliver = resolve by
 *    mobkit-router + POST by mobkit-delivery) to a loopback keep-alive HTTP
 *    server, beside plain libcurl multi POSTing the same requests to it
 *    with the same number in flight;
 *  - resolve calls per second;
 *  - wake-ups of an idle mobkit-scheduler (and mobkitd) with 1000 schedules
 *    none of which is due: the goal is none.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "frame.h"
#include "mpack.h"
#include "proto.h"
#include "benchlib.h"
#include "timeutil.h"

#define INFLIGHT	32

static const char *bindir;
static char dir[64], sockpath[128];
static int http_port;

/* --- baseline: plain libcurl multi ------------------------------------- */

static CURL *
mk_easy(const char *url, struct curl_slist *h)
{
	CURL *e = curl_easy_init();

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, "{\"n\":1}");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	return e;
}

static double
curl_baseline(int total)
{
	CURLM *m = curl_multi_init();
	struct curl_slist *h = NULL;
	char url[128];
	int sent = 0, done = 0, running, left;
	uint64_t t0 = mono_us();
	CURLMsg *msg;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", http_port);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Idempotency-Key: k");
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)INFLIGHT);
	for (; sent < INFLIGHT && sent < total; sent++)
		curl_multi_add_handle(m, mk_easy(url, h));
	while (done < total) {
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_multi_remove_handle(m, msg->easy_handle);
			curl_easy_cleanup(msg->easy_handle);
			done++;
			if (sent < total) {
				curl_multi_add_handle(m, mk_easy(url, h));
				sent++;
			}
		}
		curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(h);
	return (double)total / ((double)(mono_us() - t0) / 1e6);
}

/* --- through mobkitd ----------------------------------------------------- */

/* Read one reply frame; 1 if ok. */
static int
reply(int fd)
{
	static char buf[1 << 20];
	char hdr[FRAME_HDR];
	size_t got = 0, n;
	msgpack_unpacked u;
	const char *err;
	int ok = 0;

	while (got < FRAME_HDR)
		got += (size_t)read(fd, hdr + got, FRAME_HDR - got);
	n = (size_t)(unsigned char)hdr[0] << 24 |
	    (size_t)(unsigned char)hdr[1] << 16 |
	    (size_t)(unsigned char)hdr[2] << 8 | (unsigned char)hdr[3];
	for (got = 0; got < n;)
		got += (size_t)read(fd, buf + got, n - got);
	msgpack_unpacked_init(&u);
	if (frame_decode(buf, n, &u, &err) == 0)
		(void)mp_get_bool(&u.data, "ok", &ok);
	msgpack_unpacked_destroy(&u);
	return ok;
}

/* total calls of a verb, INFLIGHT connections with one in flight each. */
static double
ctl_load(int total, const char *verb, int argc, const char **argv,
    int *failures)
{
	int fds[INFLIGHT], busy[INFLIGHT], i, sent = 0, done = 0;
	struct pollfd p[INFLIGHT];
	uint64_t t0;

	*failures = 0;
	for (i = 0; i < INFLIGHT; i++) {
		fds[i] = ctl_connect(sockpath);
		busy[i] = 0;
	}
	t0 = mono_us();
	while (done < total) {
		for (i = 0; i < INFLIGHT && sent < total; i++)
			if (!busy[i]) {
				ctl_request(fds[i], verb, argc, argv);
				busy[i] = 1;
				sent++;
			}
		for (i = 0; i < INFLIGHT; i++) {
			p[i].fd = fds[i];
			p[i].events = POLLIN;
		}
		if (poll(p, INFLIGHT, 1000) <= 0)
			continue;
		for (i = 0; i < INFLIGHT; i++)
			if (p[i].revents & POLLIN) {
				if (!reply(fds[i]))
					(*failures)++;
				busy[i] = 0;
				done++;
			}
	}
	for (i = 0; i < INFLIGHT; i++)
		close(fds[i]);
	return (double)total / ((double)(mono_us() - t0) / 1e6);
}

static pid_t
start_mobkitd(const char *extra)
{
	char cfg[160], exe[512];
	FILE *fp;
	pid_t pid;

	snprintf(cfg, sizeof(cfg), "%s/mod.ini", dir);
	fp = fopen(cfg, "w");
	fprintf(fp, "[mobkitd]\ncontrol_socket = %s\nlog_level = error\n"
	    "[module router]\ncommand = mobkit-router\n"
	    "[module delivery]\ncommand = mobkit-delivery\n"
	    "[route hook]\nrecipient = hook\nchannel = *\nsink = webhook\n"
	    "target = http://127.0.0.1:%d/hook\n"
	    "rate_limit_per_minute = 1000000\n%s", sockpath, http_port,
	    extra ? extra : "");
	fclose(fp);
	snprintf(exe, sizeof(exe), "%s/mobkitd", bindir);
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl(exe, exe, "-c", cfg, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void
stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}

static long
switches(pid_t pid)
{
	char path[64], line[256];
	FILE *fp;
	long v = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "ctxt_switches:") != NULL)
			v += atol(strchr(line, ':') + 1);
	fclose(fp);
	return v;
}

static pid_t
child_named(pid_t parent, const char *name)
{
	char cmd[128], line[32];
	FILE *fp;
	pid_t pid = -1;

	snprintf(cmd, sizeof(cmd), "pgrep -P %d -x %s", (int)parent, name);
	if ((fp = popen(cmd, "r")) != NULL) {
		if (fgets(line, sizeof(line), fp) != NULL)
			pid = atoi(line);
		pclose(fp);
	}
	return pid;
}

int
main(int argc, char *argv[])
{
	int total = 20000, fails, i;
	double base, dl, rs;
	pid_t http, sup, sch;
	long s0, s1, m0, m1;
	const char *dargs[] = { "hook", "--payload", "{\"n\":1}" };
	const char *rargs[] = { "someone@example.com", "--channel", "mail" };
	char *extra;
	size_t len = 0;
	FILE *fp;

	if (argc < 3) {
		fprintf(stderr, "usage: modbench BINDIR TESTBINDIR [N]\n");
		return 2;
	}
	bindir = argv[1];
	if (argc > 3)
		total = atoi(argv[3]);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(dir, sizeof(dir), "/tmp/mobkit-modbench.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sockpath, sizeof(sockpath), "%s/ctl.sock", dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	http = http_serve("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	    &http_port);
	printf("module benchmarks: %d requests per run, %d in flight\n\n",
	    total, INFLIGHT);

	base = curl_baseline(total);
	sup = start_mobkitd(NULL);
	(void)ctl_connect(sockpath);
	sleep(1);
	dl = ctl_load(total, "deliver", 3, dargs, &fails);
	printf("webhook deliveries to a loopback keep-alive server:\n"
	    "  plain libcurl multi %.0f/s; mobkitd deliver (resolve + send) "
	    "%.0f/s = %.2fx (goal 0.7x)%s\n", base, dl, dl / base,
	    fails ? " (some failed!)" : "");
	rs = ctl_load(total, "resolve", 3, rargs, &fails);
	printf("resolve calls: %.0f/s through mobkitd and mobkit-router%s\n\n",
	    rs, fails ? " (some failed!)" : "");
	stop(sup);

	fp = open_memstream(&extra, &len);
	/* the liveness pings (watchdog_ms, every 5 s by default) are off:
	 * this measures what the schedules themselves cost when idle */
	fprintf(fp, "[module scheduler]\ncommand = mobkit-scheduler\n"
	    "watchdog_ms = 0\n[profile p]\nprovider = echo\n"
	    "watchdog_ms = 0\n[member m]\nprofile = p\n");
	for (i = 0; i < 1000; i++)
		fprintf(fp, "[schedule s%d]\ncron = %d %d 1 1 *\n"
		    "timezone = Europe/Berlin\nmember = m\nmessage = x\n", i,
		    i % 60, i % 24);
	fclose(fp);
	sup = start_mobkitd(extra);
	free(extra);
	(void)ctl_connect(sockpath);
	sleep(2);
	sch = child_named(sup, "mobkit-schedul");
	s0 = switches(sch);
	m0 = switches(sup);
	sleep(10);
	s1 = switches(sch);
	m1 = switches(sup);
	printf("idle with 1000 cron schedules, none due, 10 s: "
	    "mobkit-scheduler %ld and mobkitd %ld context switches "
	    "(goal 0: wake only at due times; watchdog pings off)\n",
	    s1 - s0, m1 - m0);
	stop(sup);
	kill(http, SIGKILL);
	waitpid(http, NULL, 0);
	return 0;
}
