/*
 * mail.c: build an email message for SMTP.
 *
 * header() is the only way a header is written: it refuses CR and LF in a
 * value, so nothing a payload holds can add a header or end the headers.
 * A subject that is not plain ASCII (or cannot be folded) is encoded per
 * RFC 2047: B-encoded words of whole UTF-8 characters, at most 64
 * characters each, one per folded line, every line at most 76 characters.
 * The body goes as it is (7bit) only when every line is short printable
 * ASCII; otherwise it is quoted-printable, or base64 when most of it would
 * need escaping.  Lines are encoded, never cut.
 */
#include <sys/random.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mail.h"

#define PLAIN_LINE	76	/* the longest body line sent as it is */
#define QP_LINE		76	/* the longest quoted-printable line */
#define B64_LINE	76	/* the longest base64 body line */
#define WORD_BYTES	39	/* text per encoded-word: 52 base64 chars */
#define FOLD_AT		78	/* where a plain header is folded */
#define RUN_MAX		66	/* a longer unbroken run cannot be folded */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of n bytes, CRLF every linelen characters (0: one line). */
char *
mail_base64(const void *src, size_t n, size_t linelen)
{
	const unsigned char *s = src;
	size_t i, col = 0, cap;
	char *out, *o;
	uint32_t v;

	cap = (n + 2) / 3 * 4;
	if (linelen > 0)
		cap += (cap / linelen + 1) * 2;
	if ((out = malloc(cap + 1)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		if (linelen > 0 && col + 4 > linelen) {
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
		}
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
		col += 4;
	}
	*o = '\0';
	return out;
}

/* One line of text, quoted-printable, with soft breaks at QP_LINE. */
static void
qp_line(FILE *fp, const unsigned char *s, size_t len)
{
	size_t i, col = 0, n, room;
	int lit;

	for (i = 0; i < len; i++) {
		lit = (s[i] >= 33 && s[i] <= 126 && s[i] != '=') ||
		    ((s[i] == ' ' || s[i] == '\t') && i + 1 < len);
		n = lit ? 1 : 3;
		room = i + 1 < len ? QP_LINE - 1 : QP_LINE;	/* for "=" */
		if (col + n > room) {
			fputs("=\r\n", fp);
			col = 0;
		}
		if (lit)
			fputc(s[i], fp);
		else
			fprintf(fp, "=%02X", s[i]);
		col += n;
	}
}

/* The next line of s: its length without LF or CRLF; *next past them. */
static size_t
next_line(const char *s, const char **next)
{
	const char *nl = strchr(s, '\n');
	size_t len;

	if (nl == NULL) {
		*next = NULL;
		return strlen(s);
	}
	*next = nl + 1;
	len = (size_t)(nl - s);
	if (len > 0 && s[len - 1] == '\r')
		len--;
	return len;
}

/* Close a memory stream; its buffer, or NULL if it failed. */
static char *
stream_done(FILE *fp, char **bufp)
{
	int bad = ferror(fp);

	if (fclose(fp) != 0 || bad) {
		free(*bufp);
		*bufp = NULL;
	}
	return *bufp;
}

/* Quoted-printable of a text whose lines end in LF or CRLF. */
char *
mail_qp(const char *text)
{
	const char *p, *next;
	char *buf = NULL;
	size_t sz, len;
	FILE *fp;

	if ((fp = open_memstream(&buf, &sz)) == NULL)
		return NULL;
	for (p = text; p != NULL; p = next) {
		len = next_line(p, &next);
		qp_line(fp, (const unsigned char *)p, len);
		if (next != NULL)
			fputs("\r\n", fp);
	}
	return stream_done(fp, &buf);
}

/* The text with every line ending in CRLF (LF alone becomes CRLF). */
static char *
crlf(const char *text)
{
	const char *p, *next;
	char *buf = NULL;
	size_t sz, len;
	FILE *fp;

	if ((fp = open_memstream(&buf, &sz)) == NULL)
		return NULL;
	for (p = text; p != NULL; p = next) {
		len = next_line(p, &next);
		fwrite(p, 1, len, fp);
		if (next != NULL)
			fputs("\r\n", fp);
	}
	return stream_done(fp, &buf);
}

/* Can the body go as it is: printable ASCII, lines of PLAIN_LINE at most? */
static int
body_is_plain(const char *s)
{
	size_t col = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n') {
			col = 0;
			continue;
		}
		if (c == '\r' && s[1] == '\n')
			continue;
		if ((c < 32 && c != '\t') || c >= 127 || ++col > PLAIN_LINE)
			return 0;
	}
	return 1;
}

