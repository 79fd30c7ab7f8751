/*
 * mail.h: an email message as SMTP carries it.  Every header goes through
 * one function that refuses CR and LF in a value; a non-ASCII subject is
 * encoded per RFC 2047; a body with long or non-ASCII lines is encoded
 * (quoted-printable or base64), never cut.
 */
#ifndef MOBKIT_MAIL_H
#define MOBKIT_MAIL_H

#include <stddef.h>
#include <time.h>

struct mail {
	const char	*from;		/* bare addresses: a@b */
	const char	*to;
	const char	*subject;	/* UTF-8 */
	const char	*body;		/* UTF-8, lines end in LF or CRLF */
	const char	*message_id;	/* "<...@...>", see mail_message_id() */
	time_t		 date;
};

/* The message, headers and body, CRLF line ends; NULL and err if refused. */
char		*mail_build(const struct mail *, char *err, size_t errsz);
/* NULL when addr is a plain address (local@domain), else what is wrong. */
const char	*mail_addr_check(const char *addr);
/* "<mobkit.TAG.RANDOM@DOMAIN>", DOMAIN that of from, else the host's. */
void		 mail_message_id(char *buf, size_t, const char *tag,
		    const char *from);
/* An RFC 5322 date: "Tue, 01 Jul 2025 09:05:00 +0000" (UTC). */
void		 mail_date(char *buf, size_t, time_t);
/* Base64 of n bytes, lines of at most linelen (0: one line), CRLF. */
char		*mail_base64(const void *, size_t n, size_t linelen);
/* Quoted-printable (RFC 2045) of a text: LF and CRLF are line breaks. */
char		*mail_qp(const char *);

#endif
