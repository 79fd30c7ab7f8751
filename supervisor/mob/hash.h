/*
 * hash.h: FNV-1a of a string, for the mailboxes' table of finished keys
 * and the deliveries' payload hash.  The payload hash is written to the
 * store: the function must never change.
 */
#ifndef MOB_HASH_H
#define MOB_HASH_H

#include <stdint.h>

static inline uint64_t
str_fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

#endif
