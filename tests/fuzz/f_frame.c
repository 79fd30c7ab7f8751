/*
 * f_frame.c: the frame codec and the peer that reassembles messages from
 * a socket.  The first byte picks the frame limit, whether the peer has a
 * small bound on a joined message, and how the rest is cut into writes;
 * the rest is the byte stream a peer receives: frames, and messages cut
 * into chunks (FRAME_MORE).  Two readings must agree: a walk of the whole
 * buffer (frame_chunk, chunks joined, frame_decode) and a real peer on a
 * socketpair reading it in pieces (the same messages in the same order,
 * death at the same bad frame or message).  Every message is read through
 * every accessor of the checked reader and sent back (peer_send cuts it
 * into chunks of the frame limit); what comes back walks to the same
 * messages, and so does each one through frame_write and frame_read.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "mpack.h"

#define MAX_MSGS	4096
#define ECHO_MAX	(64 << 20)

struct msgs {
	msgpack_sbuffer	 m[MAX_MSGS];
	int		 n;
};

static struct ev_loop	*loop;
static struct msgs	 walked, got, echoed, reread;
static char		*echo, *joined;
static size_t		 echolen, echocap, joinedcap;
static int		 gone, memfd = -1;

/* Keep a message, packed again, as the next of v. */
static void
keep(struct msgs *v, const msgpack_object *o)
{
	msgpack_packer pk;

	if (v->n < MAX_MSGS) {
		msgpack_sbuffer_clear(&v->m[v->n]);
		msgpack_packer_init(&pk, &v->m[v->n], msgpack_sbuffer_write);
		msgpack_pack_object(&pk, *o);
	}
	v->n++;
}

/* Two lists of messages are the same. */
static void
same(const struct msgs *a, const struct msgs *b, const char *what)
{
	int i;

	if (a->n != b->n)
		fuzz_fail("%s: %d messages, the walk found %d", what, b->n,
		    a->n);
	for (i = 0; i < a->n && i < MAX_MSGS; i++)
		if (a->m[i].size != b->m[i].size ||
		    memcmp(a->m[i].data, b->m[i].data, a->m[i].size) != 0)
			fuzz_fail("%s: message %d differs", what, i);
}

/* Decode one whole message into v; -1 when it is not msgpack. */
static int
walk_one(const char *p, size_t n, struct msgs *v)
{
	msgpack_unpacked u;
	const char *err;

	msgpack_unpacked_init(&u);
	if (frame_decode(p, n, &u, &err) == -1) {
		FUZZ_ASSERT(err != NULL && *err != '\0');
		msgpack_unpacked_destroy(&u);
		return -1;
	}
	FUZZ_ASSERT(u.data.type == MSGPACK_OBJECT_MAP);
	fuzz_read_all(&u.data);
	keep(v, &u.data);
	msgpack_unpacked_destroy(&u);
	return 0;
}

/*
 * The reference: every message in order, a single frame decoded where it
 * lies, chunks joined up to max_msg; -1 at a bad one, 0 at the end.
 */
static int
walk(const char *buf, size_t len, size_t max, size_t max_msg,
    struct msgs *v)
{
	size_t off = 0, n, jlen = 0;
	int r, more;

	v->n = 0;
	for (;;) {
		r = frame_chunk(buf + off, len - off, max, &n, &more);
		if (r != 1)
			return r;
		FUZZ_ASSERT(n <= max && FRAME_HDR + n <= len - off);
		off += FRAME_HDR + n;
		if (!more && jlen == 0) {
			if (walk_one(buf + off - n, n, v) == -1)
				return -1;
			continue;
		}
		if (n > max_msg || jlen > max_msg - n)
			return -1;
		if (jlen + n > joinedcap) {
			joinedcap = jlen + n;
			if ((joined = realloc(joined, joinedcap)) == NULL)
				fuzz_fail("realloc");
		}
		if (n > 0)
			memcpy(joined + jlen, buf + off - n, n);
		jlen += n;
		if (!more) {
			if (walk_one(joined, jlen, v) == -1)
				return -1;
			jlen = 0;
		}
	}
}

static int
on_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	(void)arg;
	FUZZ_ASSERT(!gone);
	keep(&got, m);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_object(&pk, *m);
	/* the way back: queued, cut into chunks, flushed by the loop */
	FUZZ_ASSERT(peer_send_sbuf(p, &sb) == 0);
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

