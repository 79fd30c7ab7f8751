/*
 * peer.c: a peer over libev: buffered, non-blocking frame I/O on one
 * connected socket, writes coalesced once per loop iteration (the frame
 * codec is frame.c).
 */
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
	p->max_msg = max_frame > FRAME_MSG_MAX ? max_frame : FRAME_MSG_MAX;
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

/* The bound on a whole message, each way (at least one frame). */
void
peer_set_max_msg(struct peer *p, size_t max)
{
	p->max_msg = max > p->max_frame ? max : p->max_frame;
}

/* Be told when the write queue is down to lowat bytes, after a write. */
void
peer_set_drain(struct peer *p, peer_drain_cb cb, size_t lowat)
{
	p->on_drain = cb;
	p->lowat = lowat;
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
	free(p->mbuf);
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

/* Decode one message and hand it over; -1 when the peer died or was freed. */
static int
peer_dispatch(struct peer *p, const char *msg, size_t len)
{
	msgpack_unpacked u;
	const char *err;
	int r;

	msgpack_unpacked_init(&u);
	if (frame_decode(msg, len, &u, &err) == -1) {
		msgpack_unpacked_destroy(&u);
		peer_die(p, err);
		return -1;
	}
	r = p->on_msg(p, &u.data, p->arg);
	msgpack_unpacked_destroy(&u);
	return r;
}

/* Add a chunk to the message being joined; -1 past the bound (peer dies). */
static int
peer_collect(struct peer *p, const char *chunk, size_t n)
{
	size_t need = p->mlen + n, cap;
	char why[128], *nb;

	if (n > p->max_msg || p->mlen > p->max_msg - n) {
		snprintf(why, sizeof(why), "a message of more than %zu bytes "
		    "(the limit is %zu)", need, p->max_msg);
		peer_die(p, why);
		return -1;
	}
	if (need > p->mcap) {
		cap = p->mcap ? p->mcap : 65536;
		while (cap < need)
			cap *= 2;
		if (cap > p->max_msg)
			cap = p->max_msg;
		if ((nb = realloc(p->mbuf, cap)) == NULL) {
			peer_die(p, "out of memory");
			return -1;
		}
		p->mbuf = nb;
		p->mcap = cap;
	}
	if (n > 0)		/* an empty chunk: mbuf may still be NULL */
		memcpy(p->mbuf + p->mlen, chunk, n);
	p->mlen = need;
	return 0;
}

/* The joined message is complete: hand it over and start afresh. */
static int
peer_joined(struct peer *p)
{
	char *msg = p->mbuf;
	size_t len = p->mlen;
	int r;

	p->mbuf = NULL;
	p->mlen = p->mcap = 0;
	r = peer_dispatch(p, msg, len);
	free(msg);
	return r;
}

/*
 * Dispatch every complete message in buf[0..len); return how many bytes
 * were used, or -1 when the peer died or was freed by a callback.  A
 * single-frame message is decoded where it lies; chunks are joined first.
 */
static ssize_t
peer_parse(struct peer *p, const char *buf, size_t len)
{
	size_t off = 0, n;
	const char *chunk;
	int r, more;

	while (!p->dead) {
		r = frame_chunk(buf + off, len - off, p->max_frame, &n, &more);
		if (r == 0)
			return (ssize_t)off;
		if (r == -1) {
			peer_die(p, "frame larger than the limit");
			return -1;
		}
		chunk = buf + off + FRAME_HDR;
		off += FRAME_HDR + n;
		if (!more && p->mlen == 0) {
			if (peer_dispatch(p, chunk, n) == -1)
				return -1;
			continue;
		}
		if (peer_collect(p, chunk, n) == -1)
			return -1;
		if (!more && peer_joined(p) == -1)
			return -1;
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
	int more;

	if (len >= FRAME_HDR && frame_chunk(tail != NULL ? tail : p->rbuf,
	    len, p->max_frame, &n, &more) == 0)
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
	int more;

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
			switch (frame_chunk(p->rbuf, p->rlen, p->max_frame, &n,
			    &more)) {
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
		peer_die(p, p->rlen || p->mlen ?
		    "closed in the middle of a frame" : "closed");
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

/* After a write: tell the owner when the queue is low enough. */
static void
peer_drained(struct peer *p)
{
	if (p->on_drain != NULL && !p->dead && peer_queued(p) <= p->lowat)
		p->on_drain(p, p->arg);
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
	peer_drained(p);
}

size_t
peer_queued(const struct peer *p)
{
	return p->wlen - p->woff;
}

/* Make room for need more bytes at the end of the write queue. */
static int
peer_wroom(struct peer *p, size_t need)
{
	size_t cap;
	char *nb;

	if (p->woff > 0 && p->woff == p->wlen)
		p->woff = p->wlen = 0;
	if (p->woff > 0 && p->woff > p->wcap / 2) {
		memmove(p->wbuf, p->wbuf + p->woff, p->wlen - p->woff);
		p->wlen -= p->woff;
		p->woff = 0;
	}
	need += p->wlen;
	if (need <= p->wcap)
		return 0;
	cap = p->wcap ? p->wcap : 4096;
	while (cap < need)
		cap *= 2;
	if ((nb = realloc(p->wbuf, cap)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	p->wbuf = nb;
	p->wcap = cap;
	return 0;
}

/*
 * Queue one message, as one frame or as chunks of at most the frame
 * limit; -1 (nothing queued) with errno EMSGSIZE over the message bound,
 * EPIPE when dead, ENOBUFS when the queue already holds the high-water
 * mark (unless PEER_FORCE).  A peer that does not read thus makes us hold
 * at most hwm plus one message, and a message is never refused for its
 * own size below the bound.
 */
int
peer_send_flags(struct peer *p, const char *payload, size_t len, int flags)
{
	size_t chunk = frame_chunk_size(p->max_frame), n, nchunks;

	if (p->dead) {
		errno = EPIPE;
		return -1;
	}
	if (len > p->max_msg) {
		errno = EMSGSIZE;
		return -1;
	}
	if (!(flags & PEER_FORCE) && peer_queued(p) >= p->hwm) {
		errno = ENOBUFS;
		return -1;
	}
	nchunks = len <= chunk ? 1 : (len + chunk - 1) / chunk;
	if (peer_wroom(p, nchunks * FRAME_HDR + len) == -1)
		return -1;
	do {
		n = len > chunk ? chunk : len;
		frame_header(p->wbuf + p->wlen, (uint32_t)n |
		    (len > n ? FRAME_MORE : 0));
		memcpy(p->wbuf + p->wlen + FRAME_HDR, payload, n);
		p->wlen += FRAME_HDR + n;
		payload += n;
		len -= n;
	} while (len > 0);
	/* written by flush_cb before the loop blocks */
	if (!p->flush_queued && !ev_is_active(&p->wio)) {
		p->flush_queued = 1;
		p->flush_next = flush_head;
		flush_head = p;
	}
	return 0;
}

/* Queue one message, within the high-water mark. */
int
peer_send(struct peer *p, const char *payload, size_t len)
{
	return peer_send_flags(p, payload, len, 0);
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
		if (peer_drain(p) == -1) {
			ev_io_start(p->loop, &p->wio);	/* errors surface there */
			continue;
		}
		if (p->wlen > 0)
			ev_io_start(p->loop, &p->wio);
		peer_drained(p);
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
