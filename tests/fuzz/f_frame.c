/*
 * f_frame.c: the frame codec and the peer that reassembles frames from a
 * socket.  The first byte picks the frame limit and how the rest is cut
 * into writes; the rest is the byte stream a peer receives.  Two readings
 * must agree: frame_next and frame_decode walking the whole buffer, and a
 * real peer on a socketpair reading it in pieces (the same messages in the
 * same order, death at the same bad frame).  Every message is then read
 * through every accessor of the checked reader, and sent back.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "mpack.h"

#define MAX_MSGS	4096

static struct ev_loop	*loop;
static msgpack_sbuffer	 walked[MAX_MSGS], got[MAX_MSGS];
static int		 nwalked, ngot, gone;

static void
pack_into(msgpack_sbuffer *sb, const msgpack_object *o)
{
	msgpack_packer pk;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_object(&pk, *o);
}

/* The reference: every frame in order; -1 at a bad one, 0 at the end. */
static int
walk(const char *buf, size_t len, size_t max)
{
	msgpack_unpacked u;
	const char *err;
	size_t off = 0, n;
	int r;

	nwalked = 0;
	for (;;) {
		r = frame_next(buf + off, len - off, max, &n);
		if (r != 1)
			return r;
		FUZZ_ASSERT(n <= max && FRAME_HDR + n <= len - off);
		msgpack_unpacked_init(&u);
		if (frame_decode(buf + off + FRAME_HDR, n, &u, &err) == -1) {
			FUZZ_ASSERT(err != NULL && *err != '\0');
			msgpack_unpacked_destroy(&u);
			return -1;
		}
		FUZZ_ASSERT(u.data.type == MSGPACK_OBJECT_MAP);
		fuzz_read_all(&u.data);
		if (nwalked < MAX_MSGS)
			pack_into(&walked[nwalked], &u.data);
		nwalked++;
		msgpack_unpacked_destroy(&u);
		off += FRAME_HDR + n;
	}
}

static int
on_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	msgpack_sbuffer sb;

	(void)arg;
	FUZZ_ASSERT(!gone);
	if (ngot < MAX_MSGS)
		pack_into(&got[ngot], m);
	ngot++;
	msgpack_sbuffer_init(&sb);
	pack_into(&sb, m);
	(void)peer_send_sbuf(p, &sb);	/* the way back: queue and flush */
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

static void
on_gone(struct peer *p, const char *why, void *arg)
{
	(void)p;
	(void)arg;
	FUZZ_ASSERT(why != NULL && *why != '\0');
	gone = 1;
}

/* Read back what the peer sent, so that its queue drains. */
static void
drain(int fd)
{
	char buf[65536];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* The same bytes through a real peer, written in pieces. */
static void
through_peer(const char *buf, size_t len, size_t max, unsigned seed)
{
	struct peer *p;
	size_t off = 0, n;
	ssize_t w;
	int sv[2], unread;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		fuzz_fail("socketpair: %m");
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	ngot = gone = 0;
	if ((p = peer_new(loop, sv[0], max, 64 << 20, on_msg, on_gone,
	    NULL)) == NULL)
		fuzz_fail("peer_new");
	while (off < len && !gone) {
		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 16) % (seed & 0x100 ? 7 : 70000);
		if (n > len - off)
			n = len - off;
		if ((w = write(sv[1], buf + off, n)) > 0)
			off += (size_t)w;
		else if (w == -1 && errno != EAGAIN)
			fuzz_fail("write: %m");
		ev_run(loop, EVRUN_NOWAIT);
		drain(sv[1]);
	}
	/* the loop comes back while the socket holds bytes (one read each) */
	for (n = 0; n <= len && !gone; n++) {
		ev_run(loop, EVRUN_NOWAIT);
		drain(sv[1]);
		if (ioctl(sv[0], FIONREAD, &unread) == -1 || unread == 0)
			break;
	}
	peer_free(p);
	close(sv[1]);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int i;

	(void)argc;
	(void)argv;
	fuzz_quiet();
	loop = ev_default_loop(0);
	for (i = 0; i < MAX_MSGS; i++) {
		msgpack_sbuffer_init(&walked[i]);
		msgpack_sbuffer_init(&got[i]);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = { FRAME_MAX_FUZZ, 64, 1024, 65536 };
	const char *buf = (const char *)data + 1;
	size_t len, max, i;
	int end;

	if (size < 1)
		return 0;
	len = size - 1;
	max = limits[data[0] & 3];
	end = walk(buf, len, max);
	through_peer(buf, len, max, data[0]);
	/* the peer saw the same messages, and died only at a bad frame */
	if (ngot != nwalked)
		fuzz_fail("the peer delivered %d messages, the walk found %d "
		    "(%s)", ngot, nwalked, gone ? "peer gone" : "peer alive");
	for (i = 0; i < (size_t)ngot && i < MAX_MSGS; i++)
		FUZZ_ASSERT(got[i].size == walked[i].size &&
		    memcmp(got[i].data, walked[i].data, got[i].size) == 0);
	FUZZ_ASSERT(gone == (end == -1));
	return 0;
}
