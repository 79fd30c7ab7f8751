/* test_frame.c: the frame codec and the peer over a real socketpair. */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "mpack.h"
#include "proto.h"
#include "tojson.h"
#include "unit.h"

/* Pack {"t": 7, "s": "hello"} as a frame into buf; return its length. */
static size_t
make_frame(char *buf, size_t cap)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t n;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kint(&pk, "t", 7);
	mp_kstr(&pk, "s", "hello");
	ck_assert_uint_le(sb.size + FRAME_HDR, cap);
	frame_header(buf, (uint32_t)sb.size);
	memcpy(buf + FRAME_HDR, sb.data, sb.size);
	n = sb.size + FRAME_HDR;
	msgpack_sbuffer_destroy(&sb);
	return n;
}

START_TEST(t_partial_frames)
{
	char buf[256];
	size_t n = make_frame(buf, sizeof(buf)), k, plen;

	for (k = 0; k < n; k++)
		ck_assert_int_eq(frame_next(buf, k, 1024, &plen), 0);
	ck_assert_int_eq(frame_next(buf, n, 1024, &plen), 1);
	ck_assert_uint_eq(plen, n - FRAME_HDR);
}
END_TEST

START_TEST(t_oversized)
{
	char hdr[FRAME_HDR];
	size_t plen;

	frame_header(hdr, 1025);
	ck_assert_int_eq(frame_next(hdr, FRAME_HDR, 1024, &plen), -1);
	frame_header(hdr, 1024);
	ck_assert_int_eq(frame_next(hdr, FRAME_HDR, 1024, &plen), 0);
	frame_header(hdr, 0xffffffffu);
	ck_assert_int_eq(frame_next(hdr, FRAME_HDR, FRAME_MAX, &plen), -1);
}
END_TEST

START_TEST(t_decode_bad)
{
	msgpack_unpacked u;
	const char *err;
	static const char garbage[] = "\xc1\xc1\xc1";
	static const char truncated[] = "\x83\xa1t\x01";
	static const char notmap[] = "\x2a";
	static const char extra[] = "\x80\x01";
	static const char good[] = "\x81\xa1t\x01";
	static const char huge[] = "\xdd\xff\xff\xff\xff\x01\x02";
	static const char hugemap[] = "\x81\xa1t\xdf\x7f\xff\xff\xff";

	msgpack_unpacked_init(&u);
	ck_assert_int_eq(frame_decode(garbage, 3, &u, &err), -1);
	ck_assert_int_eq(frame_decode(truncated, 4, &u, &err), -1);
	ck_assert_str_eq(err, "truncated msgpack");
	ck_assert_int_eq(frame_decode(notmap, 1, &u, &err), -1);
	ck_assert_str_eq(err, "message is not a map");
	ck_assert_int_eq(frame_decode(extra, 2, &u, &err), -1);
	ck_assert_str_eq(err, "bytes left over after the message");
	/* containers that claim more than the frame holds: refused early */
	ck_assert_int_eq(frame_decode(huge, 7, &u, &err), -1);
	ck_assert_int_eq(frame_decode(hugemap, 8, &u, &err), -1);
	ck_assert_int_eq(frame_decode(good, 4, &u, &err), 0);
	msgpack_unpacked_destroy(&u);
}
END_TEST

static int got_msgs;
static int gone;
static char gone_why[128];

static int
count_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	int64_t t;

	(void)p;
	(void)arg;
	ck_assert_int_eq(mp_get_int(m, "t", &t), 0);
	ck_assert_int_eq(t, 7);
	got_msgs++;
	return 0;
}

static void
note_gone(struct peer *p, const char *why, void *arg)
{
	(void)p;
	(void)arg;
	gone = 1;
	snprintf(gone_why, sizeof(gone_why), "%s", why);
}

/* Feed bytes to a peer split at position k, run the loop until idle. */
static void
feed_split(const char *buf, size_t n, size_t k)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct peer *p;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	got_msgs = gone = 0;
	p = peer_new(loop, sv[0], 1024, 4096, count_msg, note_gone, NULL);
	ck_assert_int_eq(write(sv[1], buf, k), (ssize_t)k);
	ev_run(loop, EVRUN_NOWAIT);
	ck_assert_int_eq(got_msgs, k == n ? 1 : 0);
	if (k < n) {
		ck_assert_int_eq(write(sv[1], buf + k, n - k), (ssize_t)(n - k));
		ev_run(loop, EVRUN_NOWAIT);
	}
	ck_assert_int_eq(got_msgs, 1);
	ck_assert_int_eq(gone, 0);
	close(sv[1]);
	ev_run(loop, EVRUN_NOWAIT);
	ck_assert_int_eq(gone, 1);
	ck_assert_str_eq(gone_why, "closed");
	peer_free(p);
	ev_loop_destroy(loop);
}

