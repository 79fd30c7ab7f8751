/*
 * mobkit-delivery: makes the deliveries mobkitd hands it (DELIVER), with
 * real retries, and reports every attempt (ATTEMPT).
 *
 * Sinks: webhook (POST of the JSON payload with Idempotency-Key and
 * Content-Type; 2xx is sent; 5xx, time-outs and refused connections are
 * retried; 429 is retried after its Retry-After; other 4xx fail at once),
 * email (SMTP through libcurl, the message built by mail.c from the
 * payload's subject and body; a refused header fails at once) and file
 * (one JSON line appended and fsync'd).  Retries back off from backoff_ms,
 * doubling, up to retry_max.  The records live in mobkitd: a delivery
 * still pending when this process dies is handed over again, with the
 * attempts made so far.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "child.h"
#include "frame.h"
#include "httpc.h"
#include "log.h"
#include "mail.h"
#include "msgtab.h"
#include "proto.h"
#include "timeutil.h"

#define REQUEST_TIMEOUT	10000	/* ms, per attempt */

struct dl {
	struct dl	*next;
	char		 id[48];
	char		*sink, *target, *payload, *key, *smtp_url, *mail_from;
	char		 message_id[320];	/* the same for every attempt */
	int64_t		 retry_max, backoff_ms;
	int		 attempt;	/* attempts made */
	ev_timer	 retry;
	struct http_req	*req;
};

static struct {
	struct ev_loop	*loop;
	struct mkchild	 mk;
	struct dl	*list;
} S;

static void	attempt(struct dl *);

static void
dl_free(struct dl *d)
{
	struct dl **pp;

	for (pp = &S.list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	ev_timer_stop(S.loop, &d->retry);
	if (d->req != NULL)
		http_cancel(d->req);
	free(d->sink);
	free(d->target);
	free(d->payload);
	free(d->key);
	free(d->smtp_url);
	free(d->mail_from);
	free(d);
}

/* Tell mobkitd about an attempt; final ones end the delivery here. */
static void
report(struct dl *d, const char *status, const char *err, int final)
{
	struct msgw w;

	msgw_begin(&w, MSG_ATTEMPT);
	msgw_str(&w, K_DELIVERY_ID, d->id);
	msgw_int(&w, K_ATTEMPT, d->attempt);
	msgw_str(&w, K_STATUS, status);
	msgw_str(&w, K_ERROR, err);
	msgw_int(&w, K_AT_MS, (int64_t)wall_ms());
	msgw_bool(&w, K_FINAL, final);
	if (msgw_send(&w, S.mk.peer, 0) == -1)
		log_warnx("mobkitd's queue is full: attempt %d of %s not "
		    "reported", d->attempt, d->id);
	if (final)
		dl_free(d);
}

static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	attempt(w->data);
}

/* A failed attempt: again after a delay, or the end. */
static void
failed(struct dl *d, const char *err, int retryable, long retry_after_s)
{
	uint64_t delay = (uint64_t)d->backoff_ms;
	int i;

	if (!retryable || d->attempt >= 1 + d->retry_max) {
		report(d, "failed", err, 1);
		return;
	}
	for (i = 1; i < d->attempt && delay < 3600000; i++)
		delay *= 2;
	if (retry_after_s >= 0)
		delay = (uint64_t)retry_after_s * 1000;
	report(d, "failed", err, 0);
	log_info("%s: attempt %d failed (%s); again in %llu ms", d->id,
	    d->attempt, err, (unsigned long long)delay);
	ev_timer_set(&d->retry, (double)delay / 1000.0, 0.);
	ev_timer_start(S.loop, &d->retry);
}

static void
ignore(void *arg, const char *buf, size_t n)
{
	(void)arg;
	(void)buf;
	(void)n;
}

static void
web_done(void *arg, CURLcode rc, long status, const char *err)
{
	struct dl *d = arg;
	char msg[512];

	d->req = NULL;
	if (rc != CURLE_OK) {
		snprintf(msg, sizeof(msg), "curl: %s", err);
		failed(d, msg, 1, -1);
	} else if (status >= 200 && status < 300)
		report(d, "sent", NULL, 1);
	else {
		snprintf(msg, sizeof(msg), "HTTP %ld", status);
		failed(d, msg, status >= 500 || status == 429,
		    status == 429 ? http_retry_after() : -1);
	}
}

static void
mail_done(void *arg, CURLcode rc, long status, const char *err)
{
	struct dl *d = arg;
	char msg[512];

	(void)status;
	d->req = NULL;
	if (rc == CURLE_OK)
		report(d, "sent", NULL, 1);
	else {
		snprintf(msg, sizeof(msg), "smtp: %s", err);
		failed(d, msg, 1, -1);
	}
}

