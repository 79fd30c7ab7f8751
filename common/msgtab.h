/*
 * msgtab.h: the typed messages between mobkitd and its children (the
 * tables: msgtab.c; the reader: msgread.c; the writer: msgwrite.c).
 *
 * Every message type (proto.h, MSG_HELLO ... MSG_ATTEMPT) has one table:
 * its fields, their types, required or optional, nil allowed or not.  Key
 * names are the constants below, spelt once (msgtab.c).  Writers go
 * through msgw_* (the map's size is counted as fields are packed, never
 * by hand) and readers through msg_read, which checks a message against
 * its table and gives a view indexed by key.  A missing required field, a
 * field of the wrong type and a field the table does not declare are
 * errors naming the message type and the field.
 *
 * Invariants: keys are fewer than 128 (a field set is one msg_keyset); the
 * map header's size follows from the table (one byte under 16 fields), so
 * it is reserved at begin and filled at end.  Records (a route, a
 * schedule, a resolution) are tables too, packed inside a message.
 */
#ifndef MOBKIT_MSGTAB_H
#define MOBKIT_MSGTAB_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

enum msg_key {
	K_T,
	/* handshake, supervision */
	K_VERSION, K_NAME, K_PID, K_SEQ, K_EVENT_TYPE, K_PAYLOAD,
	/* mailbox */
	K_ID, K_MOB, K_PROVIDER, K_MODEL, K_BASE_URL, K_API_KEY, K_SYSTEM,
	K_INSTRUCTIONS, K_REQUEST_TIMEOUT_MS, K_COMMS, K_PEERS, K_SNAPSHOT,
	K_PROTOCOL, K_INPUT_ID, K_TEXT, K_ATTEMPT, K_STATUS, K_ERROR,
	K_MESSAGES, K_CALL_ID, K_TO, K_OK,
	/* modules */
	K_VERB, K_ARGS, K_RESULT, K_ROUTES, K_RECIPIENT, K_CHANNEL, K_SINK,
	K_TARGET, K_RETRY_MAX, K_BACKOFF_MS, K_RATE_LIMIT, K_SOURCE,
	K_NOW_MS, K_SCHEDULES, K_KIND, K_EXPR, K_TIMEZONE, K_ENABLED,
	K_JITTER_MS, K_CATCH_UP, K_LAST_DUE_MS, K_SCHEDULE_ID, K_DUE_MS,
	K_DELIVERY_ID, K_KEY, K_ATTEMPTS_DONE, K_SMTP_URL, K_MAIL_FROM,
	K_AT_MS, K_FINAL, K_ROUTE_ID, K_ROUTE, K_TARGET_MODULE,
	/* agents: provider parameters, tools, usage */
	K_PARAMS, K_TOOLS, K_SERVER, K_CONTENT, K_IS_ERROR, K_TIMEOUT_MS,
	K_INPUT_TOKENS, K_OUTPUT_TOKENS, K_RETRY_AFTER_MS,
	K__N
};

enum msg_ftype {
	MF_INT,		/* a whole number that fits an int64_t */
	MF_STR,		/* a string without a NUL byte, of at most max bytes */
	MF_BOOL,
	MF_BIN,
	MF_MAP,		/* a map: of a record (rec), or passed through */
	MF_ARRAY,	/* an array: of records (rec), or passed through */
	MF_ANY,		/* any value, passed through */
};

#define MF_REQ	0x1	/* the field must be there */
#define MF_NIL	0x2	/* nil stands for "none" */

/* A set of keys, one bit each. */
typedef unsigned __int128 msg_keyset;
#define MSG_KBIT(k)	((msg_keyset)1 << (k))
/* The lowest key of a non-empty set. */
int	msg_keyset_first(msg_keyset);

struct msg_def;

struct msg_field {
	uint8_t			 key;	/* enum msg_key */
	uint8_t			 type;	/* enum msg_ftype */
	uint8_t			 flags;	/* MF_REQ, MF_NIL */
	uint32_t		 max;	/* MF_STR: longest, in bytes (0: any) */
	const struct msg_def	*rec;	/* MF_MAP, MF_ARRAY: its record(s) */
};

struct msg_def {
	int			 type;	/* MSG_*, or 0 for a record */
	const char		*name;
	const struct msg_field	*fields;	/* "t" is implied for messages */
	int			 nfields;
	msg_keyset		 keys;	/* the keys declared, as bits */
	msg_keyset		 req;	/* the required ones */
};

