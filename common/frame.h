/*
 * frame.h: length-prefixed msgpack frames and the peer that carries them
 * over a non-blocking Unix socket on a libev loop.
 */
#ifndef MOBKIT_FRAME_H
#define MOBKIT_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <ev.h>
#include <msgpack.h>

#define FRAME_HDR	4

/* 1: a whole frame of *plen payload bytes at buf+4; 0: need more; -1: too big */
int	frame_next(const char *buf, size_t len, size_t max, size_t *plen);
void	frame_header(char hdr[FRAME_HDR], uint32_t len);

struct peer;
/* A complete message; return -1 if the callback freed the peer. */
typedef int (*peer_msg_cb)(struct peer *, const msgpack_object *, void *);
/* The peer is gone (EOF, error, bad frame); the owner calls peer_free. */
typedef void (*peer_gone_cb)(struct peer *, const char *why, void *);

struct peer {
	struct ev_loop	*loop;
	int		 fd;
	ev_io		 rio;
	ev_io		 wio;
	char		*rbuf;
	size_t		 rlen, rcap;
	char		*wbuf;
	size_t		 wlen, woff, wcap;
	size_t		 max_frame;
	size_t		 hwm;
	int		 dead;
	int		 reading;
	peer_msg_cb	 on_msg;
	peer_gone_cb	 on_gone;
	void		*arg;
	char		 why[128];
	struct peer	*flush_next;	/* in the list to flush */
	int		 flush_queued;
};

struct peer	*peer_new(struct ev_loop *, int fd, size_t max_frame,
		    size_t hwm, peer_msg_cb, peer_gone_cb, void *arg);
void		 peer_free(struct peer *);
int		 peer_send(struct peer *, const char *payload, size_t len);
int		 peer_send_sbuf(struct peer *, const msgpack_sbuffer *);
size_t		 peer_queued(const struct peer *);
int		 peer_flush(struct peer *, int timeout_ms);
void		 peer_pause(struct peer *, int paused);

#endif