/* The Content-Transfer-Encoding a body needs. */
static const char *
body_encoding(const char *s)
{
	size_t n = 0, esc = 0;

	if (body_is_plain(s))
		return "7bit";
	for (; *s != '\0'; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 127 || c == '=' ||
		    (c < 32 && c != '\t' && c != '\r' && c != '\n'))
			esc++;
	}
	return esc * 6 > n ? "base64" : "quoted-printable";
}

/* The body encoded as enc says, lines ending in CRLF. */
static char *
body_encode(const char *body, const char *enc)
{
	char *t, *out;

	if (strcmp(enc, "quoted-printable") == 0)
		return mail_qp(body);
	if ((t = crlf(body)) == NULL || strcmp(enc, "base64") != 0)
		return t;
	out = mail_base64(t, strlen(t), B64_LINE);
	free(t);
	return out;
}

/*
 * Does a text header value need RFC 2047: bytes that are not printable
 * ASCII, "=?" (which would read as an encoded-word), or a run of blanks
 * or non-blanks too long to fold?
 */
static int
needs_encoding(const char *s)
{
	size_t run = 0;
	int blank, was = -1;

	if (strstr(s, "=?") != NULL)
		return 1;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 127 || (c < 32 && c != '\t'))
			return 1;
		blank = c == ' ' || c == '\t';
		run = blank == was ? run + 1 : 1;
		was = blank;
		if (run > RUN_MAX)
			return 1;
	}
	return 0;
}

/* "Name: value", folded before a blank where a line would pass FOLD_AT. */
static void
write_folded(FILE *fp, const char *name, const char *v)
{
	size_t col, seg;
	int blank;

	fprintf(fp, "%s: ", name);
	col = strlen(name) + 2;
	while (*v != '\0') {
		blank = *v == ' ' || *v == '\t';
		seg = (size_t)blank + strcspn(v + blank, " \t");
		if (blank && seg > 1 && col + seg > FOLD_AT &&
		    col > strlen(name) + 2) {
			fputs("\r\n", fp);
			col = 0;
		}
		fwrite(v, 1, seg, fp);
		col += seg;
		v += seg;
	}
	fputs("\r\n", fp);
}

/* "Name: =?UTF-8?B?...?=", one encoded-word of whole characters a line. */
static int
write_encoded(FILE *fp, const char *name, const char *v)
{
	size_t len = strlen(v), n;
	char *w;

	fprintf(fp, "%s:", name);
	while (len > 0) {
		n = len < WORD_BYTES ? len : WORD_BYTES;
		while (n > 0 && n < len && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;		/* not inside a UTF-8 sequence */
		if (n == 0)
			n = len < WORD_BYTES ? len : WORD_BYTES;
		if ((w = mail_base64(v, n, 0)) == NULL)
			return -1;
		fprintf(fp, " =?UTF-8?B?%s?=%s", w, len > n ? "\r\n" : "");
		free(w);
		v += n;
		len -= n;
	}
	fputs("\r\n", fp);
	return 0;
}

/* A value fit to quote in an error: CR, LF and other controls escaped. */
static const char *
shown(const char *s, char *buf, size_t sz)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < sz; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 32 && c != 127)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, sz - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

/*
 * The one way a header is written: a value with CR or LF is refused.
 * A text header (the subject) is folded, or RFC 2047 encoded.
 */
static int
header(FILE *fp, const char *name, const char *value, int text, char *err,
    size_t errsz)
{
	char v[128];

	if (strpbrk(value, "\r\n") != NULL) {
		snprintf(err, errsz, "%s: CR or LF in a header value (\"%s\"): "
		    "refused, nothing sent", name, shown(value, v, sizeof(v)));
		return -1;
	}
	if (!text)
		fprintf(fp, "%s: %s\r\n", name, value);
	else if (!needs_encoding(value))
		write_folded(fp, name, value);
	else if (write_encoded(fp, name, value) == -1) {
		snprintf(err, errsz, "%s: out of memory", name);
		return -1;
	}
	return 0;
}

/* Is s a domain: dot-separated labels of letters, digits and '-'? */
static int
domain_ok(const char *s)
{
	const char *label = s, *p;

	if (strlen(s) > 253)
		return 0;
	for (p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || p - label > 63 || *label == '-' ||
			    p[-1] == '-')
				return 0;
			if (*p == '\0')
				return 1;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
	}
}

