/*
 * httpc.c: curl multi on libev, after curl's evhiperfifo example.
 *
 * libcurl is loaded with dlopen on first use: a process that never speaks
 * HTTP (an echo member) never maps libcurl and the TLS stack behind it,
 * which is most of a worker's start-up time and memory.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpc.h"
#include "log.h"

static struct curlfn {
	CURLcode	 (*global_init)(long);
	CURLM		*(*multi_init)(void);
	CURLMcode	 (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode	 (*multi_socket_action)(CURLM *, curl_socket_t, int,
			    int *);
	CURLMsg		*(*multi_info_read)(CURLM *, int *);
	CURLMcode	 (*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMcode	 (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode	 (*multi_remove_handle)(CURLM *, CURL *);
	CURL		*(*easy_init)(void);
	CURLcode	 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	 (*easy_getinfo)(CURL *, CURLINFO, ...);
	void		 (*easy_cleanup)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		 (*slist_free_all)(struct curl_slist *);
} C;

static const struct {
	const char	*name;
	size_t		 off;
} syms[] = {
#define S(n, f)	{ n, offsetof(struct curlfn, f) }
	S("curl_global_init", global_init),
	S("curl_multi_init", multi_init),
	S("curl_multi_setopt", multi_setopt),
	S("curl_multi_socket_action", multi_socket_action),
	S("curl_multi_info_read", multi_info_read),
	S("curl_multi_assign", multi_assign),
	S("curl_multi_add_handle", multi_add_handle),
	S("curl_multi_remove_handle", multi_remove_handle),
	S("curl_easy_init", easy_init),
	S("curl_easy_setopt", easy_setopt),
	S("curl_easy_getinfo", easy_getinfo),
	S("curl_easy_cleanup", easy_cleanup),
	S("curl_easy_strerror", easy_strerror),
	S("curl_slist_append", slist_append),
	S("curl_slist_free_all", slist_free_all),
#undef S
};

#define curl_global_init	C.global_init
#define curl_multi_init		C.multi_init
#undef curl_multi_setopt
#define curl_multi_setopt	C.multi_setopt
#define curl_multi_socket_action C.multi_socket_action
#define curl_multi_info_read	C.multi_info_read
#define curl_multi_assign	C.multi_assign
#define curl_multi_add_handle	C.multi_add_handle
#define curl_multi_remove_handle C.multi_remove_handle
#define curl_easy_init		C.easy_init
#undef curl_easy_setopt
#define curl_easy_setopt	C.easy_setopt
#undef curl_easy_getinfo
#define curl_easy_getinfo	C.easy_getinfo
#define curl_easy_cleanup	C.easy_cleanup
#define curl_easy_strerror	C.easy_strerror
#define curl_slist_append	C.slist_append
#define curl_slist_free_all	C.slist_free_all

static void	*libcurl;

/* Load libcurl and find what we use of it. */
static int
load_curl(void)
{
	size_t i;
	void *f;

	if (libcurl != NULL)
		return 0;
	if ((libcurl = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_warnx("cannot load libcurl: %s", dlerror());
		return -1;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if ((f = dlsym(libcurl, syms[i].name)) == NULL) {
			log_warnx("libcurl has no %s", syms[i].name);
			return -1;
		}
		memcpy((char *)&C + syms[i].off, &f, sizeof(f));
	}
	return 0;
}

struct http_req {
	CURL			*easy;
	struct curl_slist	*headers;
	char			*body;
	http_data_cb		 on_data;
	http_done_cb		 on_done;
	http_header_cb		 on_header;
	void			*arg;
	char			 err[CURL_ERROR_SIZE];
	long			 retry_after;
	struct curl_slist	*rcpt;
	size_t			 sent;		/* of body, for uploads */
};

static long	 done_retry_after = -1;

struct sockw {
	ev_io		 io;
	curl_socket_t	 fd;
};

static struct ev_loop	*loop;
static CURLM		*multi;
static ev_timer		 mtimer;
static int		 running;

static void
check_done(void)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(multi, &left)) != NULL) {
		struct http_req *r;
		long status = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE,
		    &status);
		curl_multi_remove_handle(multi, r->easy);
		done_retry_after = r->retry_after;
		r->on_done(r->arg, m->data.result, status, r->err[0] ? r->err :
		    curl_easy_strerror(m->data.result));
		done_retry_after = -1;
		curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->headers);
		curl_slist_free_all(r->rcpt);
		free(r->body);
		free(r);
	}
}

static void
io_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct sockw *s = w->data;
	int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
	    (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);

	(void)l;
	curl_multi_socket_action(multi, s->fd, action, &running);
	check_done();
}

static void
timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done();
}

/* curl tells us what to watch on a socket. */
static int
sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct sockw *s = sockp;
	int kind;

	(void)e;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			ev_io_stop(loop, &s->io);
			free(s);
		}
		return 0;
	}
	kind = (what & CURL_POLL_IN ? EV_READ : 0) |
	    (what & CURL_POLL_OUT ? EV_WRITE : 0);
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;
		s->fd = fd;
		curl_multi_assign(multi, fd, s);
	} else
		ev_io_stop(loop, &s->io);
	ev_io_init(&s->io, io_cb, fd, kind);
	s->io.data = s;
	ev_io_start(loop, &s->io);
	return 0;
}

