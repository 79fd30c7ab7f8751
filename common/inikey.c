/*
 * inikey.c: one key of an INI file (see inikey.h).  It follows inih's
 * defaults, so that it finds what config_load finds: a UTF-8 BOM skipped,
 * lines trimmed, ';' and '#' start a comment line, ';' after a space ends
 * a value, "[name]" opens a section, "name = value" or "name: value", and
 * an indented line after a value continues it (ignored here: the first
 * value is the one).  A malformed line is skipped, never fatal.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inikey.h"

/* s without its trailing white space (in place). */
static char *
rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static char *
lskip(char *s)
{
	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	return s;
}

/* The first of chars in s, or an inline comment (';' after a space). */
static char *
find_chars_or_comment(char *s, const char *chars)
{
	int was_space = 0;

	while (*s != '\0' && (chars == NULL || strchr(chars, *s) == NULL) &&
	    !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/* One line: track the section; the value when it is the key's. */
static char *
ini_line(char *line, char *section, size_t secsz, int *prev_name,
    const char *want_section, const char *key)
{
	char *start = lskip(rstrip(line)), *end, *value;

	if (*start == ';' || *start == '#' || *start == '\0')
		return NULL;
	if (*prev_name && start > line)
		return NULL;		/* a continuation */
	if (*start == '[') {
		end = find_chars_or_comment(start + 1, "]");
		if (*end == ']') {
			*end = '\0';
			snprintf(section, secsz, "%s", start + 1);
		}
		*prev_name = 0;
		return NULL;
	}
	end = find_chars_or_comment(start, "=:");
	if (*end != '=' && *end != ':') {
		*prev_name = 0;
		return NULL;
	}
	*end = '\0';
	value = end + 1;
	*find_chars_or_comment(value, NULL) = '\0';
	value = rstrip(lskip(value));
	*prev_name = 1;
	if (strcmp(section, want_section) == 0 &&
	    strcmp(rstrip(start), key) == 0)
		return strdup(value);
	return NULL;
}

char *
ini_key(const char *path, const char *want_section, const char *key)
{
	char section[256] = "", *line = NULL, *v = NULL, *s;
	size_t cap = 0;
	int first = 1, prev_name = 0;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL)
		return NULL;
	while (v == NULL && getline(&line, &cap, fp) != -1) {
		s = line;
		if (first && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
			s += 3;
		first = 0;
		v = ini_line(s, section, sizeof(section), &prev_name,
		    want_section, key);
	}
	free(line);
	fclose(fp);
	return v;
}
