/*
 * client.h: replying to control clients, as the domains' verbs do.
 * control.c implements it; a verb never sees how a request is read or
 * dispatched.  (The engine's event ring reaches clients through the
 * struct event_client_ops control.c gives it, engine/events.h.)
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct client;

int	 client_send(struct client *, msgpack_sbuffer *);
size_t	 client_queued(struct client *);
void	 client_drop(struct client *, const char *why);
void	 client_close(struct client *, const char *why);
void	 client_watch_drain(struct client *, size_t lowat);
uint64_t client_id(struct client *);
struct client *client_by_id(uint64_t);
void	 reply_ok_packed(uint64_t cid, const char *data, size_t len);
void	 reply_error(uint64_t cid, const char *msg);
int	 ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 client_set_following(struct client *, int);
void	 client_want_report(struct client *);

#endif
