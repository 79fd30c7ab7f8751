/*
 * frame.h: length-prefixed msgpack frames and the peer that carries them
 * over a non-blocking Unix socket on a libev loop.
 *
 * A frame is a 4-byte big-endian length word and that many payload bytes.
 * A message no larger than the frame limit is one frame.  A larger one is
 * cut into chunks of at most the frame limit, every chunk but the last
 * with FRAME_MORE set in its length word; the receiver joins them, up to a
 * bound of its own on the whole message (FRAME_MSG_MAX by default).  Size
 * is checked from each length word before anything is buffered.
 */
#ifndef MOBKIT_FRAME_H
#define MOBKIT_FRAME_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <ev.h>
#include <msgpack.h>

#define FRAME_HDR	4
#define FRAME_MORE	0x80000000u	/* length word: more chunks follow */
#define FRAME_MSG_MAX	((size_t)256 * 1024 * 1024) /* a joined message */

/* 1: a whole frame of *plen payload bytes at buf+4; 0: need more; -1: too big */
int	frame_next(const char *buf, size_t len, size_t max, size_t *plen);
/* The same for a chunk: *more is set when FRAME_MORE is. */
int	frame_chunk(const char *buf, size_t len, size_t max, size_t *plen,
	    int *more);
void	frame_header(char hdr[FRAME_HDR], uint32_t len);
size_t	frame_chunk_size(size_t max_frame);
/* Blocking I/O of whole messages (mobkitctl, tests); errno says why. */
int	frame_write(int fd, const char *msg, size_t len, size_t chunk);
ssize_t	frame_read(int fd, char **buf, size_t *cap, size_t chunk,
	    size_t max_msg);

struct peer;
/* A complete message; return -1 if the callback freed the peer. */
typedef int (*peer_msg_cb)(struct peer *, const msgpack_object *, void *);
/* The peer is gone (EOF, error, bad frame); the owner calls peer_free. */
typedef void (*peer_gone_cb)(struct peer *, const char *why, void *);
/* The write queue went down to the low-water mark (must not free). */
typedef void (*peer_drain_cb)(struct peer *, void *);

struct peer {
	struct ev_loop	*loop;
	int		 fd;
	ev_io		 rio;
	ev_io		 wio;
	char		*rbuf;
	size_t		 rlen, rcap;
	char		*mbuf;		/* the chunks of a message so far */
	size_t		 mlen, mcap;
	char		*wbuf;
	size_t		 wlen, woff, wcap;
	size_t		 max_frame;
	size_t		 max_msg;
	size_t		 hwm;
	int		 dead;
	int		 reading;
	peer_msg_cb	 on_msg;
	peer_gone_cb	 on_gone;
	peer_drain_cb	 on_drain;
	size_t		 lowat;
	void		*arg;
	char		 why[128];
	struct peer	*flush_next;	/* in the list to flush */
	int		 flush_queued;
};

#define PEER_FORCE	0x1	/* queue even over the high-water mark */

struct peer	*peer_new(struct ev_loop *, int fd, size_t max_frame,
		    size_t hwm, peer_msg_cb, peer_gone_cb, void *arg);
void		 peer_free(struct peer *);
int		 peer_send(struct peer *, const char *payload, size_t len);
int		 peer_send_flags(struct peer *, const char *payload,
		    size_t len, int flags);
int		 peer_send_sbuf(struct peer *, const msgpack_sbuffer *);
size_t		 peer_queued(const struct peer *);
int		 peer_flush(struct peer *, int timeout_ms);
void		 peer_pause(struct peer *, int paused);
void		 peer_set_max_msg(struct peer *, size_t);
void		 peer_set_drain(struct peer *, peer_drain_cb, size_t lowat);

#endif
