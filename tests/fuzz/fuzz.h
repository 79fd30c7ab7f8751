/*
 * fuzz.h: what the fuzz targets share.  Each target defines
 * LLVMFuzzerTestOneInput (and may define LLVMFuzzerInitialize); clang
 * links it with libFuzzer (make fuzz), gcc with replay.c (make check).
 */
#ifndef MOBKIT_FUZZ_H
#define MOBKIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <msgpack.h>

#include "frame.h"

#define FRAME_MAX_FUZZ	(1024 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

/* Make the targets quiet but keep every log line formatted (FUZZ_LOG=1
 * shows them). */
void	fuzz_quiet(void);
/* A failed property: print and abort, so both drivers report it. */
void	fuzz_fail(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
#define FUZZ_ASSERT(c) do { if (!(c)) fuzz_fail("%s:%d: %s", __FILE__, \
	__LINE__, #c); } while (0)

/* A file holding exactly these bytes (a memfd), as a path. */
const char *fuzz_memfile(const void *, size_t);

/* A peer whose other end nobody reads but fuzz_sinks_drain. */
struct peer *fuzz_sink_peer(struct ev_loop *, peer_msg_cb, peer_gone_cb,
	    void *, int *otherfd);
void	fuzz_sinks_drain(void);
void	fuzz_sink_forget(int otherfd);

/* Every map key and value of m read through the checked reader. */
void	fuzz_read_all(const msgpack_object *m);

/* A record of the msg target: dest, sub, then a frame (BE length). */
struct fuzz_rec {
	int		 dest, sub;
	const char	*p;
	size_t		 len;
};
/* The next record of buf at *off; 0 when none is left. */
int	fuzz_next_rec(const uint8_t *buf, size_t len, size_t *off,
	    struct fuzz_rec *);

/* The stand-in for libcurl (fuzz_httpc.c): requests wait to be answered. */
int	fuzz_http_pending(void);
/* Answer pending request i: body bytes (in chunks), then done. */
void	fuzz_http_answer(int i, const char *body, size_t len, long status,
	    int curl_rc, unsigned chunk);
void	fuzz_http_reset(void);

/* The processes of the msg target (m_*.c). */
struct mkchild;
struct msg_view;
/* A message from mobkitd through child.c's dispatch (read against its
 * table; PING: PONG). */
void	fuzz_child_msg(struct mkchild *,
	    int (*)(const struct msg_view *, void *), const msgpack_object *);
void	fuzz_root_init(void);
void	fuzz_root_msg(int child, const msgpack_object *);
void	fuzz_root_stdout(int child, const char *line);
void	fuzz_root_restore(const char *blob, size_t len);
void	fuzz_root_after(void);
void	fuzz_worker_init(void);
void	fuzz_worker_msg(const msgpack_object *);
void	fuzz_worker_reset(void);
void	fuzz_worker_stream(const char *, size_t, unsigned chunk, long status);
void	fuzz_router_init(void);
void	fuzz_router_msg(const msgpack_object *);
void	fuzz_router_reset(void);
void	fuzz_scheduler_init(void);
void	fuzz_scheduler_msg(const msgpack_object *);
void	fuzz_scheduler_reset(void);
void	fuzz_delivery_init(void);
void	fuzz_delivery_msg(const msgpack_object *);
void	fuzz_delivery_reset(void);
void	fuzz_ctl_init(void);
void	fuzz_ctl_msg(int verb, const msgpack_object *);

#endif
