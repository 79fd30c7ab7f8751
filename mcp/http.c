/*
 * http.c: MCP's Streamable HTTP transport.  Every message is one POST to
 * the server's URL (Accept: application/json, text/event-stream); the
 * answer is one JSON body, or an SSE stream whose data lines are
 * messages (notifications, then the response); 202 answers a
 * notification.  The Mcp-Session-Id the server gives at initialize goes
 * on every later request, with MCP-Protocol-Version once negotiated.  A
 * session the server no longer knows (404) ends the bridge: its restart
 * initialises a new one.  Invariant: a POST waiting for a response is
 * in posts under the request id until it is done or aborted.  What a POST
 * brings (messages, a request lost) is queued, in order, and handed to
 * the session from the loop, never from inside a curl callback (where
 * curl refuses a new request, and a response may start one).  Once the
 * session is ready, a GET stream listens for what the server says on its
 * own (tools/list_changed); a server without one answers 405.  Stopping
 * ends the session with a DELETE.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bridge.h"
#include "httpc.h"
#include "jsonrpc.h"
#include "log.h"
#include "sse.h"

#define HTTP_GRACE_MS	5000	/* past call_timeout_ms: the root decided */

struct post {
	struct post	*next;
	int64_t		 id;		/* -1: a notification or response */
	struct http_req	*req;
	int		 sse;		/* the answer is text/event-stream */
	struct sse	 ev;
	char		*body;
	size_t		 len;
	int		 over;		/* the body passed JRPC_LINE_MAX */
};

/* A message from the server, or (v NULL) request id lost for why. */
struct inbox {
	struct inbox	*next;
	json_t		*v;
	int64_t		 id;
	char		*why;
};

static struct {
	char		*url;
	char		**hdr;		/* "Name: value", configured */
	int		 nhdr;
	char		 session[256];	/* Mcp-Session-Id */
	struct post	*posts;
	struct inbox	*in_head, *in_tail;
	ev_prepare	 drain;
	struct post	*listen;	/* the GET stream */
	ev_timer	 relisten;
} H;

/* Hand what is queued to the session, in order (from the loop). */
static void
drain_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct inbox *m;

	(void)revents;
	ev_prepare_stop(loop, w);
	while ((m = H.in_head) != NULL) {
		if ((H.in_head = m->next) == NULL)
			H.in_tail = NULL;
		if (m->v != NULL) {
			session_value(m->v);
			json_decref(m->v);
		} else
			session_lost(m->id, m->why);
		free(m->why);
		free(m);
	}
}

static void
inbox_put(json_t *v, int64_t id, const char *why)
{
	struct inbox *m;

	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (why != NULL && (m->why = strdup(why)) == NULL))
		fatal("calloc");
	m->v = v;
	m->id = id;
	if (H.in_tail != NULL)
		H.in_tail->next = m;
	else
		H.in_head = m;
	H.in_tail = m;
	ev_prepare_start(bridge_loop, &H.drain);
}

