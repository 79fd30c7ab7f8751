/*
 * http.c: libmicrohttpd in its external-polling epoll mode, driven by the
 * gateway's libev loop: MHD's epoll fd is watched by an ev_io, its next
 * timeout is an ev_timer, and MHD_run is called from the loop only.  No
 * thread per connection, no thread at all.
 *
 * A request's life: its body is gathered (past max_body_bytes it is
 * dropped and the answer is 413), then route_dispatch answers at once or
 * starts root calls; then the connection is suspended until the answer
 * comes (hreq_answer resumes it, and MHD calls us again to queue it).  An
 * event stream is a callback response whose reader suspends when it has
 * nothing to give and is woken when it has: the streams given text in a
 * loop turn are resumed together just before MHD runs (sse_resume_due).
 *
 * Invariant: an hreq lives from the first call of its connection to the
 * completion notice; root calls still in flight then are cancelled.
 */
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "gateway.h"

#define CONN_LIMIT	4096	/* at most; less when the fd limit is lower */
#define FDS_SPARE	64	/* fds kept for the rest of the process */
#define CONN_MEMORY	(16 * 1024)	/* headers and the read buffer */
#define CONN_TIMEOUT	120		/* seconds idle */

static LIST_HEAD(, hreq) hreqs = LIST_HEAD_INITIALIZER(hreqs);
static struct MHD_Daemon *daemon_;
static ev_io	 mhd_io;
static ev_timer	 mhd_timer;
static ev_idle	 mhd_idle;
static char	*tls_cert, *tls_key;

/* Resume the streams that have text, run MHD now, then arm the timer for
 * its next deadline. */
static void
mhd_turn(void)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (daemon_ == NULL)
		return;
	sse_resume_due();
	MHD_run(daemon_);
	ev_timer_stop(gw_loop, &mhd_timer);
	if (MHD_get_timeout(daemon_, &ms) == MHD_YES) {
		ev_timer_set(&mhd_timer, (double)ms / 1000.0, 0.);
		ev_timer_start(gw_loop, &mhd_timer);
	}
}

static void
mhd_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	mhd_turn();
}

static void
mhd_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	mhd_turn();
}

static void
mhd_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)revents;
	ev_idle_stop(loop, w);
	mhd_turn();
}

/* A connection was resumed: let MHD see it on the next loop turn. */
void
http_kick(void)
{
	ev_idle_start(gw_loop, &mhd_idle);
}

const char *
hreq_header(struct hreq *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
hreq_query(struct hreq *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

/* Wake a suspended connection: its answer or stream data is there. */
void
hreq_wake(struct hreq *r)
{
	if (r->gone || !r->suspended)
		return;
	r->suspended = 0;
	MHD_resume_connection(r->conn);
	http_kick();
}

/* The answer to r (body taken over); queued when MHD calls us next. */
void
hreq_answer(struct hreq *r, unsigned status, const char *ctype, char *body,
    size_t len)
{
	if (r->status != 0 || r->gone) {
		free(body);
		return;
	}
	r->status = status;
	r->ctype = ctype;
	r->out = body;
	r->outlen = len;
	hreq_wake(r);
}

void
hreq_json(struct hreq *r, unsigned status, json_t *j)
{
	size_t len;
	char *s = json_text(j, &len);

	json_decref(j);
	hreq_answer(r, status, "application/json", s, len);
}

void
hreq_error(struct hreq *r, unsigned status, const char *msg)
{
	hreq_json(r, status, error_body(error_code(status), msg));
}

/* The event-stream reader: what the stream has, or suspend until woken. */
static ssize_t
stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct hreq *r = cls;
	ssize_t n;

	(void)pos;
	if ((n = sse_read(r, buf, max)) > 0)
		return n;
	if (n < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	r->suspended = 1;
	MHD_suspend_connection(r->conn);
	return 0;
}

/* One more response header for r (the doors, the console). */
void
hreq_header_add(struct hreq *r, const char *name, const char *value)
{
	size_t o = r->headers ? strlen(r->headers) : 0;
	size_t n = strlen(name) + strlen(value) + 3;

	if ((r->headers = realloc(r->headers, o + n + 1)) == NULL)
		fatal("realloc");
	snprintf(r->headers + o, n + 1, "%s: %s\n", name, value);
}

/* Add r->headers' "Name: value" lines to a response. */
static void
headers_add(struct MHD_Response *resp, const char *h)
{
	char line[1024], *v;
	const char *e;

	for (; h != NULL && *h != '\0'; h = e + 1) {
		if ((e = strchr(h, '\n')) == NULL)
			return;
		if ((size_t)(e - h) >= sizeof(line))
			continue;
		memcpy(line, h, (size_t)(e - h));
		line[e - h] = '\0';
		if ((v = strstr(line, ": ")) == NULL)
			continue;
		*v = '\0';
		MHD_add_response_header(resp, line, v + 2);
	}
}

/* Queue r's answer (a body, or the event stream). */
static enum MHD_Result
queue_answer(struct hreq *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->sse != NULL && r->status == 0) {
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
		    4096, stream_reader, r, NULL);
		MHD_add_response_header(resp, "Content-Type",
		    "text/event-stream");
		MHD_add_response_header(resp, "Cache-Control", "no-cache");
		MHD_add_response_header(resp, "X-Accel-Buffering", "no");
		r->status = MHD_HTTP_OK;
	} else {
		resp = MHD_create_response_from_buffer(r->outlen, r->out,
		    MHD_RESPMEM_MUST_FREE);
		r->out = NULL;
		MHD_add_response_header(resp, "Content-Type", r->ctype ?
		    r->ctype : "application/json");
	}
	if (r->www_auth)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
	if (r->allow != NULL)
		MHD_add_response_header(resp, "Allow", r->allow);
	headers_add(resp, r->headers);
	r->answered = 1;
	ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Gather the body, bounded by max_body_bytes. */
static void
body_add(struct hreq *r, const char *data, size_t n)
{
	char *nb;

	if (r->too_large || r->blen + n > GS.max_body_bytes) {
		r->too_large = 1;
		return;
	}
	if ((nb = realloc(r->body, r->blen + n + 1)) == NULL)
		fatal("realloc");
	r->body = nb;
	memcpy(r->body + r->blen, data, n);
	r->blen += n;
	r->body[r->blen] = '\0';
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct hreq *r = *con_cls;

	(void)cls;
	(void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL ||
		    (r->path = strdup(url)) == NULL)
			fatal("calloc");
		r->conn = conn;
		snprintf(r->method, sizeof(r->method), "%s", method);
		LIST_INSERT_HEAD(&hreqs, r, link);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		body_add(r, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->answered)
		return MHD_YES;
	if (r->status != 0)
		return queue_answer(r);
	if (r->too_large)
		hreq_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger "
		    "than max_body_bytes");
	else
		route_dispatch(r);
	if (r->status != 0 || r->sse != NULL)
		return queue_answer(r);
	r->suspended = 1;
	MHD_suspend_connection(conn);
	return MHD_YES;
}