/* One JSON line per delivery, appended and fsync'd. */
static void
file_attempt(struct dl *d)
{
	char *line;
	int fd, n;

	n = asprintf(&line, "{\"delivery_id\":\"%s\",\"key\":\"%s\","
	    "\"at_ms\":%llu,\"payload\":%s}\n", d->id, d->key,
	    (unsigned long long)wall_ms(), d->payload);
	if (n == -1)
		fatal("asprintf");
	if ((fd = open(d->target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1 || write(fd, line, (size_t)n) != n || fsync(fd) == -1) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s: %s", d->target, strerror(errno));
		if (fd != -1)
			close(fd);
		free(line);
		failed(d, msg, 1, -1);
		return;
	}
	close(fd);
	free(line);
	report(d, "sent", NULL, 1);
}

/*
 * The payload's subject and body (or text; else the payload itself) as a
 * message built by mail_build(): a header it refuses (CR or LF in the
 * subject, an address that is not one) fails the delivery at once, and
 * nothing is sent.
 */
static void
mail_attempt(struct dl *d)
{
	json_t *j = json_loads(d->payload, 0, NULL);
	struct mail m;
	char err[512], msg[600], *text;

	memset(&m, 0, sizeof(m));
	m.from = d->mail_from;
	m.to = d->target;
	m.subject = json_string_value(json_object_get(j, "subject"));
	m.body = json_string_value(json_object_get(j, "body"));
	if (m.body == NULL)
		m.body = json_string_value(json_object_get(j, "text"));
	if (m.body == NULL)
		m.body = d->payload;
	m.message_id = d->message_id;
	m.date = time(NULL);
	text = mail_build(&m, err, sizeof(err));
	json_decref(j);
	if (text == NULL) {
		snprintf(msg, sizeof(msg), "email: %s", err);
		log_warnx("%s: %s", d->id, msg);
		failed(d, msg, 0, -1);
		return;
	}
	if (d->smtp_url == NULL) {
		free(text);
		failed(d, "email: no smtp_url", 0, -1);
		return;
	}
	d->req = http_smtp(d->smtp_url, d->mail_from, d->target, text,
	    REQUEST_TIMEOUT, mail_done, d);
	free(text);
	if (d->req == NULL)
		failed(d, "cannot start the SMTP transfer", 1, -1);
}

static void
attempt(struct dl *d)
{
	struct curl_slist *h = NULL;
	char idem[512];

	d->attempt++;
	if (strcmp(d->sink, "file") == 0) {
		file_attempt(d);
		return;
	}
	if (httpc_init(S.loop) == -1) {
		failed(d, "libcurl is not available", 0, -1);
		return;
	}
	if (strcmp(d->sink, "email") == 0) {
		mail_attempt(d);
		return;
	}
	if (strcmp(d->sink, "webhook") != 0) {
		failed(d, "this module has no such sink", 0, -1);
		return;
	}
	snprintf(idem, sizeof(idem), "Idempotency-Key: %s", d->key);
	h = http_header(h, "Content-Type: application/json");
	h = http_header(h, idem);
	d->req = http_post(d->target, h, d->payload, REQUEST_TIMEOUT, ignore,
	    web_done, d);
	if (d->req == NULL)
		failed(d, "cannot start the HTTP request", 1, -1);
}

static void
on_deliver(const struct msg_view *m)
{
	struct dl *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("calloc");
	/* msg_read has checked the required fields and the id's length */
	(void)msgv_copy(m, K_DELIVERY_ID, d->id, sizeof(d->id));
	d->sink = msgv_strdup(m, K_SINK);
	d->target = msgv_strdup(m, K_TARGET);
	d->payload = msgv_strdup(m, K_PAYLOAD);
	d->key = msgv_strdup(m, K_KEY);
	d->retry_max = msgv_int(m, K_RETRY_MAX, 0);
	d->backoff_ms = msgv_int(m, K_BACKOFF_MS, 0);
	d->attempt = (int)msgv_int(m, K_ATTEMPTS_DONE, 0);
	d->smtp_url = msgv_strdup(m, K_SMTP_URL);
	d->mail_from = msgv_strdup(m, K_MAIL_FROM);
	mail_message_id(d->message_id, sizeof(d->message_id), d->id,
	    d->mail_from);
	ev_timer_init(&d->retry, retry_cb, 0., 0.);
	d->retry.data = d;
	d->next = S.list;
	S.list = d;
	attempt(d);
}

static int
on_msg(const struct msg_view *m, void *arg)
{
	(void)arg;
	if (m->type == MSG_DELIVER)
		on_deliver(m);
	return 0;
}

int
main(int argc, char *argv[])
{
	int r;

	if (mkchild_version("mobkit-delivery", argc, argv))
		return 0;
	S.loop = ev_default_loop(0);
	r = mkchild_serve(&S.mk, S.loop, "mobkit-delivery", on_msg, NULL, 1);
	while (S.list != NULL)
		dl_free(S.list);
	return r;
}
