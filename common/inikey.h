/*
 * inikey.h: one value of an INI file, read the way inih reads it (the
 * same comments, sections and "name = value" lines) without parsing the
 * rest: for mobkitctl, which needs control_socket and nothing else.
 */
#ifndef MOBKIT_INIKEY_H
#define MOBKIT_INIKEY_H

/* The first value of key in [section], allocated; NULL if none or error. */
char	*ini_key(const char *path, const char *section, const char *key);

#endif
