/*
 * fuzz_httpc.c: httpc.h without the network.  A request waits in a table
 * until the target answers it (fuzz_http_answer) with bytes it chose, so
 * the worker's stream parser and the delivery sinks see any response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "httpc.h"

#define MAX_REQ	16

struct http_req {
	http_data_cb	 on_data;
	http_done_cb	 on_done;
	http_header_cb	 on_header;
	void		*arg;
	int		 live;
};

static struct http_req	*reqs[MAX_REQ];
static unsigned		 serials[MAX_REQ], next_serial;

int
httpc_init(struct ev_loop *l)
{
	(void)l;
	return 0;
}

static struct http_req *
req_new(http_data_cb on_data, http_done_cb on_done, void *arg)
{
	struct http_req *r;
	int i;

	for (i = 0; i < MAX_REQ; i++)
		if (reqs[i] == NULL)
			break;
	if (i == MAX_REQ || (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->on_data = on_data;
	r->on_done = on_done;
	r->arg = arg;
	r->live = 1;
	reqs[i] = r;
	serials[i] = ++next_serial;
	return r;
}

struct http_req *
http_post(const char *url, struct curl_slist *headers, const char *body,
    long timeout_ms, http_data_cb on_data, http_done_cb on_done, void *arg)
{
	(void)headers;
	(void)timeout_ms;
	FUZZ_ASSERT(url != NULL && body != NULL);
	return req_new(on_data, on_done, arg);
}

struct http_req *
http_request(const struct http_opts *o)
{
	struct http_req *r;

	FUZZ_ASSERT(o->url != NULL && o->body != NULL);
	if ((r = req_new(o->on_data, o->on_done, o->arg)) != NULL)
		r->on_header = o->on_header;
	return r;
}

void
http_header_free(struct curl_slist *l)
{
	(void)l;
}

struct http_req *
http_smtp(const char *url, const char *from, const char *rcpt,
    const char *message, long timeout_ms, http_done_cb on_done, void *arg)
{
	(void)url;
	(void)from;
	(void)rcpt;
	(void)timeout_ms;
	FUZZ_ASSERT(message != NULL);
	return req_new(NULL, on_done, arg);
}

long
http_retry_after(void)
{
	return 2;
}

struct curl_slist *
http_header(struct curl_slist *l, const char *h)
{
	(void)h;
	return l;
}

void
http_cancel(struct http_req *r)
{
	int i;

	for (i = 0; i < MAX_REQ; i++)
		if (reqs[i] == r) {
			reqs[i] = NULL;
			free(r);
			return;
		}
	fuzz_fail("http_cancel of a request that is not pending");
}

int
fuzz_http_pending(void)
{
	int i, n = 0;

	for (i = 0; i < MAX_REQ; i++)
		n += reqs[i] != NULL;
	return n;
}

/* The i-th pending request (modulo their number), or -1. */
static int
slot_of(int i)
{
	int n = fuzz_http_pending(), k;

	if (n == 0)
		return -1;
	i %= n;
	for (k = 0; k < MAX_REQ; k++)
		if (reqs[k] != NULL && i-- == 0)
			return k;
	return -1;
}

/* The status line and Content-Type: an event stream unless it is JSON. */
static void
headers(struct http_req *r, const char *body, size_t len, long status)
{
	char line[64];
	const char *ct = len > 0 && body[0] == '{' ?
	    "Content-Type: application/json\r\n" :
	    "Content-Type: text/event-stream\r\n";

	snprintf(line, sizeof(line), "HTTP/1.1 %ld X\r\n", status);
	r->on_header(r->arg, line, strlen(line));
	r->on_header(r->arg, ct, strlen(ct));
	if (status == 429)
		r->on_header(r->arg, "Retry-After: 2\r\n", 15);
}

void
fuzz_http_answer(int i, const char *body, size_t len, long status,
    int curl_rc, unsigned chunk)
{
	struct http_req *r;
	size_t off = 0, n;
	unsigned serial;
	int k;

	if ((k = slot_of(i)) == -1)
		return;
	r = reqs[k];
	serial = serials[k];
	if (chunk == 0)
		chunk = 1;
	if (r->on_header != NULL)
		headers(r, body, len, status);
	while (off < len && r->on_data != NULL) {
		n = len - off < chunk ? len - off : chunk;
		r->on_data(r->arg, body + off, n);
		if (reqs[k] == NULL || serials[k] != serial)
			return;		/* cancelled by its owner meanwhile */
		off += n;
		chunk = chunk * 7 % 61 + 1;	/* vary the cut points */
	}
	reqs[k] = NULL;		/* the callback may start another one */
	r->on_done(r->arg, curl_rc ? CURLE_COULDNT_CONNECT : CURLE_OK,
	    status, curl_rc ? "Could not connect" : "");
	free(r);
}

/* Forget requests whose owners are gone (between inputs). */
void
fuzz_http_reset(void)
{
	int i;

	for (i = 0; i < MAX_REQ; i++) {
		free(reqs[i]);
		reqs[i] = NULL;
	}
}
