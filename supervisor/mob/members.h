/*
 * members.h: the mob's members (mob/members.c): spawning, retiring and
 * destroying them, who may talk to whom (peers), waiters of send --wait,
 * and the members' verbs.
 */
#ifndef MOB_MEMBERS_H
#define MOB_MEMBERS_H

#include <msgpack.h>

#include "config.h"

struct child;
struct client;
struct input;

void	 waiters_resolve(struct input *, const char *status);
void	 waiters_resolve_committed(struct mbox *, struct input *);
void	 waiters_reject(struct input *, const char *reason);
void	 peers_pack(msgpack_packer *, const char *id);
int	 peers_wired(const char *a, const char *b);
void	 peers_from_config(struct config *);
int	 peers_add(const char *a, const char *b);
int	 peers_remove(const char *a, const char *b);
void	 peers_forget(const char *id);
void	 retire_progress(struct child *);
int	 member_retire(struct child *);
void	 waiters_terminate_all(void);
struct child *member_spawn(const char *id, const char *profile, int dynamic,
	    const char **err);
void	 reconcile_pack(msgpack_packer *);
/* The member named id, or NULL with the verb failed (ctl_fail). */
struct child *need_member(const char *id);
struct child *need_local_member(const char *id);


#endif