static void
post_unlink(struct post *p)
{
	struct post **pp;

	for (pp = &H.posts; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

static void
post_free(struct post *p)
{
	sse_free(&p->ev);
	free(p->body);
	free(p);
}

/* A header line of the answer: the session id, and its content type. */
static void
on_header(void *arg, const char *line, size_t n)
{
	struct post *p = arg;
	size_t v;

	if (n > 15 && strncasecmp(line, "Mcp-Session-Id:", 15) == 0) {
		for (v = 15; v < n && isspace((unsigned char)line[v]); v++)
			;
		while (n > v && isspace((unsigned char)line[n - 1]))
			n--;
		if (n - v < sizeof(H.session))
			snprintf(H.session, sizeof(H.session), "%.*s",
			    (int)(n - v), line + v);
	} else if (n > 13 && strncasecmp(line, "Content-Type:", 13) == 0)
		p->sse = memmem(line, n, "text/event-stream", 17) != NULL;
}

/* One SSE data line: a message. */
static void
on_event(void *arg, const char *data)
{
	char err[128];
	json_t *v;

	(void)arg;
	if (*data == '\0')
		return;
	if ((v = jrpc_parse(data, strlen(data), err, sizeof(err))) == NULL) {
		log_warnx("%s: an event that is not JSON-RPC: %s", bridge_name,
		    err);
		return;
	}
	inbox_put(v, -1, NULL);
}

static void
on_data(void *arg, const char *buf, size_t n)
{
	struct post *p = arg;
	char *nb;

	if (p->sse) {
		if (sse_feed(&p->ev, buf, n, on_event, p) == -1)
			log_warnx("%s: an event over %u bytes: dropped",
			    bridge_name, JRPC_LINE_MAX);
		return;
	}
	if (p->over || p->len + n > JRPC_LINE_MAX) {
		p->over = 1;
		return;
	}
	if ((nb = realloc(p->body, p->len + n + 1)) == NULL)
		fatal("realloc");
	p->body = nb;
	memcpy(p->body + p->len, buf, n);
	p->len += n;
	p->body[p->len] = '\0';
}

/* The POST is over: its JSON answer, or what went wrong. */
static void
on_done(void *arg, CURLcode rc, long status, const char *err)
{
	struct post *p = arg;
	char why[512], e[128];
	json_t *v;

	post_unlink(p);
	if (rc != CURLE_OK)
		snprintf(why, sizeof(why), "%s", err);
	else if (status == 404 && H.session[0] != '\0') {
		log_warnx("%s: the server no longer knows session %s",
		    bridge_name, H.session);
		bridge_exit(1);
	} else if (status == 202 || (status == 200 && p->sse))
		why[0] = '\0';
	else if (status != 200)
		snprintf(why, sizeof(why), "HTTP status %ld: %.200s", status,
		    p->body ? p->body : "");
	else if (p->over)
		snprintf(why, sizeof(why), "an answer over %u bytes",
		    JRPC_LINE_MAX);
	else if ((v = jrpc_parse(p->body ? p->body : "", p->len, e,
	    sizeof(e))) == NULL)
		snprintf(why, sizeof(why), "the answer is %s", e);
	else {
		why[0] = '\0';
		inbox_put(v, -1, NULL);
	}
	/* a request still unanswered when its POST ends is lost (after
	 * its answer, if it brought one: then this finds nothing) */
	if (p->id >= 0)
		inbox_put(NULL, p->id, why[0] ? why : "the server closed the "
		    "stream without answering");
	else if (why[0] != '\0')
		log_warnx("%s: a notification was refused: %s", bridge_name,
		    why);
	post_free(p);
}

/* The request headers: ours, the session's, then the configured ones. */
static struct curl_slist *
headers(int get)
{
	struct curl_slist *h = NULL;
	char buf[300];
	int i;

	if (get)
		h = http_header(h, "Accept: text/event-stream");
	else {
		h = http_header(h, "Content-Type: application/json");
		h = http_header(h, "Accept: application/json, "
		    "text/event-stream");
	}
	if (H.session[0] != '\0') {
		snprintf(buf, sizeof(buf), "Mcp-Session-Id: %s", H.session);
		h = http_header(h, buf);
	}
	if (session_protocol() != NULL) {
		snprintf(buf, sizeof(buf), "MCP-Protocol-Version: %s",
		    session_protocol());
		h = http_header(h, buf);
	}
	for (i = 0; i < H.nhdr; i++)
		h = http_header(h, H.hdr[i]);
	return h;
}

static int
http_send(char *msg, size_t len, int64_t id)
{
	struct post *p;

	if (len > 0 && msg[len - 1] == '\n')
		msg[len - 1] = '\0';
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	p->id = id;
	sse_init(&p->ev, JRPC_LINE_MAX);
	p->req = http_post(H.url, headers(0), msg, bridge_call_timeout_ms +
	    HTTP_GRACE_MS, on_data, on_done, p);
	free(msg);
	if (p->req == NULL) {
		post_free(p);
		return -1;
	}
	http_on_header(p->req, on_header);
	p->next = H.posts;
	H.posts = p;
	return 0;
}

/* A cancelled call: its POST is dropped. */
static void
http_abort(int64_t id)
{
	struct post *p;

	for (p = H.posts; p != NULL; p = p->next)
		if (p->id == id) {
			post_unlink(p);
			http_cancel(p->req);
			post_free(p);
			return;
		}
}

static void	listen_open(void);

static void
on_data_none(void *arg, const char *buf, size_t n)
{
	(void)arg;
	(void)buf;
	(void)n;
}

/* The GET stream ended: open it again a second later, unless refused. */
static void
listen_done(void *arg, CURLcode rc, long status, const char *err)
{
	struct post *p = arg;

	H.listen = NULL;
	post_free(p);
	if (rc == CURLE_OK && status != 200) {
		log_debug("%s: no GET stream (HTTP %ld): notifications come "
		    "with answers only", bridge_name, status);
		return;
	}
	log_debug("%s: the GET stream ended: %s", bridge_name,
	    rc != CURLE_OK ? err : "closed");
	ev_timer_start(bridge_loop, &H.relisten);
}

static void
relisten_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	listen_open();
}

/* GET the URL as an event stream: the server's own messages. */
static void
listen_open(void)
{
	struct post *p;

	if (H.listen != NULL)
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	p->id = -1;
	p->sse = 1;
	sse_init(&p->ev, JRPC_LINE_MAX);
	if ((p->req = http_post(H.url, headers(1), NULL, 0, on_data,
	    listen_done, p)) == NULL) {
		post_free(p);
		return;
	}
	H.listen = p;
}

static void
http_ready(void)
{
	listen_open();
}

static void
bye_done(void *arg, CURLcode rc, long status, const char *err)
{
	(void)arg;
	(void)status;
	if (rc != CURLE_OK)
		log_debug("%s: DELETE of the session: %s", bridge_name, err);
	bridge_exit(0);
}

/* Stopping: the session is ended with a DELETE (within a second). */
static void
http_stop(void)
{
	struct http_req *r;

	if (H.session[0] == '\0' || (r = http_post(H.url, headers(1), NULL,
	    1000, on_data_none, bye_done, NULL)) == NULL)
		bridge_exit(0);
	http_method(r, "DELETE");
}

/* The URL and the configured headers ("Name: value" lines). */
int
http_open(const char *url, const char *hdrs)
{
	char *copy, *line, *save = NULL;

	if (httpc_init(bridge_loop) == -1) {
		log_warnx("%s: cannot load libcurl", bridge_name);
		return -1;
	}
	if ((H.url = strdup(url)) == NULL)
		fatal("strdup");
	if (hdrs != NULL) {
		if ((copy = strdup(hdrs)) == NULL)
			fatal("strdup");
		for (line = strtok_r(copy, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			if ((H.hdr = reallocarray(H.hdr, (size_t)H.nhdr + 1,
			    sizeof(*H.hdr))) == NULL ||
			    (H.hdr[H.nhdr++] = strdup(line)) == NULL)
				fatal("realloc");
		}
		free(copy);
	}
	ev_prepare_init(&H.drain, drain_cb);
	ev_timer_init(&H.relisten, relisten_cb, 1., 0.);
	bridge_transport = &http_transport;
	log_info("%s: Streamable HTTP at %s", bridge_name, url);
	return 0;
}

const struct transport http_transport = {
	.name = "http",
	.send = http_send,
	.abort = http_abort,
	.ready = http_ready,
	.stop = http_stop,
};
