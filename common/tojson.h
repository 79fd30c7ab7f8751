/* tojson.h: msgpack <-> JSON (jansson), for mobkitctl and module events. */
#ifndef MOBKIT_TOJSON_H
#define MOBKIT_TOJSON_H

#include <jansson.h>
#include <msgpack.h>

json_t	*mp_to_json(const msgpack_object *);
void	 json_to_mp(msgpack_packer *, const json_t *);

#endif
