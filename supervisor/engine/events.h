/*
 * events.h: the event ring (events.c): every event mobkitd records, the
 * followers that read it, and each child's transitions.
 */
#ifndef ENGINE_EVENTS_H
#define ENGINE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct child;
struct client;

/*
 * What the ring needs of a control client to stream to it: the control
 * socket (control.c) fills this in, so the engine calls nothing above it.
 */
struct event_client_ops {
	int	 (*send)(struct client *, msgpack_sbuffer *);
	size_t	 (*queued)(struct client *);
	void	 (*drop)(struct client *, const char *why);
	void	 (*close)(struct client *, const char *why);
	void	 (*watch_drain)(struct client *, size_t lowat);
	uint64_t (*id)(struct client *);
	void	 (*reply_ok)(uint64_t cid, const char *data, size_t len);
};

struct evb {
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
};

void	 events_init(size_t cap);
void	 events_set_client_ops(const struct event_client_ops *);
void	 evb_begin(struct evb *, int npairs);
void	 evb_emit(struct evb *, const char *source, const char *name,
	    const char *type);
void	 event_simple(const char *source, const char *name, const char *type);
void	 event_emit_raw(const char *source, const char *name, const char *type,
	    const char *payload, size_t len);
void	 transition_record(struct child *, int from, int to);
/* What a reader wants: NULL takes all; "x*" takes what starts with x. */
struct event_filter {
	const char	*source, *type, *name;
};
/* Replay after since (or the last `last` that match, when >= 0). */
void	 events_start(struct client *, uint64_t since, int since_given,
	    const struct event_filter *, int64_t last, int follow);
void	 events_pump(struct client *);
uint64_t events_last_seq(void);
int	 transitions_pack(msgpack_packer *, const char *name);
void	 events_unsubscribe(struct client *);
/* Be told of every event as it is recorded (its payload packed). */
typedef void (*event_tap_fn)(const char *source, const char *name,
	    const char *type, const char *payload, size_t len);
void	 events_add_tap(event_tap_fn);

#endif
