/* test_frame.c: the frame codec and the peer over a real socketpair. */
#include <sys/socket.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "mpack.h"
#include "proto.h"
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
	suite_add_tcase(s, tc);
	return s;
}
