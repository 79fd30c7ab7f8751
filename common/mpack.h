/*
 * mpack.h: a checked reader over msgpack maps and small packing helpers.
 *
 * Every field is read through a helper that fails on a missing field or a
 * wrong type; frame_decode() fails on truncated msgpack or bytes left over.
 */
#ifndef MOBKIT_MPACK_H
#define MOBKIT_MPACK_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

/* Decode exactly one msgpack value filling buf[0..len). */
int	frame_decode(const char *buf, size_t len, msgpack_unpacked *out,
	    const char **err);

const msgpack_object *mp_find(const msgpack_object *map, const char *key);
int	mp_get_int(const msgpack_object *map, const char *key, int64_t *out);
int	mp_get_str(const msgpack_object *map, const char *key,
	    const char **s, size_t *len);
int	mp_get_bool(const msgpack_object *map, const char *key, int *out);
char	*mp_strdup(const msgpack_object *map, const char *key);
int	mp_copy_str(const msgpack_object *map, const char *key, char *buf,
	    size_t bufsz);
int	mp_is_str(const msgpack_object *o);

/* Packing: a key followed by its value. */
void	mp_str(msgpack_packer *pk, const char *s);
void	mp_kstr(msgpack_packer *pk, const char *k, const char *v);
void	mp_kint(msgpack_packer *pk, const char *k, int64_t v);
void	mp_kbool(msgpack_packer *pk, const char *k, int v);
void	mp_knil(msgpack_packer *pk, const char *k);
void	mp_kstr_or_nil(msgpack_packer *pk, const char *k, const char *v);
void	mp_kstrs(msgpack_packer *pk, const char *k, char *const *v, int n);

#endif
