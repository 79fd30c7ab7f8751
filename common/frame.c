/* frame.c: frame codec and per-peer buffered, non-blocking I/O. */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "mpack.h"
#include "timeutil.h"

/* Look at the front of a buffer for one complete frame. */
int
frame_next(const char *buf, size_t len, size_t max, size_t *plen)
{
	const unsigned char *p = (const unsigned char *)buf;
	uint32_t n;

	if (len < FRAME_HDR)
		return 0;
	n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	if (n > max)
		return -1;
	*plen = n;
	return len - FRAME_HDR >= n ? 1 : 0;
}

void
frame_header(char hdr[FRAME_HDR], uint32_t len)
{
	hdr[0] = (char)(len >> 24);
	hdr[1] = (char)(len >> 16);
	hdr[2] = (char)(len >> 8);
	hdr[3] = (char)len;
}

static void	peer_read_cb(struct ev_loop *, ev_io *, int);
static void	peer_write_cb(struct ev_loop *, ev_io *, int);

/* Wrap a connected non-blocking socket. */
struct peer *
peer_new(struct ev_loop *loop, int fd, size_t max_frame, size_t hwm,
    peer_msg_cb on_msg, peer_gone_cb on_gone, void *arg)
{
	struct peer *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->loop = loop;
	p->fd = fd;
	p->max_frame = max_frame;
	p->hwm = hwm;
	p->on_msg = on_msg;
	p->on_gone = on_gone;
	p->arg = arg;
	ev_io_init(&p->rio, peer_read_cb, fd, EV_READ);
	ev_io_init(&p->wio, peer_write_cb, fd, EV_WRITE);
	p->rio.data = p->wio.data = p;
	ev_io_start(loop, &p->rio);
	p->reading = 1;
	return p;
}

/* Stop watching, close the socket, free the buffers. */
void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	ev_io_stop(p->loop, &p->rio);
	ev_io_stop(p->loop, &p->wio);
	close(p->fd);
	free(p->rbuf);
	free(p->wbuf);
	free(p);
}

/* Stop or resume reading (backpressure from the owner). */
void
peer_pause(struct peer *p, int paused)
{
	if (p->dead)
		return;
	if (paused && p->reading) {
		ev_io_stop(p->loop, &p->rio);
		p->reading = 0;
	} else if (!paused && !p->reading) {
		ev_io_start(p->loop, &p->rio);
		p->reading = 1;
	}
}

/* Mark the peer dead and tell the owner, once. */
static void
peer_die(struct peer *p, const char *why)
{
	if (p->dead)
		return;
	p->dead = 1;
	snprintf(p->why, sizeof(p->why), "%s", why);
	ev_io_stop(p->loop, &p->rio);
	ev_io_stop(p->loop, &p->wio);
	p->on_gone(p, p->why, p->arg);
}

/* Dispatch every complete frame in the read buffer. */
static void
peer_parse(struct peer *p)
{
	size_t off = 0, n;
	msgpack_unpacked u;
	const char *err;
	int r;

	while (!p->dead) {
		r = frame_next(p->rbuf + off, p->rlen - off, p->max_frame, &n);
		if (r == 0)
			break;
		if (r == -1) {
			peer_die(p, "frame larger than the limit");
			return;
		}
		msgpack_unpacked_init(&u);
		if (frame_decode(p->rbuf + off + FRAME_HDR, n, &u, &err) == -1) {
			msgpack_unpacked_destroy(&u);
			peer_die(p, err);
			return;
		}
		off += FRAME_HDR + n;
		r = p->on_msg(p, &u.data, p->arg);
		msgpack_unpacked_destroy(&u);
		if (r == -1)
			return;		/* freed by the callback */
	}
	if (off > 0 && !p->dead) {
		memmove(p->rbuf, p->rbuf + off, p->rlen - off);
		p->rlen -= off;
	}
}