/* curl asks for a timeout (milliseconds; -1 = none). */
static int
mtimer_cb(CURLM *m, long ms, void *userp)
{
	(void)m;
	(void)userp;
	ev_timer_stop(loop, &mtimer);
	if (ms >= 0) {
		ev_timer_set(&mtimer, (double)ms / 1000.0, 0.);
		ev_timer_start(loop, &mtimer);
	}
	return 0;
}

/* Ready the multi handle on this loop; loads libcurl the first time. */
int
httpc_init(struct ev_loop *l)
{
	if (multi != NULL)
		return 0;
	loop = l;
	if (load_curl() == -1 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (multi = curl_multi_init()) == NULL)
		return -1;
	ev_timer_init(&mtimer, timer_cb, 0., 0.);
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, mtimer_cb);
	/* keep idle keep-alive connections: the default pool follows the
	 * handles in flight, so finished requests would close them */
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 64L);
	return 0;
}

long
http_retry_after(void)
{
	return done_retry_after;
}

/* Response headers: Retry-After (in seconds) kept, all handed on. */
static size_t
header_cb(char *ptr, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(ptr, "Retry-After:", 12) == 0)
		r->retry_after = strtol(ptr + 12, NULL, 10);
	if (r->on_header != NULL)
		r->on_header(r->arg, ptr, len);
	return len;
}

/* r's method in place of POST or GET (a static string). */
void
http_method(struct http_req *r, const char *method)
{
	curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
}

/* Response headers of r go to cb too (set before the loop runs again). */
void
http_on_header(struct http_req *r, http_header_cb cb)
{
	r->on_header = cb;
}

static size_t
write_cb(char *ptr, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;

	r->on_data(r->arg, ptr, size * n);
	return size * n;
}

/* POST body to url (body NULL: GET); the callbacks are called from the
 * loop. */
struct http_req *
http_post(const char *url, struct curl_slist *headers, const char *body,
    long timeout_ms, http_data_cb on_data, http_done_cb on_done, void *arg)
{
	struct http_opts o;

	memset(&o, 0, sizeof(o));
	o.url = url;
	o.headers = headers;
	o.body = body;
	o.connect_timeout_ms = timeout_ms < 10000 ? timeout_ms : 10000L;
	o.timeout_ms = timeout_ms;
	o.on_data = on_data;
	o.on_done = on_done;
	o.arg = arg;
	return http_request(&o);
}

/* A POST (a GET when o->body is NULL) with every option of http_opts. */
struct http_req *
http_request(const struct http_opts *o)
{
	struct http_req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->body = strdup(o->body != NULL ? o->body : "")) == NULL ||
	    (r->easy = curl_easy_init()) == NULL) {
		if (r != NULL)
			free(r->body);
		free(r);
		curl_slist_free_all(o->headers);
		return NULL;
	}
	r->headers = o->headers;
	r->retry_after = -1;
	r->on_data = o->on_data;
	r->on_done = o->on_done;
	r->on_header = o->on_header;
	r->arg = o->arg;
	curl_easy_setopt(r->easy, CURLOPT_URL, o->url);
	if (o->body != NULL)
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
	else
		curl_easy_setopt(r->easy, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->err);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	if (o->connect_timeout_ms > 0)
		curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS,
		    o->connect_timeout_ms);
	if (curl_multi_add_handle(multi, r->easy) != CURLM_OK) {
		curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->headers);
		free(r->body);
		free(r);
		return NULL;
	}
	return r;
}

static void
ignore_data(void *arg, const char *buf, size_t n)
{
	(void)arg;
	(void)buf;
	(void)n;
}

static size_t
read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	size_t left = strlen(r->body) - r->sent, want = size * n;

	if (want > left)
		want = left;
	memcpy(buf, r->body + r->sent, want);
	r->sent += want;
	return want;
}

struct http_req *
http_smtp(const char *url, const char *from, const char *rcpt,
    const char *message, long timeout_ms, http_done_cb on_done, void *arg)
{
	struct http_req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->body = strdup(message)) == NULL ||
	    (r->easy = curl_easy_init()) == NULL) {
		if (r != NULL)
			free(r->body);
		free(r);
		return NULL;
	}
	r->retry_after = -1;
	r->on_data = ignore_data;
	r->on_done = on_done;
	r->arg = arg;
	r->rcpt = curl_slist_append(NULL, rcpt);
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(r->easy, CURLOPT_MAIL_RCPT, r->rcpt);
	curl_easy_setopt(r->easy, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(r->easy, CURLOPT_READDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->err);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (curl_multi_add_handle(multi, r->easy) != CURLM_OK) {
		curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->rcpt);
		free(r->body);
		free(r);
		return NULL;
	}
	return r;
}

struct curl_slist *
http_header(struct curl_slist *l, const char *h)
{
	return curl_slist_append(l, h);
}

void
http_header_free(struct curl_slist *l)
{
	if (l != NULL)
		curl_slist_free_all(l);
}

/* Abandon a request now; its callbacks will not be called. */
void
http_cancel(struct http_req *r)
{
	curl_multi_remove_handle(multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	curl_slist_free_all(r->rcpt);
	free(r->body);
	free(r);
}
