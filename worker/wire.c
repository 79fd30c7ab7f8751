/*
 * wire.c: request URLs, Retry-After and tool names; no process state, so
 * that the unit tests can call them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "wire.h"

/* Append s, percent-encoded (unreserved characters kept). */
static void
escape(FILE *f, const char *s)
{
	for (; *s; s++)
		if (isalnum((unsigned char)*s) || strchr("-_.~", *s) != NULL)
			fputc(*s, f);
		else
			fprintf(f, "%%%02X", (unsigned char)*s);
}

char *
url_build(const char *base, const char *dflt, const char *path,
    json_t *query)
{
	const char *k, *sep;
	json_t *v;
	size_t len, n;
	char *buf = NULL;
	FILE *f;

	if (base == NULL || *base == '\0')
		base = dflt;
	len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		len--;
	if ((f = open_memstream(&buf, &n)) == NULL)
		return NULL;
	fprintf(f, "%.*s%s", (int)len, base, path);
	sep = strchr(path, '?') != NULL ? "&" : "?";
	json_object_foreach(query, k, v) {
		if (!json_is_string(v))
			continue;
		fputs(sep, f);
		escape(f, k);
		fputc('=', f);
		escape(f, json_string_value(v));
		sep = "&";
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

long
retry_after_value(const char *v, time_t now)
{
	struct tm tm;
	char *end;
	double d;
	time_t at;

	while (*v == ' ' || *v == '\t')
		v++;
	d = strtod(v, &end);
	if (end != v) {
		while (*end == ' ' || *end == '\t' || *end == '\r' ||
		    *end == '\n')
			end++;
		if (*end != '\0' || d < 0 || d > 86400.0 * 365)
			return -1;
		return (long)(d * 1000.0);
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL)
		return -1;
	if ((at = timegm(&tm)) == (time_t)-1)
		return -1;
	return at <= now ? 0 : (long)(at - now) * 1000L;
}

long
retry_after_header(const char *line, size_t n, time_t now)
{
	char buf[128];
	double d;
	char *end;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	if (strncasecmp(buf, "retry-after-ms:", 15) == 0) {
		d = strtod(buf + 15, &end);
		if (end == buf + 15 || d < 0)
			return -1;
		return (long)d;
	}
	if (strncasecmp(buf, "retry-after:", 12) == 0)
		return retry_after_value(buf + 12, now);
	return -1;
}

void
tool_fname(const char *server, const char *tool, char *out, size_t outsz)
{
	size_t o = 0;
	const char *s;
	int part;

	if (outsz > FNAME_MAX + 1)
		outsz = FNAME_MAX + 1;
	for (part = 0; part < 2; part++) {
		if (part == 1) {
			for (s = "__"; *s && o + 1 < outsz; s++)
				out[o++] = *s;
		}
		for (s = part ? tool : server; *s && o + 1 < outsz; s++)
			out[o++] = isalnum((unsigned char)*s) || *s == '-' ||
			    *s == '_' ? *s : '_';
	}
	out[o] = '\0';
}