static void
peer_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct peer *p = w->data;
	size_t want, n;
	ssize_t r;
	char *nb;

	(void)loop;
	(void)revents;
	/* Grow towards the frame being read, never past max_frame + header. */
	want = 65536;
	if (frame_next(p->rbuf, p->rlen, p->max_frame, &n) == 0 &&
	    p->rlen >= FRAME_HDR && FRAME_HDR + n > want)
		want = FRAME_HDR + n;
	if (p->rcap - p->rlen < 4096 || p->rcap < want) {
		size_t cap = p->rcap ? p->rcap : 65536;

		while (cap < want || cap - p->rlen < 4096)
			cap *= 2;
		if ((nb = realloc(p->rbuf, cap)) == NULL) {
			peer_die(p, "out of memory");
			return;
		}
		p->rbuf = nb;
		p->rcap = cap;
	}
	r = read(p->fd, p->rbuf + p->rlen, p->rcap - p->rlen);
	if (r == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		peer_die(p, strerror(errno));
		return;
	}
	if (r == 0) {
		peer_die(p, p->rlen ? "closed in the middle of a frame" :
		    "closed");
		return;
	}
	p->rlen += (size_t)r;
	if (frame_next(p->rbuf, p->rlen, p->max_frame, &n) == -1) {
		peer_die(p, "frame larger than the limit");
		return;
	}
	peer_parse(p);
}

/* Write what is queued; 0 when drained or would block, -1 on error. */
static int
peer_drain(struct peer *p)
{
	ssize_t r;

	while (p->woff < p->wlen) {
		r = send(p->fd, p->wbuf + p->woff, p->wlen - p->woff,
		    MSG_NOSIGNAL);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -1;
		}
		p->woff += (size_t)r;
	}
	p->woff = p->wlen = 0;
	return 0;
}

static void
peer_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct peer *p = w->data;

	(void)revents;
	if (peer_drain(p) == -1) {
		peer_die(p, strerror(errno));
		return;
	}
	if (p->wlen == 0)
		ev_io_stop(loop, &p->wio);
}

size_t
peer_queued(const struct peer *p)
{
	return p->wlen - p->woff;
}

/* Queue one frame; -1 (nothing queued) when over the high-water mark. */
int
peer_send(struct peer *p, const char *payload, size_t len)
{
	char hdr[FRAME_HDR];
	size_t need;
	char *nb;

	if (p->dead || len > p->max_frame)
		return -1;
	if (peer_queued(p) > 0 && peer_queued(p) + len > p->hwm)
		return -1;
	if (p->woff > 0 && p->woff == p->wlen)
		p->woff = p->wlen = 0;
	if (p->woff > 0 && p->woff > p->wcap / 2) {
		memmove(p->wbuf, p->wbuf + p->woff, p->wlen - p->woff);
		p->wlen -= p->woff;
		p->woff = 0;
	}
	need = p->wlen + FRAME_HDR + len;
	if (need > p->wcap) {
		size_t cap = p->wcap ? p->wcap : 4096;

		while (cap < need)
			cap *= 2;
		if ((nb = realloc(p->wbuf, cap)) == NULL)
			return -1;
		p->wbuf = nb;
		p->wcap = cap;
	}
	frame_header(hdr, (uint32_t)len);
	memcpy(p->wbuf + p->wlen, hdr, FRAME_HDR);
	memcpy(p->wbuf + p->wlen + FRAME_HDR, payload, len);
	p->wlen += FRAME_HDR + len;
	/* Try now; errors surface through the write watcher. */
	if (peer_drain(p) == -1 || p->wlen > 0)
		ev_io_start(p->loop, &p->wio);
	return 0;
}

int
peer_send_sbuf(struct peer *p, const msgpack_sbuffer *sb)
{
	return peer_send(p, sb->data, sb->size);
}

/* Block until the queue is written or timeout_ms passes (for exit paths). */
int
peer_flush(struct peer *p, int timeout_ms)
{
	uint64_t end = mono_ms() + (uint64_t)timeout_ms;
	struct pollfd pfd;

	while (peer_queued(p) > 0) {
		uint64_t now = mono_ms();

		if (now >= end)
			return -1;
		if (peer_drain(p) == -1)
			return -1;
		if (peer_queued(p) == 0)
			break;
		pfd.fd = p->fd;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, (int)(end - now));
	}
	return 0;
}
