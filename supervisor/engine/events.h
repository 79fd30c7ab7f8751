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

struct evb {
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
};

void	 events_init(size_t cap);
void	 evb_begin(struct evb *, int npairs);
void	 evb_emit(struct evb *, const char *source, const char *name,
	    const char *type);
void	 event_simple(const char *source, const char *name, const char *type);
void	 event_emit_raw(const char *source, const char *name, const char *type,
	    const char *payload, size_t len);
void	 transition_record(struct child *, int from, int to);
void	 events_start(struct client *, uint64_t since, int since_given,
	    const char *source, const char *type, int follow);
void	 events_pump(struct client *);
uint64_t events_last_seq(void);
int	 transitions_pack(msgpack_packer *, const char *name);
void	 events_unsubscribe(struct client *);

#endif
