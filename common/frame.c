/*
 * frame.c: the frame codec and blocking frame I/O (what mobkitctl needs:
 * no event loop).  The non-blocking peer over an event loop is peer.c.
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

/* Look at the front of a buffer for one complete chunk. */
int
frame_chunk(const char *buf, size_t len, size_t max, size_t *plen, int *more)
{
	const unsigned char *p = (const unsigned char *)buf;
	uint32_t n;

	if (len < FRAME_HDR)
		return 0;
	n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	*more = (n & FRAME_MORE) != 0;
	n &= ~FRAME_MORE;
	if (n > max)
		return -1;
	*plen = n;
	return len - FRAME_HDR >= n ? 1 : 0;
}

/* Look at the front of a buffer for one complete single frame. */
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

/* The largest chunk a sender with this frame limit writes. */
size_t
frame_chunk_size(size_t max_frame)
{
	if (max_frame == 0)
		return 1;
	return max_frame > ~FRAME_MORE ? ~FRAME_MORE : max_frame;
}

/* Write all of buf to a blocking fd. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes from a blocking fd; 0 at EOF before any. */
static int
read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if ((n = read(fd, buf + got, len - got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			if (got == 0)
				return 0;
			errno = ECONNRESET;
			return -1;
		}
		got += (size_t)n;
	}
	return 1;
}

/* Write one message to a blocking fd, in chunks of at most chunk bytes. */
int
frame_write(int fd, const char *msg, size_t len, size_t chunk)
{
	char hdr[FRAME_HDR];
	size_t n;

	chunk = frame_chunk_size(chunk);
	do {
		n = len > chunk ? chunk : len;
		frame_header(hdr, (uint32_t)n | (len > n ? FRAME_MORE : 0));
		if (write_all(fd, hdr, FRAME_HDR) == -1 ||
		    write_all(fd, msg, n) == -1)
			return -1;
		msg += n;
		len -= n;
	} while (len > 0);
	return 0;
}

/*
 * Read one whole message from a blocking fd into *buf (grown as needed);
 * its length, 0 at a clean EOF, -1 on error (EMSGSIZE: over max_msg,
 * EPROTO: a chunk over the frame limit).
 */
ssize_t
frame_read(int fd, char **buf, size_t *cap, size_t chunk, size_t max_msg)
{
	char hdr[FRAME_HDR], *nb;
	size_t total = 0, n, ncap;
	int more, r;

	do {
		if ((r = read_all(fd, hdr, FRAME_HDR)) <= 0) {
			if (r == 0 && total > 0)
				errno = ECONNRESET;
			return r == 0 && total == 0 ? 0 : -1;
		}
		if (frame_chunk(hdr, FRAME_HDR, chunk, &n, &more) == -1) {
			errno = EPROTO;
			return -1;
		}
		if (n > max_msg || total > max_msg - n) {
			errno = EMSGSIZE;
			return -1;
		}
		if (total + n > *cap) {
			ncap = *cap ? *cap : 4096;
			while (ncap < total + n)
				ncap *= 2;
			if ((nb = realloc(*buf, ncap)) == NULL)
				return -1;
			*buf = nb;
			*cap = ncap;
		}
		if (n > 0 && (r = read_all(fd, *buf + total, n)) != 1) {
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		total += n;
	} while (more);
	return (ssize_t)total;
}
