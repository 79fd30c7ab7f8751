/* benchlib.c: percentiles, a control-socket client, /proc fields. */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "benchlib.h"
#include "ctlverbs.h"
#include "frame.h"
#include "mpack.h"
#include "proto.h"

#define CTL_WORDS	32

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t
pct(uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

int
ctl_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, i;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%.100s", path);
	for (i = 0; i < 400; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
		close(fd);
		usleep(25000);
	}
	fprintf(stderr, "bench: cannot connect to %s\n", path);
	exit(1);
}

/* The words after the verb, parsed as mobkitctl parses them, then sent. */
int
ctl_send_request(int fd, const char *verb, int argc, const char **argv)
{
	const struct ctl_verb *v;
	union ctl_args a;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char hdr[FRAME_HDR], *words[CTL_WORDS + 1], err[256];
	int i, r = 0, usage;

	if ((v = ctl_verb_find(verb)) == NULL || argc >= CTL_WORDS) {
		fprintf(stderr, "bench: no verb %s, or too many words\n", verb);
		exit(1);
	}
	words[0] = (char *)(uintptr_t)verb;
	for (i = 0; i < argc; i++)
		words[i + 1] = (char *)(uintptr_t)argv[i];
	if (ctl_args_parse(v, argc + 1, words, &a, err, sizeof(err),
	    &usage) == -1) {
		fprintf(stderr, "bench: %s\n", err);
		exit(1);
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	ctl_request_pack(v, &a, &pk);
	ctl_args_free(v, &a);
	frame_header(hdr, (uint32_t)sb.size);
	if (write(fd, hdr, FRAME_HDR) != FRAME_HDR ||
	    write(fd, sb.data, sb.size) != (ssize_t)sb.size)
		r = -1;
	msgpack_sbuffer_destroy(&sb);
	return r;
}

void
ctl_request(int fd, const char *verb, int argc, const char **argv)
{
	if (ctl_send_request(fd, verb, argc, argv) == -1) {
		perror("bench: write");
		exit(1);
	}
}

int
ctl_pump(int fd, struct rbuf *r, void (*fn)(void *, const msgpack_object *),
    void *arg)
{
	size_t n;
	ssize_t got;

	if (r->cap - r->len < 65536) {
		r->cap = r->cap ? r->cap * 2 : 262144;
		if ((r->buf = realloc(r->buf, r->cap)) == NULL)
			exit(1);
	}
	if ((got = read(fd, r->buf + r->len, r->cap - r->len)) <= 0)
		return got == -1 && errno == EAGAIN ? 0 : -1;
	r->len += (size_t)got;
	while (frame_next(r->buf, r->len, 64 << 20, &n) == 1) {
		msgpack_unpacked u;
		const char *err;

		msgpack_unpacked_init(&u);
		if (frame_decode(r->buf + FRAME_HDR, n, &u, &err) == 0)
			fn(arg, &u.data);
		msgpack_unpacked_destroy(&u);
		memmove(r->buf, r->buf + FRAME_HDR + n, r->len - FRAME_HDR - n);
		r->len -= FRAME_HDR + n;
	}
	return 0;
}

long
proc_field(pid_t pid, const char *file, const char *field)
{
	char path[64], line[256];
	FILE *fp;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			v = atol(line + strlen(field) + 1);
	fclose(fp);
	return v;
}

/* --- a keep-alive HTTP server that answers resp to everything ---------- */

static void
serve(int lfd, const char *resp)
{
	struct pollfd p[256];
	char bufs[256][8192];
	size_t lens[256];
	int n = 1, i;

	p[0].fd = lfd;
	p[0].events = POLLIN;
	for (;;) {
		if (poll(p, (nfds_t)n, -1) <= 0)
			continue;
		if ((p[0].revents & POLLIN) && n < 256) {
			int fd = accept(lfd, NULL, NULL);

			if (fd >= 0) {
				p[n].fd = fd;
				p[n].events = POLLIN;
				lens[n] = 0;
				n++;
			}
		}
		for (i = 1; i < n; i++) {
			ssize_t r;
			char *end;

			if (!(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			r = read(p[i].fd, bufs[i] + lens[i],
			    sizeof(bufs[i]) - lens[i] - 1);
			if (r <= 0) {
				close(p[i].fd);
				p[i] = p[n - 1];
				memcpy(bufs[i], bufs[n - 1], lens[n - 1]);
				lens[i] = lens[n - 1];
				n--;
				i--;
				continue;
			}
			lens[i] += (size_t)r;
			bufs[i][lens[i]] = '\0';
			/* answer each complete request (headers + body) */
			while ((end = strstr(bufs[i], "\r\n\r\n")) != NULL) {
				char *cl = strcasestr(bufs[i], "Content-Length:");
				size_t hl = (size_t)(end + 4 - bufs[i]);
				size_t bl = cl && cl < end ? (size_t)atol(cl + 15) :
				    0;
				if (lens[i] < hl + bl)
					break;
				(void)!write(p[i].fd, resp, strlen(resp));
				memmove(bufs[i], bufs[i] + hl + bl,
				    lens[i] - hl - bl);
				lens[i] -= hl + bl;
				bufs[i][lens[i]] = '\0';
			}
		}
	}
}

/* Serve resp on a free loopback port (*port), in a child process. */
pid_t
http_serve(const char *resp, int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	pid_t pid;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	listen(fd, 256);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) == 0) {
		serve(fd, resp);
		_exit(0);
	}
	close(fd);
	return pid;
}
