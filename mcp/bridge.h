/*
 * bridge.h: the parts of mobkit-mcp, the child mobkitd runs for each
 * [mcp NAME]: it speaks msgpack to the root on fd 3 (main.c) and MCP to
 * one server (session.c), over a transport: the server's stdin/stdout
 * (stdio.c) or Streamable HTTP (http.c).  JSON-RPC itself is jsonrpc.c's.
 */
#ifndef MCP_BRIDGE_H
#define MCP_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <jansson.h>

/* What the session needs of a transport. */
struct transport {
	const char	*name;
	/* send one encoded message (a line ending in "\n"), taken: the
	 * request id, or -1 for a notification or response; 0 or -1 */
	int		 (*send)(char *msg, size_t len, int64_t id);
	/* the request id is no longer waited for (may be NULL) */
	void		 (*abort)(int64_t id);
	/* the session is ready (may be NULL): open what listens */
	void		 (*ready)(void);
	/* the root said STOP: end the server's side, then bridge_exit */
	void		 (*stop)(void);
};

extern struct ev_loop	*bridge_loop;
extern const char	*bridge_name;	/* the [mcp NAME] */
extern long		 bridge_call_timeout_ms;
extern const struct transport *bridge_transport;

/* main.c: towards mobkitd */
void	 root_ready(void);
void	 root_list(const char *tools_json);
void	 root_result(const char *call_id, const char *content_json,
	    int is_error);
void	 root_pong(int64_t seq);
/* Exit the bridge: code 0 when stopped, 1 when the server failed. */
void	 bridge_exit(int code) __attribute__((noreturn));

/* session.c: the MCP client */
void	 session_start(void);
void	 session_line(char *line, size_t len);	/* stdio output */
void	 session_value(json_t *);		/* a parsed body or event */
void	 session_call(const char *call_id, const char *name,
	    const char *args_json);
void	 session_cancel(const char *call_id);
void	 session_ping(int64_t seq);
/* The transport could not deliver request id (or its answer). */
void	 session_lost(int64_t id, const char *why);
const char *session_protocol(void);	/* negotiated, or NULL */
extern const char *const session_versions[];	/* ours, newest first */

/* stdio.c */
int	 stdio_open(char **argv);
extern const struct transport stdio_transport;

/* http.c */
int	 http_open(const char *url, const char *headers);
extern const struct transport http_transport;

#endif