START_TEST(t_split_every_byte)
{
	char buf[256];
	size_t n = make_frame(buf, sizeof(buf)), k;

	for (k = 1; k <= n; k++)
		feed_split(buf, n, k);
}
END_TEST

START_TEST(t_peer_rejects)
{
	static const struct {
		const char	*bytes;
		size_t		 len;
		const char	*why;
	} cases[] = {
		{ "\x00\x00\x10\x00", 4, "frame larger than the limit" },
		{ "\x00\x00\x00\x03\xc1\xc1\xc1", 7, "malformed msgpack" },
		{ "\x00\x00\x00\x01\x2a", 5, "message is not a map" },
		{ "\x00\x00\x00\x02\x81", 5, "closed in the middle of a frame" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ev_loop *loop = ev_loop_new(0);
		struct peer *p;
		int sv[2];

		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
		got_msgs = gone = 0;
		p = peer_new(loop, sv[0], 1024, 4096, count_msg, note_gone,
		    NULL);
		ck_assert_int_eq(write(sv[1], cases[i].bytes, cases[i].len),
		    (ssize_t)cases[i].len);
		if (i == 3)
			close(sv[1]);
		ev_run(loop, EVRUN_NOWAIT);
		ev_run(loop, EVRUN_NOWAIT);
		ck_assert_int_eq(gone, 1);
		ck_assert_str_eq(gone_why, cases[i].why);
		ck_assert_int_eq(got_msgs, 0);
		peer_free(p);
		if (i != 3)
			close(sv[1]);
		ev_loop_destroy(loop);
	}
}
END_TEST

START_TEST(t_write_queue_hwm)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct peer *p;
	char payload[1000];
	int sv[2], i, refused = 0;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	p = peer_new(loop, sv[0], 4096, 64 * 1024, count_msg, note_gone, NULL);
	memset(payload, 0x80, sizeof(payload));
	/* nobody reads sv[1]: the kernel buffer fills, then our queue */
	for (i = 0; i < 10000 && !refused; i++)
		if (peer_send(p, payload, sizeof(payload)) == -1)
			refused = 1;
	ck_assert_int_eq(refused, 1);
	ck_assert_uint_le(peer_queued(p), 64 * 1024 + sizeof(payload));
	peer_free(p);
	close(sv[1]);
	ev_loop_destroy(loop);
}
END_TEST

/* {"t": 7, "s": <n bytes>} packed into sb. */
static void
pack_big(msgpack_sbuffer *sb, size_t n)
{
	msgpack_packer pk;
	char *s = malloc(n);

	ck_assert_ptr_nonnull(s);
	memset(s, 'x', n);
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kint(&pk, "t", 7);
	mp_str(&pk, "s");
	msgpack_pack_str(&pk, n);
	msgpack_pack_str_body(&pk, s, n);
	free(s);
}

static size_t big_len;

static int
big_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	const msgpack_object *s = mp_find(m, "s");

	(void)p;
	(void)arg;
	if (s != NULL)
		big_len = s->via.str.size;
	got_msgs++;
	return 0;
}

