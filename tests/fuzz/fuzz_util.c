/* fuzz_util.c: quiet logs, memory files, sink peers, the record reader. */
#include <sys/mman.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "mpack.h"

#define MAX_SINKS	32

static int	sinks[MAX_SINKS];
static int	nsinks;

/* Log at debug level into /dev/null unless FUZZ_LOG is set. */
void
fuzz_quiet(void)
{
	FILE *null;

	if (getenv("FUZZ_LOG") != NULL) {
		log_init("fuzz", LOG_L_DEBUG);
		return;
	}
	log_init("fuzz", LOG_L_DEBUG);
	if ((null = fopen("/dev/null", "w")) != NULL)
		stderr = null;	/* libFuzzer and the sanitizers write fd 2 */
}

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdprintf(2, fmt, ap);
	va_end(ap);
	dprintf(2, "\n");
	abort();
}

const char *
fuzz_memfile(const void *p, size_t n)
{
	static char path[64];
	static int fd = -1;
	const char *b = p;
	ssize_t w;

	if (fd == -1) {
		if ((fd = memfd_create("fuzz.ini", 0)) == -1)
			fuzz_fail("memfd_create: %m");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		fuzz_fail("memfd: %m");
	while (n > 0) {
		if ((w = write(fd, b, n)) <= 0)
			fuzz_fail("memfd write: %m");
		b += w;
		n -= (size_t)w;
	}
	return path;
}

/* A peer on a socketpair with room for any burst a target sends. */
struct peer *
fuzz_sink_peer(struct ev_loop *loop, peer_msg_cb on_msg, peer_gone_cb on_gone,
    void *arg, int *otherfd)
{
	struct peer *p;
	int sv[2];

	if (nsinks == MAX_SINKS)
		fuzz_fail("too many sink peers");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		fuzz_fail("socketpair: %m");
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if ((p = peer_new(loop, sv[0], FRAME_MAX_FUZZ, 64 << 20, on_msg,
	    on_gone, arg)) == NULL)
		fuzz_fail("peer_new");
	sinks[nsinks++] = sv[1];
	if (otherfd != NULL)
		*otherfd = sv[1];
	return p;
}

/* Read and drop whatever the targets wrote to their sinks. */
void
fuzz_sinks_drain(void)
{
	char buf[65536];
	int i;

	for (i = 0; i < nsinks; i++)
		while (read(sinks[i], buf, sizeof(buf)) > 0)
			;
}

/* The owner freed its peer: close the other end too. */
void
fuzz_sink_forget(int otherfd)
{
	int i;

	for (i = 0; i < nsinks; i++)
		if (sinks[i] == otherfd) {
			close(otherfd);
			sinks[i] = sinks[--nsinks];
			return;
		}
}

/* Read one value through every accessor of the checked reader. */
static void
read_key(const msgpack_object *m, const char *k)
{
	const char *s;
	char buf[64];
	size_t len;
	int64_t v;
	int b;

	(void)mp_find(m, k);
	(void)mp_get_int(m, k, &v);
	(void)mp_get_bool(m, k, &b);
	if (mp_get_str(m, k, &s, &len) == 0 && len > 0)
		FUZZ_ASSERT(s != NULL);
	free(mp_strdup(m, k));
	if (mp_copy_str(m, k, buf, sizeof(buf)) == 0)
		FUZZ_ASSERT(strlen(buf) < sizeof(buf));
}

void
fuzz_read_all(const msgpack_object *m)
{
	static const char *const common[] = { "t", "id", "version", "text",
	    "input_id", "status", "ok", "error", "result", "verb", "args", "" };
	char key[256];
	uint32_t i;
	size_t k;

	for (k = 0; k < sizeof(common) / sizeof(common[0]); k++)
		read_key(m, common[k]);
	if (m->type != MSGPACK_OBJECT_MAP)
		return;
	for (i = 0; i < m->via.map.size; i++) {
		const msgpack_object *o = &m->via.map.ptr[i].key;

		if (o->type != MSGPACK_OBJECT_STR ||
		    o->via.str.size >= sizeof(key))
			continue;
		if (o->via.str.size > 0)	/* else a NULL pointer */
			memcpy(key, o->via.str.ptr, o->via.str.size);
		key[o->via.str.size] = '\0';
		read_key(m, key);
		if (m->via.map.ptr[i].val.type == MSGPACK_OBJECT_MAP)
			fuzz_read_all(&m->via.map.ptr[i].val);
	}
}

int
fuzz_next_rec(const uint8_t *buf, size_t len, size_t *off,
    struct fuzz_rec *r)
{
	size_t n;

	if (len - *off < 2 + FRAME_HDR)
		return 0;
	r->dest = buf[*off];
	r->sub = buf[*off + 1];
	n = (size_t)buf[*off + 2] << 24 | (size_t)buf[*off + 3] << 16 |
	    (size_t)buf[*off + 4] << 8 | buf[*off + 5];
	*off += 2 + FRAME_HDR;
	if (n > len - *off)
		n = len - *off;		/* a cut record takes what is left */
	r->p = (const char *)buf + *off;
	r->len = n;
	*off += n;
	return 1;
}
