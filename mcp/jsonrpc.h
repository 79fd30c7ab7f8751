/*
 * jsonrpc.h: JSON-RPC 2.0 as MCP speaks it, in one place: messages are
 * built and classified here, and the stdio transport's framing (one
 * message a line, UTF-8, no newline inside) is cut here, with a bound on
 * a line.  Nothing else in mobkit-mcp writes or reads a JSON-RPC field.
 */
#ifndef MCP_JSONRPC_H
#define MCP_JSONRPC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define JRPC_LINE_MAX	(8u << 20)	/* the longest line kept */

/* Lines of a byte stream, fed in pieces of any size. */
struct jrpc_lines {
	char	*buf;
	size_t	 len, cap;
	size_t	 max;
	int	 skipping;	/* inside a line that passed max */
};

/* A complete line (without its "\n", NUL-terminated), or an over-long
 * one (line NULL, len how much was dropped so far: once per line). */
typedef void (*jrpc_line_cb)(void *arg, char *line, size_t len);

void	 jrpc_lines_init(struct jrpc_lines *, size_t max);
void	 jrpc_lines_feed(struct jrpc_lines *, const char *, size_t,
	    jrpc_line_cb, void *arg);
void	 jrpc_lines_free(struct jrpc_lines *);

enum jrpc_kind {
	JR_REQUEST,		/* method and id: we must answer */
	JR_NOTIFICATION,	/* method, no id */
	JR_RESULT,		/* id and result */
	JR_ERROR,		/* id and error {code, message} */
};

/* One message, classified; borrowed from root (jrpc_msg_free). */
struct jrpc_msg {
	json_t		*root;
	int		 kind;
	json_t		*id;		/* as sent (requests, responses) */
	int64_t		 nid;		/* id when an integer, else -1 */
	const char	*method;
	json_t		*params;	/* may be NULL */
	json_t		*result;
	int64_t		 code;		/* JR_ERROR */
	const char	*message;	/* JR_ERROR */
};

/*
 * Classify one JSON value (an object) as a message: 0, or -1 with err
 * saying what is wrong with it.  root is taken (a reference is kept).
 */
int	 jrpc_classify(json_t *root, struct jrpc_msg *, char *err, size_t);
/* Parse one line (or HTTP body) into a value: an object or an array (a
 * batch); NULL with err when it is not JSON. */
json_t	*jrpc_parse(const char *, size_t, char *err, size_t errsz);
void	 jrpc_msg_free(struct jrpc_msg *);

/* A request, a notification, a result, an error: the encoded message
 * followed by "\n" (*len counts it), malloc'd; params/result are taken
 * (NULL: none). */
char	*jrpc_request(int64_t id, const char *method, json_t *params,
	    size_t *len);
char	*jrpc_notification(const char *method, json_t *params, size_t *len);
char	*jrpc_result(json_t *id, json_t *result, size_t *len);
char	*jrpc_error(json_t *id, int code, const char *message, size_t *len);

#define JRPC_METHOD_NOT_FOUND	(-32601)

#endif
