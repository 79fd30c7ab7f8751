/*
 * ctlagents.h: mobkitctl's human output for the agents' verbs
 * (ctlagents.c): conversation, usage, rediscover, send --stream.
 */
#ifndef CTLAGENTS_H
#define CTLAGENTS_H

#include <jansson.h>

void	 print_conversation(json_t *);
void	 print_usage(json_t *);
void	 print_rediscover(json_t *);
/* key: a list of names, "key: a b c" (mobkitctl.c). */
void	 print_names(json_t *, const char *key);
int	 print_stream_item(json_t *, int json_out);
void	 print_stream_result(json_t *, int json_out);

#endif