/* A message many frames long goes out in chunks and comes back whole. */
START_TEST(t_chunked_roundtrip)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct peer *a, *b;
	msgpack_sbuffer sb;
	int sv[2], i;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	got_msgs = gone = 0;
	a = peer_new(loop, sv[0], 1024, 4096, big_msg, note_gone, NULL);
	b = peer_new(loop, sv[1], 1024, 4096, big_msg, note_gone, NULL);
	pack_big(&sb, 300000);
	ck_assert_int_eq(peer_send_sbuf(a, &sb), 0);	/* past the hwm */
	ck_assert_int_eq(peer_send(a, "\x81\xa1t\x07", 4), -1);
	ck_assert_int_eq(peer_send_flags(a, "\x81\xa1t\x07", 4, PEER_FORCE),
	    0);
	for (i = 0; i < 1000 && got_msgs < 2; i++)
		ev_run(loop, EVRUN_NOWAIT);
	ck_assert_int_eq(got_msgs, 2);
	ck_assert_uint_eq(big_len, 300000);
	ck_assert_int_eq(gone, 0);
	ck_assert_ptr_null(b->mbuf);		/* nothing kept after */
	/* the queue is over the mark now: refused, unless forced */
	ck_assert_int_eq(peer_send_sbuf(a, &sb), 0);
	ck_assert_int_eq(peer_send_sbuf(a, &sb), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_int_eq(peer_send_flags(a, sb.data, sb.size, PEER_FORCE), 0);
	/* over the bound on a message: refused, naming why */
	peer_set_max_msg(a, 100000);
	ck_assert_int_eq(peer_send_sbuf(a, &sb), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	msgpack_sbuffer_destroy(&sb);
	peer_free(a);
	peer_free(b);
	ev_loop_destroy(loop);
}
END_TEST

/* Chunks that add up to more than the receiver's bound kill the peer. */
START_TEST(t_chunked_over_bound)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct peer *p;
	char chunk[FRAME_HDR + 1000];
	int sv[2], i;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	got_msgs = gone = 0;
	p = peer_new(loop, sv[0], 1024, 4096, count_msg, note_gone, NULL);
	peer_set_max_msg(p, 2500);
	memset(chunk, 0, sizeof(chunk));
	frame_header(chunk, 1000 | FRAME_MORE);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(write(sv[1], chunk, sizeof(chunk)),
		    (ssize_t)sizeof(chunk));
	ev_run(loop, EVRUN_NOWAIT);
	ev_run(loop, EVRUN_NOWAIT);
	ck_assert_int_eq(gone, 1);
	ck_assert_str_eq(gone_why, "a message of more than 3000 bytes (the "
	    "limit is 2500)");
	ck_assert_int_eq(got_msgs, 0);
	peer_free(p);
	close(sv[1]);
	ev_loop_destroy(loop);
}
END_TEST

/* The blocking pair (mobkitctl's) writes and reads chunks the same way. */
START_TEST(t_frame_read_write)
{
	msgpack_sbuffer sb;
	char *buf = NULL;
	size_t cap = 0;
	int sv[2];
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pack_big(&sb, 200000);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		_exit(frame_write(sv[1], sb.data, sb.size, 4096) == -1);
	}
	close(sv[1]);
	ck_assert_int_eq(frame_read(sv[0], &buf, &cap, 4096, 1 << 20),
	    (ssize_t)sb.size);
	ck_assert_int_eq(memcmp(buf, sb.data, sb.size), 0);
	ck_assert_int_eq(frame_read(sv[0], &buf, &cap, 4096, 1 << 20), 0);
	close(sv[0]);
	/* over max_msg: EMSGSIZE, from the length words alone */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(frame_write(sv[1], sb.data, sb.size, 65536), 0);
	close(sv[1]);
	ck_assert_int_eq(frame_read(sv[0], &buf, &cap, 65536, 100000), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	close(sv[0]);
	free(buf);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* Valid UTF-8 passes; bad sequences are found and repaired. */
START_TEST(t_utf8)
{
	static const struct {
		const char	*in;
		ssize_t		 bad;
		const char	*fixed;
	} cases[] = {
		{ "plain", -1, "plain" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", -1, NULL },
		{ "ab\xff" "c", 2, "ab\xef\xbf\xbd" "c" },
		{ "\xc0\xaf", 0, "\xef\xbf\xbd\xef\xbf\xbd" },	/* overlong */
		{ "x\xed\xa0\x80", 1, "x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xe2\x82" "A", 0, "\xef\xbf\xbd" "A" },	/* cut short */
		{ "\xf4\x90\x80\x80", 0, NULL },		/* past U+10FFFF */
	};
	size_t i, len;
	char *out;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(utf8_invalid(cases[i].in, strlen(cases[i].in)),
		    cases[i].bad);
		out = utf8_repair(cases[i].in, strlen(cases[i].in), &len);
		ck_assert_ptr_nonnull(out);
		ck_assert_int_eq(utf8_invalid(out, len), -1);
		if (cases[i].fixed != NULL)
			ck_assert_str_eq(out, cases[i].fixed);
		else if (cases[i].bad == -1)
			ck_assert_str_eq(out, cases[i].in);
		free(out);
	}
}
END_TEST

Suite *
frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, t_partial_frames);
	tcase_add_test(tc, t_oversized);
	tcase_add_test(tc, t_decode_bad);
	tcase_add_test(tc, t_split_every_byte);
	tcase_add_test(tc, t_peer_rejects);
	tcase_add_test(tc, t_write_queue_hwm);
	tcase_add_test(tc, t_chunked_roundtrip);
	tcase_add_test(tc, t_chunked_over_bound);
	tcase_add_test(tc, t_frame_read_write);
	tcase_add_test(tc, t_utf8);
	suite_add_tcase(s, tc);
	return s;
}
