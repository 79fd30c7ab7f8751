/* tojson.h: msgpack <-> JSON (jansson), for mobkitctl and module events. */
#ifndef MOBKIT_TOJSON_H
#define MOBKIT_TOJSON_H

#include <sys/types.h>

#include <jansson.h>
#include <msgpack.h>

json_t	*mp_to_json(const msgpack_object *);
void	 json_to_mp(msgpack_packer *, const json_t *);
/* -1 when s[0..n) is valid UTF-8, else the offset of the first bad byte */
ssize_t	 utf8_invalid(const char *s, size_t n);
/* s[0..n) with each invalid sequence as U+FFFD: a new string, *outlen */
char	*utf8_repair(const char *s, size_t n, size_t *outlen);
/* MCP content blocks of one text block, as JSON text (caller frees). */
char	*json_text_blocks(const char *text);

#endif
