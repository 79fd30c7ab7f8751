/*
 * httpc.h: HTTP requests through the curl multi interface, driven by the
 * process's libev loop (curl_multi_socket_action; nothing blocks).
 */
#ifndef MOBKIT_HTTPC_H
#define MOBKIT_HTTPC_H

#include <curl/curl.h>
#include <ev.h>

struct http_req;
/* A piece of the response body, as it arrives. */
typedef void (*http_data_cb)(void *arg, const char *buf, size_t n);
/* The end: rc is the curl result, status the HTTP status (0 if none). */
typedef void (*http_done_cb)(void *arg, CURLcode rc, long status,
	    const char *err);

/* One raw response header line (status lines included), as it arrives. */
typedef void (*http_header_cb)(void *arg, const char *line, size_t n);

/* A request with every option; http_post is its short form. */
struct http_opts {
	const char		*url;
	struct curl_slist	*headers;	/* taken over */
	const char		*body;		/* copied; NULL: a GET */
	long			 connect_timeout_ms;	/* 0: curl's own */
	long			 timeout_ms;	/* the whole request, 0: none */
	http_data_cb		 on_data;
	http_done_cb		 on_done;
	http_header_cb		 on_header;	/* optional */
	void			*arg;
};

int		 httpc_init(struct ev_loop *);	/* loads libcurl */
struct http_req	*http_request(const struct http_opts *);
/* POST body to url; a NULL body makes it a GET. */
struct http_req	*http_post(const char *url, struct curl_slist *headers,
		    const char *body, long timeout_ms, http_data_cb,
		    http_done_cb, void *arg);
void		 http_cancel(struct http_req *);
/* Within a done callback: the Retry-After of that response (s), or -1. */
long		 http_retry_after(void);
/* Send one mail over SMTP: message holds the headers and the body. */
struct http_req	*http_smtp(const char *url, const char *from, const char *rcpt,
		    const char *message, long timeout_ms, http_done_cb,
		    void *arg);
struct curl_slist *http_header(struct curl_slist *, const char *);
void		 http_header_free(struct curl_slist *);
/* Every response header line of r, as it arrives, to cb (its arg). */
void		 http_on_header(struct http_req *, http_header_cb);
/* Make r's method this one ("DELETE"), before the loop runs again. */
void		 http_method(struct http_req *, const char *);

#endif
