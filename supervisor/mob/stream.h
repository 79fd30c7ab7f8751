/*
 * stream.h: send --stream (mob/stream.c): a client's input's text deltas
 * as they come.
 */
#ifndef MOB_STREAM_H
#define MOB_STREAM_H

#include <stdint.h>

void	 stream_add(uint64_t cid, const char *input_id);

#endif