/* NULL when addr is a plain address (local@domain), else what is wrong. */
const char *
mail_addr_check(const char *a)
{
	const char *at, *p;

	if (a == NULL || *a == '\0')
		return "empty";
	if (strpbrk(a, "\r\n") != NULL)
		return "holds CR or LF";
	if (strlen(a) > 254)
		return "longer than 254 characters";
	if ((at = strchr(a, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return "not of the form local@domain";
	if (at == a || at - a > 64)
		return "the part before @ must have 1 to 64 characters";
	for (p = a; p < at; p++)
		if (!isalnum((unsigned char)*p) &&
		    strchr("!#$%&'*+-/=?^_`{|}~.", *p) == NULL)
			return "a character that has no place in an address "
			    "(<, >, quotes, blanks, controls, non-ASCII ...)";
	if (*a == '.' || at[-1] == '.' || memmem(a, (size_t)(at - a), "..",
	    2) != NULL)
		return "a dot at the start, at the end or twice in a row "
		    "before @";
	if (!domain_ok(at + 1))
		return "the part after @ is not a domain";
	return NULL;
}

/* "<mobkit.TAG.RANDOM@DOMAIN>", DOMAIN that of from, else the host's. */
void
mail_message_id(char *buf, size_t sz, const char *tag, const char *from)
{
	unsigned long long rnd;
	char host[256], t[64];
	const char *dom = "localhost";
	size_t i, j = 0;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = ((unsigned long long)time(NULL) << 20) ^
		    (unsigned long long)getpid() ^ (unsigned long long)clock();
	for (i = 0; tag != NULL && tag[i] != '\0' && j < sizeof(t) - 1; i++)
		if (isalnum((unsigned char)tag[i]) || tag[i] == '-' ||
		    tag[i] == '_')
			t[j++] = tag[i];
	t[j] = '\0';
	if (from != NULL && mail_addr_check(from) == NULL)
		dom = strchr(from, '@') + 1;
	else if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		if (domain_ok(host))
			dom = host;
	}
	snprintf(buf, sz, "<mobkit.%s%s%016llx@%s>", t, j > 0 ? "." : "",
	    rnd, dom);
}

/* An RFC 5322 date in UTC; English names whatever the locale. */
void
mail_date(char *buf, size_t sz, time_t t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		t = 0;
		(void)gmtime_r(&t, &tm);
	}
	snprintf(buf, sz, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Write every header of m; -1 and err when one is refused. */
static int
headers(FILE *fp, const struct mail *m, const char *cte, char *err,
    size_t errsz)
{
	char date[64], from[300], to[300];

	mail_date(date, sizeof(date), m->date);
	snprintf(from, sizeof(from), "<%s>", m->from);
	snprintf(to, sizeof(to), "<%s>", m->to);
	if (header(fp, "Date", date, 0, err, errsz) == -1 ||
	    header(fp, "From", from, 0, err, errsz) == -1 ||
	    header(fp, "To", to, 0, err, errsz) == -1 ||
	    header(fp, "Subject", m->subject != NULL ? m->subject :
	    "(no subject)", 1, err, errsz) == -1 ||
	    header(fp, "Message-ID", m->message_id, 0, err, errsz) == -1 ||
	    header(fp, "MIME-Version", "1.0", 0, err, errsz) == -1 ||
	    header(fp, "Content-Type", "text/plain; charset=utf-8", 0, err,
	    errsz) == -1 ||
	    header(fp, "Content-Transfer-Encoding", cte, 0, err, errsz) == -1)
		return -1;
	return 0;
}

/* The message, headers and body, CRLF line ends; NULL and err if refused. */
char *
mail_build(const struct mail *m, char *err, size_t errsz)
{
	const char *why, *body = m->body != NULL ? m->body : "", *cte;
	char v[128], *enc, *buf = NULL;
	size_t sz, n;
	FILE *fp;

	if ((why = mail_addr_check(m->from)) != NULL) {
		snprintf(err, errsz, "From: \"%s\" is not an address: %s",
		    shown(m->from ? m->from : "", v, sizeof(v)), why);
		return NULL;
	}
	if ((why = mail_addr_check(m->to)) != NULL) {
		snprintf(err, errsz, "To: \"%s\" is not an address: %s",
		    shown(m->to ? m->to : "", v, sizeof(v)), why);
		return NULL;
	}
	cte = body_encoding(body);
	if ((enc = body_encode(body, cte)) == NULL ||
	    (fp = open_memstream(&buf, &sz)) == NULL) {
		free(enc);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (headers(fp, m, cte, err, errsz) == -1) {
		fclose(fp);
		free(buf);
		free(enc);
		return NULL;
	}
	n = strlen(enc);
	fprintf(fp, "\r\n%s%s", enc, n >= 2 && strcmp(enc + n - 2, "\r\n") ==
	    0 ? "" : "\r\n");
	free(enc);
	if (stream_done(fp, &buf) == NULL)
		snprintf(err, errsz, "out of memory");
	return buf;
}
