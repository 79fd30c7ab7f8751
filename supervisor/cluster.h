/*
 * cluster.h: several mobkitd nodes on one PostgreSQL database acting as
 * one mob (store = postgresql://...).  cluster.c holds this node's view:
 * which members it holds (lease, fencing token), who holds the others,
 * the live nodes; it takes, renews and releases leases through pgq.c.
 */
#ifndef CLUSTER_H
#define CLUSTER_H

#include <stdint.h>

struct config;
struct child;

/* Clustering is on (the store is PostgreSQL). */
int	 cluster_enabled(void);
/* This node's id. */
const char *cluster_node_id(void);

/* Does this node hold the member's lease (and its fencing token)? */
int	 cluster_holds(const char *member, int64_t *fence);
/* The node running a member as last seen, or NULL: nobody / unknown. */
const char *cluster_owner(const char *member);

/* A member joined or left the roster at run time (spawn, retire). */
void	 cluster_member_added(const char *member);
void	 cluster_member_removed(const char *member);

/* mobkitd.c / register.c: start after the store's load, stop before it
 * closes; a config applied (pins). */
int	 cluster_start(void);
void	 cluster_stop(void);
void	 cluster_configure(struct config *, int reload);

/* The store's batch found leases lost ("mobkit: lease lost: a,b"). */
void	 cluster_lost(const char *member, const char *why);

#endif