/* The records found inside messages: a route (ROUTES), a schedule
 * (SCHEDULES), the router's answer to resolve (MOD_RESULT's result). */
extern const struct msg_def	msg_rec_route, msg_rec_schedule,
				msg_rec_resolution;

/* A key's spelling on the wire. */
struct msg_keyname {
	const char	*s;
	uint8_t		 len;
};
extern const struct msg_keyname msg_keys[K__N];
const char		*msg_key_name(int key);
void			 msg_def_keys(const struct msg_def *, msg_keyset *keys,
			    msg_keyset *req);
/* The table of a message type, or NULL. */
const struct msg_def	*msg_def_of(int64_t type);
/* The field of a table under key, or NULL. */
const struct msg_field	*msg_field_of(const struct msg_def *, int key);
/* Every message type with a table, for tests: NULL-terminated. */
extern const struct msg_def *const msg_defs[];

/* A message (or record) read against its table. */
struct msg_view {
	const struct msg_def	*def;
	int64_t			 type;	/* -1 when "t" was not readable */
	msg_keyset		 have;	/* keys present (nil included) */
	const msgpack_object	*o[K__N];	/* valid where have says */
};

/* Check m against its type's table; 0, or -1 with err naming the field. */
int	msg_read(const msgpack_object *m, struct msg_view *,
	    char *err, size_t errsz);
/* Check a record (a map) against def the same way. */
int	msg_read_rec(const msgpack_object *m, const struct msg_def *,
	    struct msg_view *, char *err, size_t errsz);

/* Accessors: absent and nil read as the default (or NULL, or -1). */
int		 msgv_has(const struct msg_view *, int key);
int64_t		 msgv_int(const struct msg_view *, int key, int64_t dflt);
int		 msgv_bool(const struct msg_view *, int key, int dflt);
const char	*msgv_str(const struct msg_view *, int key, size_t *len);
char		*msgv_strdup(const struct msg_view *, int key);
int		 msgv_copy(const struct msg_view *, int key, char *buf,
		    size_t bufsz);
const msgpack_object *msgv_obj(const struct msg_view *, int key);
const msgpack_object *msgv_raw(const struct msg_view *, int key);

/*
 * A writer: begin (a message of its own buffer, "t" packed) or rec (a
 * record appended to a caller's buffer), fields, end.  A key the table
 * does not declare, or a required one not written, makes end fail.  A
 * writer is never copied: its packer points at it.
 */
#define MSGW_INLINE	512

struct msgw {
	msgpack_sbuffer		 own;	/* begin: inl, then the heap */
	msgpack_sbuffer		*sb;	/* own, or a record's caller's */
	msgpack_packer		 pk;
	const struct msg_def	*def;
	size_t			 hdr;	/* offset of the map header */
	msg_keyset		 keys, req;	/* of def */
	msg_keyset		 seen;
	uint32_t		 n;
	int			 bad;	/* 1 + the first key that breaks def */
	const char		*why;	/* how */
	char			 inl[MSGW_INLINE];
};

void	msgw_begin(struct msgw *, int type);
/* pk: a writer's own (&w.pk), or one writing to an sbuffer. */
void	msgw_rec(struct msgw *, msgpack_packer *, const struct msg_def *);
void	msgw_int(struct msgw *, int key, int64_t);
void	msgw_str(struct msgw *, int key, const char *);	/* NULL: nil */
void	msgw_bool(struct msgw *, int key, int);
void	msgw_nil(struct msgw *, int key);
/* The key; the caller packs its value through the returned packer. */
msgpack_packer *msgw_key(struct msgw *, int key);
/* The key and a value packed already (a map passed through). */
void	msgw_raw(struct msgw *, int key, const void *, size_t);
/* Close the map: 0, or -1 (logged) when it breaks its table. */
int	msgw_end(struct msgw *);
/* The message's bytes after msgw_end. */
const char *msgw_data(const struct msgw *);
size_t	msgw_len(const struct msgw *);
void	msgw_free(struct msgw *);
struct peer;
/* End, queue to the peer (flags of peer_send_flags) and free: 0 or -1. */
int	msgw_send(struct msgw *, struct peer *, int flags);

#endif