/* Read what the peer sent back, so that its queue drains. */
static void
drain(int fd)
{
	char buf[65536];
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		FUZZ_ASSERT(echolen + (size_t)r <= ECHO_MAX);
		if (echolen + (size_t)r > echocap) {
			echocap = echolen + (size_t)r + 65536;
			if ((echo = realloc(echo, echocap)) == NULL)
				fuzz_fail("realloc");
		}
		memcpy(echo + echolen, buf, (size_t)r);
		echolen += (size_t)r;
	}
}

/* The same bytes through a real peer, written in pieces. */
static void
through_peer(const char *buf, size_t len, size_t max, size_t max_msg,
    unsigned seed)
{
	struct peer *p;
	size_t off = 0, n;
	ssize_t w;
	int sv[2], unread;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		fuzz_fail("socketpair: %m");
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	got.n = gone = 0;
	echolen = 0;
	if ((p = peer_new(loop, sv[0], max, ECHO_MAX, on_msg, on_gone,
	    NULL)) == NULL)
		fuzz_fail("peer_new");
	if (max_msg != 0)
		peer_set_max_msg(p, max_msg);
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
	/* the last answers: written while this end reads them */
	for (n = 0; !gone && peer_queued(p) > 0; n++) {
		FUZZ_ASSERT(n < 1000);
		(void)peer_flush(p, 1);
		drain(sv[1]);
	}
	peer_free(p);
	close(sv[1]);
}

/* Each message again through frame_write (chunk bytes) and frame_read. */
static void
through_fd(const struct msgs *v, size_t chunk)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	int i;

	if (ftruncate(memfd, 0) == -1 || lseek(memfd, 0, SEEK_SET) == -1)
		fuzz_fail("memfd: %m");
	for (i = 0; i < v->n && i < MAX_MSGS; i++)
		if (frame_write(memfd, v->m[i].data, v->m[i].size, chunk) == -1)
			fuzz_fail("frame_write: %m");
	if (lseek(memfd, 0, SEEK_SET) == -1)
		fuzz_fail("memfd: %m");
	reread.n = 0;
	while ((n = frame_read(memfd, &buf, &cap, chunk, FRAME_MSG_MAX)) > 0)
		if (walk_one(buf, (size_t)n, &reread) == -1)
			fuzz_fail("frame_read: message %d is not msgpack",
			    reread.n);
	if (n == -1)
		fuzz_fail("frame_read: %m");
	free(buf);
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
		msgpack_sbuffer_init(&walked.m[i]);
		msgpack_sbuffer_init(&got.m[i]);
		msgpack_sbuffer_init(&echoed.m[i]);
		msgpack_sbuffer_init(&reread.m[i]);
	}
	if ((memfd = memfd_create("fuzz.frame", 0)) == -1)
		fuzz_fail("memfd_create: %m");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = { FRAME_MAX_FUZZ, 64, 1024, 65536 };
	const char *buf = (const char *)data + 1;
	size_t len, max, max_msg;
	int end;

	if (size < 1)
		return 0;
	len = size - 1;
	max = limits[data[0] & 3];
	/* bit 2: a joined message may hold at most four frames' worth */
	max_msg = data[0] & 4 ? 4 * max : 0;
	end = walk(buf, len, max, max_msg ? max_msg : FRAME_MSG_MAX, &walked);
	through_peer(buf, len, max, max_msg, data[0]);
	/* the peer saw the same messages, and died only at a bad one */
	if (got.n != walked.n)
		fuzz_fail("the peer delivered %d messages, the walk found %d "
		    "(%s)", got.n, walked.n, gone ? "peer gone" : "peer alive");
	same(&walked, &got, "the peer");
	FUZZ_ASSERT(gone == (end == -1));
	/* what it sent back is those messages, chunked as it must be */
	if (!gone && walked.n <= MAX_MSGS) {
		FUZZ_ASSERT(walk(echo, echolen, max, FRAME_MSG_MAX, &echoed) ==
		    0);
		same(&walked, &echoed, "the echo");
		through_fd(&walked, max);
		same(&walked, &reread, "frame_write and frame_read");
	}
	return 0;
}
