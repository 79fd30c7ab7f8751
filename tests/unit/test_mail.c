/*
 * test_mail.c: the message builder refuses CR/LF in headers and bad
 * addresses; the encoders (base64, quoted-printable, RFC 2047) decode back
 * to what went in and keep every line short.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail.h"
#include "unit.h"

/* Base64 back to bytes (no line breaks expected); its length in *n. */
static char *
unbase64(const char *s, size_t *n)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(strlen(s) + 1);
	unsigned v = 0;
	int bits = 0;

	*n = 0;
	for (; *s != '\0' && *s != '='; s++) {
		if (*s == '\r' || *s == '\n')
			continue;
		ck_assert_ptr_nonnull(strchr(a, *s));
		v = (v << 6) | (unsigned)(strchr(a, *s) - a);
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[(*n)++] = (char)((v >> bits) & 0xff);
		}
	}
	out[*n] = '\0';
	return out;
}

/* Quoted-printable back to text: soft breaks joined, =XX decoded. */
static char *
unqp(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	unsigned x;

	while (*s != '\0') {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n')
			s += 3;
		else if (*s == '=') {
			ck_assert_int_eq(sscanf(s + 1, "%2X", &x), 1);
			*o++ = (char)x;
			s += 3;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/* The longest CRLF-separated line of s; a bare CR or LF fails the test. */
static size_t
longest_line(const char *s)
{
	size_t max = 0, col = 0;

	for (; *s != '\0'; s++) {
		if (s[0] == '\r' && s[1] == '\n') {
			s++;
			col = 0;
			continue;
		}
		ck_assert_msg(*s != '\r' && *s != '\n', "a bare CR or LF");
		if (++col > max)
			max = col;
	}
	return max;
}

/* Build a message from a subject and body with fixed addresses. */
static char *
build(const char *subject, const char *body, char *err, size_t errsz)
{
	struct mail m;

	memset(&m, 0, sizeof(m));
	m.from = "mobkit@example.org";
	m.to = "ops@example.com";
	m.subject = subject;
	m.body = body;
	m.message_id = "<mobkit.t.1@example.org>";
	m.date = 1751360700;
	return mail_build(&m, err, errsz);
}

/* The value of a header, unfolded (CRLF before a blank removed). */
static char *
header_of(const char *msg, const char *name)
{
	char key[64], *out, *o;
	const char *p;

	snprintf(key, sizeof(key), "%s: ", name);
	if (strncmp(msg, key, strlen(key)) == 0)
		p = msg;
	else {
		snprintf(key, sizeof(key), "\r\n%s: ", name);
		if ((p = strstr(msg, key)) == NULL)
			return NULL;
		p += 2;
	}
	p += strlen(name) + 2;
	out = o = malloc(strlen(p) + 1);
	for (; *p != '\0'; p++) {
		if (p[0] == '\r' && p[1] == '\n') {
			if (p[2] != ' ' && p[2] != '\t')
				break;
			p++;
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

START_TEST(t_refuses_crlf)
{
	static const char *const bad[] = { "Hi\r\nBcc: evil@example.org",
	    "Hi\nBcc: evil@example.org", "Hi\rX", "\r\n\r\nbody", NULL };
	char err[256];
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		ck_assert_ptr_null(build(bad[i], "x", err, sizeof(err)));
		ck_assert_msg(strstr(err, "Subject: CR or LF") != NULL, "%s",
		    err);
		ck_assert_ptr_null(strpbrk(err, "\r\n"));
	}
}
END_TEST

START_TEST(t_addresses)
{
	static const char *const good[] = { "mobkit@localhost",
	    "o.p+tag@example.co.uk", "a_b-c@x-y.example", NULL };
	static const char *const bad[] = { "", "a", "@b", "a@", "a@@b",
	    "a@b@c", "<a@b>", "a@b>", "a b@c", "a@b c", "a@b\r\nRCPT TO:<e@f>",
	    "a@b\n", "\"q\"@b", ".a@b", "a.@b", "a..b@c", "a@-b.c", "a@b-.c",
	    "a@b..c", "a@.b", "a,b@c", "é@b", "a@b\tc", NULL };
	struct mail m;
	char err[256], *s;
	int i;

	for (i = 0; good[i] != NULL; i++)
		ck_assert_msg(mail_addr_check(good[i]) == NULL, "%s: %s",
		    good[i], mail_addr_check(good[i]));
	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(mail_addr_check(bad[i]) != NULL, "%s accepted",
		    bad[i]);
	memset(&m, 0, sizeof(m));
	m.from = "mobkit@example.org";
	m.to = "ops@example.com>\r\nBcc: <evil@example.org";
	m.message_id = "<x@y>";
	ck_assert_ptr_null(mail_build(&m, err, sizeof(err)));
	ck_assert_msg(strncmp(err, "To: ", 4) == 0, "%s", err);
	ck_assert_ptr_null(strpbrk(err, "\r\n"));
	m.to = "ops@example.com";
	m.from = "x@y>";
	ck_assert_ptr_null(mail_build(&m, err, sizeof(err)));
	ck_assert_msg(strncmp(err, "From: ", 6) == 0, "%s", err);
	m.from = "mobkit@example.org";
	m.message_id = "<x@y>\r\nBcc: evil@example.org";
	ck_assert_ptr_null(mail_build(&m, err, sizeof(err)));
	ck_assert_msg(strncmp(err, "Message-ID: CR or LF", 20) == 0, "%s", err);
	m.message_id = "<x@y>";
	ck_assert_ptr_nonnull(s = mail_build(&m, err, sizeof(err)));
	free(s);
}
END_TEST

START_TEST(t_headers)
{
	char err[256], *s, *v, id[320], id2[320];

	s = build("Hello", "It works.", err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strncmp(s, "Date: Tue, 01 Jul 2025 09:05:00 +0000\r\n"
	    "From: <mobkit@example.org>\r\nTo: <ops@example.com>\r\n"
	    "Subject: Hello\r\nMessage-ID: <mobkit.t.1@example.org>\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\nIt works.\r\n", 1000) == 0,
	    "%s", s);
	free(s);
	s = build(NULL, "", err, sizeof(err));
	ck_assert_ptr_nonnull(v = header_of(s, "Subject"));
	ck_assert_str_eq(v, "(no subject)");
	free(v);
	free(s);
	mail_date(err, sizeof(err), 0);
	ck_assert_str_eq(err, "Thu, 01 Jan 1970 00:00:00 +0000");
	mail_message_id(id, sizeof(id), "dl-1a-2", "mobkit@example.org");
	mail_message_id(id2, sizeof(id2), "dl-1a-2", "mobkit@example.org");
	ck_assert_msg(strncmp(id, "<mobkit.dl-1a-2.", 16) == 0, "%s", id);
	ck_assert_msg(strcmp(id + strlen(id) - 13, "@example.org>") == 0, "%s",
	    id);
	ck_assert_str_ne(id, id2);
	mail_message_id(id, sizeof(id), "a>\r\nb", "not an address");
	ck_assert_ptr_null(strpbrk(id, "\r\n"));
	ck_assert_int_eq(strchr(id, '>') - id, (long)strlen(id) - 1);
	ck_assert_ptr_nonnull(strchr(id, '@'));
}
END_TEST

/* Decode an RFC 2047 header value of B-encoded UTF-8 words. */
static char *
decode_words(const char *v)
{
	char *out = calloc(1, strlen(v) + 1), *chunk;
	const char *p = v, *end;
	size_t n, len;

	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		p += 10;
		ck_assert_ptr_nonnull(end = strstr(p, "?="));
		ck_assert_int_le(end - p + 12, 75);
		{
			char enc[80];

			len = (size_t)(end - p);
			memcpy(enc, p, len);
			enc[len] = '\0';
			chunk = unbase64(enc, &n);
		}
		/* each word holds whole characters: it does not start
		   with a continuation byte */
		ck_assert_int_ne((unsigned char)chunk[0] & 0xc0, 0x80);
		strncat(out, chunk, n);
		free(chunk);
		p = end + 2;
	}
	return out;
}

START_TEST(t_subject_2047)
{
	static const char *const subjects[] = {
	    "Grüße aus Köln",
	    "東京の天気は晴れ東京の天気は晴れ東京の天気は晴れ東京の天気は晴れ",
	    "𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞 four-byte characters",
	    "Is 1+1 =?UTF-8?B?Mg==?= now",
	    "tab\there and a bell \a",
	    NULL };
	char err[256], *s, *v, *d;
	int i;

	for (i = 0; subjects[i] != NULL; i++) {
		s = build(subjects[i], "x", err, sizeof(err));
		ck_assert_ptr_nonnull(s);
		ck_assert_int_le(longest_line(s), 76);
		for (v = s; *v != '\0'; v++)
			ck_assert_int_lt((unsigned char)*v, 128);
		ck_assert_ptr_nonnull(v = header_of(s, "Subject"));
		d = decode_words(v);
		ck_assert_str_eq(d, subjects[i]);
		free(d);
		free(v);
		free(s);
	}
}
END_TEST

START_TEST(t_subject_folded)
{
	const char *subj = "A fairly long plain subject line that has to be "
	    "folded because it goes on and on past seventy-eight columns, "
	    "twice over, with  two  blanks kept";
	char err[256], *s, *v;

	s = build(subj, "x", err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	ck_assert_int_le(longest_line(s), 78);
	ck_assert_ptr_null(strstr(s, "=?"));
	ck_assert_ptr_nonnull(v = header_of(s, "Subject"));
	ck_assert_str_eq(v, subj);
	free(v);
	free(s);
}
END_TEST

START_TEST(t_base64)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob",
	    "fooba", "foobar" };
	static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v",
	    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	unsigned char bin[300];
	char *s, *d;
	size_t i, n;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		s = mail_base64(in[i], strlen(in[i]), 0);
		ck_assert_str_eq(s, out[i]);
		free(s);
	}
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7);
	s = mail_base64(bin, sizeof(bin), 76);
	ck_assert_int_eq(longest_line(s), 76);
	d = unbase64(s, &n);
	ck_assert_int_eq(n, sizeof(bin));
	ck_assert_int_eq(memcmp(d, bin, n), 0);
	free(d);
	free(s);
}
END_TEST

START_TEST(t_qp)
{
	char line[2101], *s, *d;

	s = mail_qp("a=b \xc3\xa9\r\ntrailing \nlone\rcr\t");
	ck_assert_str_eq(s, "a=3Db =C3=A9\r\ntrailing=20\r\nlone=0Dcr=09");
	free(s);
	memset(line, 'x', 2000);
	memcpy(line + 1000, "= \xc3\xa9", 4);
	strcpy(line + 2000, "\n.\nend");
	s = mail_qp(line);
	ck_assert_int_le(longest_line(s), 76);
	d = unqp(s);
	line[2000] = '\0';
	ck_assert_int_eq(strncmp(d, line, 2000), 0);
	ck_assert_str_eq(d + 2000, "\r\n.\r\nend");
	free(d);
	free(s);
}
END_TEST

START_TEST(t_body_encoding)
{
	char err[256], *s, *long_line, *v;

	s = build("s", "short\nand plain\n", err, sizeof(err));
	ck_assert_ptr_nonnull(v = header_of(s, "Content-Transfer-Encoding"));
	ck_assert_str_eq(v, "7bit");
	ck_assert_ptr_nonnull(strstr(s, "\r\n\r\nshort\r\nand plain\r\n"));
	free(v);
	free(s);
	long_line = malloc(2001);
	memset(long_line, 'y', 2000);
	long_line[2000] = '\0';
	s = build("s", long_line, err, sizeof(err));
	ck_assert_int_le(longest_line(s), 76);
	ck_assert_ptr_nonnull(v = header_of(s, "Content-Transfer-Encoding"));
	ck_assert_str_eq(v, "quoted-printable");
	free(v);
	free(s);
	free(long_line);
	s = build("s", "東京の天気は晴れ\n", err, sizeof(err));
	ck_assert_ptr_nonnull(v = header_of(s, "Content-Transfer-Encoding"));
	ck_assert_str_eq(v, "base64");
	free(v);
	free(s);
	s = build("s", "Grüße from Köln, see you very soon, all of you\n", err,
	    sizeof(err));
	ck_assert_ptr_nonnull(v = header_of(s, "Content-Transfer-Encoding"));
	ck_assert_str_eq(v, "quoted-printable");
	ck_assert_ptr_nonnull(strstr(s, "\r\n\r\nGr=C3=BC=C3=9Fe from "
	    "K=C3=B6ln, see you very soon, all of you\r\n"));
	free(v);
	free(s);
}
END_TEST

Suite *
mail_suite(void)
{
	Suite *s = suite_create("mail");
	TCase *tc = tcase_create("build");

	tcase_add_test(tc, t_refuses_crlf);
	tcase_add_test(tc, t_addresses);
	tcase_add_test(tc, t_headers);
	tcase_add_test(tc, t_subject_2047);
	tcase_add_test(tc, t_subject_folded);
	tcase_add_test(tc, t_base64);
	tcase_add_test(tc, t_qp);
	tcase_add_test(tc, t_body_encoding);
	suite_add_tcase(s, tc);
	return s;
}
