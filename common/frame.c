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
static void	flush_cb(struct ev_loop *, ev_prepare *, int);

/*
 * Writes are coalesced: peer_send only queues, and one prepare watcher
 * (lowest priority, so after everything else that runs before blocking)
 * writes every peer's queue once per loop iteration.  One process, one
 * loop: the list and the watcher are per process.
 */
static struct peer	*flush_head;
static ev_prepare	 flusher;
static struct ev_loop	*flush_loop;

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
	if (flush_loop == NULL) {
		flush_loop = loop;
		ev_prepare_init(&flusher, flush_cb);
		ev_set_priority(&flusher, EV_MINPRI);
		ev_prepare_start(loop, &flusher);
		ev_unref(loop);		/* it must not keep the loop alive */
	}
	return p;
}

static void
flush_unlink(struct peer *p)
{
	struct peer **pp;

	if (!p->flush_queued)
		return;
	for (pp = &flush_head; *pp != NULL; pp = &(*pp)->flush_next)
		if (*pp == p) {
			*pp = p->flush_next;
			break;
		}
	p->flush_queued = 0;
}

/* Stop watching, close the socket, free the buffers. */
void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	flush_unlink(p);
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

/*
 * Dispatch every complete frame in buf[0..len); return how many bytes were
 * used, or -1 when the peer died or was freed by a callback.
 */
static ssize_t
peer_parse(struct peer *p, const char *buf, size_t len)
{
	size_t off = 0, n;
	msgpack_unpacked u;
	const char *err;
	int r;

	while (!p->dead) {
		r = frame_next(buf + off, len - off, p->max_frame, &n);
		if (r == 0)
			return (ssize_t)off;
		if (r == -1) {
			peer_die(p, "frame larger than the limit");
			return -1;
		}
		msgpack_unpacked_init(&u);
		if (frame_decode(buf + off + FRAME_HDR, n, &u, &err) == -1) {
			msgpack_unpacked_destroy(&u);
			peer_die(p, err);
			return -1;
		}
		off += FRAME_HDR + n;
		r = p->on_msg(p, &u.data, p->arg);
		msgpack_unpacked_destroy(&u);
		if (r == -1)
			return -1;	/* freed by the callback */
	}
	return -1;
}

/*
 * Keep the unparsed tail in the peer's own buffer, sized to need; a NULL
 * tail is already at the front of that buffer (realloc may move it).
 */
static int
peer_keep(struct peer *p, const char *tail, size_t len)
{
	size_t need = len, n;
	char *nb;

	if (len >= FRAME_HDR && frame_next(tail != NULL ? tail : p->rbuf,
	    len, p->max_frame, &n) == 0)
		need = FRAME_HDR + n;
	if (need < 4096)
		need = 4096;
	if (p->rcap < need) {
		if ((nb = realloc(p->rbuf, need)) == NULL)
			return -1;
		p->rbuf = nb;
		p->rcap = need;
	}
	if (tail != NULL)
		memmove(p->rbuf, tail, len);
	p->rlen = len;
	return 0;
}

/*
 * Read into a shared scratch buffer when nothing is pending, so that an
 * idle peer holds no read buffer; only a partial frame is kept per peer.
 */
static void
peer_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	static char scratch[65536];
	struct peer *p = w->data;
	ssize_t r, used;
	size_t n;

	(void)loop;
	(void)revents;
	if (p->rlen == 0) {
		r = read(p->fd, scratch, sizeof(scratch));
		if (r > 0) {
			if ((used = peer_parse(p, scratch, (size_t)r)) == -1)
				return;
			if ((size_t)used < (size_t)r && peer_keep(p,
			    scratch + used, (size_t)r - (size_t)used) == -1)
				peer_die(p, "out of memory");
			return;
		}
	} else {
		r = read(p->fd, p->rbuf + p->rlen, p->rcap - p->rlen);
		if (r > 0) {
			p->rlen += (size_t)r;
			switch (frame_next(p->rbuf, p->rlen, p->max_frame, &n)) {
			case -1:	/* a header that came in pieces */
				peer_die(p, "frame larger than the limit");
				return;
			case 0:		/* still partial: make room for it all */
				if (peer_keep(p, NULL, p->rlen) == -1)
					peer_die(p, "out of memory");
				return;
			}
			if ((used = peer_parse(p, p->rbuf, p->rlen)) == -1)
				return;
			p->rlen -= (size_t)used;
			if (p->rlen == 0) {
				free(p->rbuf);
				p->rbuf = NULL;
				p->rcap = 0;
			} else {
				memmove(p->rbuf, p->rbuf + used, p->rlen);
				if (peer_keep(p, NULL, p->rlen) == -1)
					peer_die(p, "out of memory");
			}
			return;
		}
	}
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == -1)
		peer_die(p, strerror(errno));
	else
		peer_die(p, p->rlen ? "closed in the middle of a frame" :
		    "closed");
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
	if (p->wcap > 65536) {		/* give a burst's memory back */
		free(p->wbuf);
		p->wbuf = NULL;
		p->wcap = 0;
	}
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
	/* written by flush_cb before the loop blocks */
	if (!p->flush_queued && !ev_is_active(&p->wio)) {
		p->flush_queued = 1;
		p->flush_next = flush_head;
		flush_head = p;
	}
	return 0;
}

/* Write every queued peer once; what does not fit waits for EV_WRITE. */
static void
flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct peer *p;

	(void)loop;
	(void)w;
	(void)revents;
	while ((p = flush_head) != NULL) {
		flush_head = p->flush_next;
		p->flush_queued = 0;
		if (p->dead)
			continue;
		if (peer_drain(p) == -1 || p->wlen > 0)
			ev_io_start(p->loop, &p->wio);	/* errors surface there */
	}
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

	flush_unlink(p);
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