/* The connection is done with r: cancel its calls, free it. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct hreq *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	LIST_REMOVE(r, link);
	r->gone = 1;
	if (r->rid != 0)
		root_cancel(r->rid);
	if (r->rid2 != 0)
		root_cancel(r->rid2);
	if (r->sse != NULL)
		sse_free(r->sse);
	if (r->ctx_free != NULL)
		r->ctx_free(r->ctx);
	free(r->path);
	free(r->body);
	free(r->out);
	free(r->headers);
	free(r);
	*con_cls = NULL;
}

/* A whole small file, for the TLS keys. */
static char *
slurp(const char *path)
{
	FILE *fp;
	char *buf;
	long n;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == -1 || (n = ftell(fp)) < 0 ||
	    n > 1 << 20 || fseek(fp, 0, SEEK_SET) == -1 ||
	    (buf = calloc(1, (size_t)n + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	return buf;
}

/* HOST:PORT or [V6]:PORT into a socket address. */
static int
listen_addr(const char *s, struct sockaddr_storage *ss, int *v6)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[128];
	const char *colon, *h = s, *he;
	int port;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		if ((he = strchr(s, ']')) == NULL || he[1] != ':')
			return -1;
		h = s + 1;
		colon = he + 1;
	} else if ((colon = he = strrchr(s, ':')) == NULL)
		return -1;
	if ((size_t)(he - h) >= sizeof(host))
		return -1;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	port = atoi(colon + 1);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*v6 = 0;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*v6 = 1;
		return 0;
	}
	return -1;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug("http: %s", buf);
}

/*
 * Raise the soft fd limit toward CONN_LIMIT (as far as the hard one
 * allows): the connections MHD may hold.
 */
static unsigned
conn_limit(void)
{
	struct rlimit rl;
	rlim_t want = CONN_LIMIT + FDS_SPARE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 1024 - FDS_SPARE;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max <
		    want ? rl.rlim_max : want;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < 2 * FDS_SPARE)
		return FDS_SPARE;
	return rl.rlim_cur - FDS_SPARE < CONN_LIMIT ?
	    (unsigned)(rl.rlim_cur - FDS_SPARE) : CONN_LIMIT;
}

/* Listen and serve from the loop: 0, or -1 logged. */
int
http_start(void)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG;
	int v6;

	if (listen_addr(GS.listen, &ss, &v6) == -1) {
		log_warnx("listen: \"%s\" is not HOST:PORT", GS.listen);
		return -1;
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	if (GS.tls_cert_file != NULL && GS.tls_key_file != NULL) {
		if ((tls_cert = slurp(GS.tls_cert_file)) == NULL ||
		    (tls_key = slurp(GS.tls_key_file)) == NULL) {
			log_warn("cannot read %s or %s", GS.tls_cert_file,
			    GS.tls_key_file);
			return -1;
		}
		flags |= MHD_USE_TLS;
	}
	daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, conn_limit(),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, tls_cert,
	    MHD_OPTION_HTTPS_MEM_KEY, tls_key,
	    MHD_OPTION_END);
	if (daemon_ == NULL) {
		log_warnx("cannot listen on %s%s", GS.listen, tls_cert ?
		    " (TLS)" : "");
		return -1;
	}
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD);
	ev_io_init(&mhd_io, mhd_io_cb, info->epoll_fd, EV_READ);
	ev_io_start(gw_loop, &mhd_io);
	ev_timer_init(&mhd_timer, mhd_timer_cb, 0., 0.);
	ev_idle_init(&mhd_idle, mhd_idle_cb);
	log_info("listening on %s%s", GS.listen, tls_cert ? " (TLS)" : "");
	mhd_turn();
	return 0;
}

/* Close every connection (resumed first, as MHD wants) and the daemon. */
void
http_stop(void)
{
	struct hreq *r;

	if (daemon_ == NULL)
		return;
	ev_io_stop(gw_loop, &mhd_io);
	ev_timer_stop(gw_loop, &mhd_timer);
	ev_idle_stop(gw_loop, &mhd_idle);
	LIST_FOREACH(r, &hreqs, link)
		if (r->suspended) {
			r->suspended = 0;
			MHD_resume_connection(r->conn);
		}
	MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	free(tls_cert);
	free(tls_key);
}
