/*
 * gateway.h: what the parts of mobkit-gateway share.
 *
 *   main.c    settings (MOBKIT_GATEWAY_*), the loop, the link to the root
 *             on fd 3: control requests by rid, their replies and streams
 *   http.c    libmicrohttpd driven by our libev loop (its epoll fd in an
 *             ev_io, its timeout in an ev_timer); a request's life
 *   routes.c  the routes table: method + path -> a verb of the root
 *   auth.c    bearer tokens (constant-time) and JWT (libjwt, a JWKS file)
 *   sse.c     event streams: /v1/events and streamed inputs
 *   metrics.c /metrics in Prometheus text format
 *   openapi.c the OpenAPI 3.1 document, built into the binary
 *   json.c    answers: JSON bodies, the error shape
 *
 * Invariant: every verb is the root's; the gateway only maps HTTP onto
 * verbs and answers in the shapes of mobkitctl --json.  One thread: MHD
 * runs only from the loop (MHD_run), never on a thread of its own.
 */
#ifndef MOBKIT_GATEWAY_H
#define MOBKIT_GATEWAY_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <jansson.h>
#include <microhttpd.h>

struct gw_settings {
	const char	*listen;
	const char	*auth;		/* token | jwt | none */
	const char	*token_file;
	const char	*jwks_file;
	const char	*jwt_issuer;
	const char	*jwt_audience;
	const char	*tls_cert_file;
	const char	*tls_key_file;
	int		 console;
	int		 metrics_auth;
	size_t		 max_body_bytes;
};

extern struct gw_settings GS;
extern struct ev_loop *gw_loop;
extern int	 gw_stopping;	/* the loop is ending: start nothing */

struct hreq;

/* What a root request's answer goes to: items of a stream, then one end
 * (ok, result or error).  The hreq may be gone: the caller cancels. */
typedef void (*root_item_fn)(struct hreq *, json_t *item);
typedef void (*root_done_fn)(struct hreq *, int ok, json_t *result,
	    const char *error);

/* main.c: the root */
int	 root_up(void);
uint64_t root_call(struct hreq *, const char *verb, json_t *args,
	    root_item_fn, root_done_fn);	/* 0: not sent */
void	 root_cancel(uint64_t rid);
void	 gw_ready(void);

/* A request in progress. */
struct hreq {
	LIST_ENTRY(hreq)	 link;		/* every request (http.c) */
	struct MHD_Connection	*conn;
	char			 method[8];
	char			*path;
	char			*body;
	size_t			 blen;
	int			 too_large;
	int			 suspended;
	int			 answered;	/* a response is queued */
	int			 gone;		/* the connection completed */
	/* the answer, when it came while suspended */
	unsigned		 status;
	char			*out;
	size_t			 outlen;
	const char		*ctype;
	const char		*allow;		/* 405 */
	int			 www_auth;	/* 401 */
	char			*headers;	/* more: "Name: value\n" lines */
	uint64_t		 rid;		/* a root request in flight */
	uint64_t		 rid2;		/* a second (streamed inputs) */
	struct sse		*sse;
	void			*ctx;		/* the route's */
	void			(*ctx_free)(void *);
};

/* http.c */
int	 http_start(void);
void	 http_stop(void);
void	 http_kick(void);
void	 hreq_answer(struct hreq *, unsigned status, const char *ctype,
	    char *body, size_t len);
void	 hreq_json(struct hreq *, unsigned status, json_t *);
void	 hreq_error(struct hreq *, unsigned status, const char *msg);
const char *hreq_header(struct hreq *, const char *name);
const char *hreq_query(struct hreq *, const char *name);
void	 hreq_sse_begin(struct hreq *);
void	 hreq_wake(struct hreq *);

/* routes.c */
void	 route_dispatch(struct hreq *);
struct gw_route {
	const char	*method;
	const char	*path;		/* /v1/children/{name}/start */
	const char	*verb;		/* the root's, or NULL (local) */
	int		 auth;		/* needs a token */
	void		(*fn)(struct hreq *, const struct gw_route *,
			    char **params, int nparams);
};
extern const struct gw_route gw_routes[];
extern const size_t gw_nroutes;

/* auth.c */
int	 auth_init(void);
int	 auth_check(const char *authorization, char *why, size_t whysz);

/* sse.c */
struct sse;
void	 sse_events(struct hreq *);
void	 sse_send_stream(struct hreq *, const char *member, json_t *body);
ssize_t	 sse_read(struct hreq *, char *buf, size_t max);
void	 sse_resume_due(void);
void	 sse_free(struct sse *);
void	 sse_keepalive_start(void);
void	 sse_feed_start(void);

/* metrics.c */
void	 metrics_serve(struct hreq *);
void	 metrics_count(json_t *event);
/* What metrics_count counted, in the text format (metrics_feed.c). */
void	 metrics_feed_render(FILE *);
/* A label value, escaped as the text format wants (metrics.c). */
void	 metrics_label(FILE *, const char *);

/* sse.c: a stream whose events another file writes (the doors) */
typedef void (*sse_fmt_fn)(struct hreq *, const char *type, json_t *data);
void	 sse_set_format(struct hreq *, sse_fmt_fn);
void	 sse_put(struct hreq *, const char *, size_t);
json_t	*sse_usage(struct hreq *);

/* http.c: one more response header (copied) */
void	 hreq_header_add(struct hreq *, const char *name, const char *value);

/* openai.c: the OpenAI-compatible door */
void	 oa_chat(struct hreq *, const struct gw_route *, char **, int);
void	 oa_models(struct hreq *, const struct gw_route *, char **, int);

/* mcpserver.c: the MCP door (Streamable HTTP) */
void	 mcps_post(struct hreq *, const struct gw_route *, char **, int);
void	 mcps_delete(struct hreq *, const struct gw_route *, char **, int);

/* console.c: the web console's files, built in */
void	 console_serve(struct hreq *, const struct gw_route *, char **, int);

/* openapi.c */
extern const char gw_openapi[];

/* json.c */
char	*json_text(json_t *, size_t *len);
json_t	*error_body(const char *code, const char *msg);
const char *error_code(unsigned status);
unsigned root_error_status(const char *error);

#endif
