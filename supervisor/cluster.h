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

/* Its inputs are queued here (else written for the node that runs it). */
int	 cluster_runs(const char *member);
/* "remote", "loading", "active", "leaving"; NULL: not clustered. */
const char *cluster_member_state(const char *member);
/* The lease cannot be proven now (the daemon is degraded). */
int	 cluster_degraded(void);
/* Inputs written for an active member elsewhere: read them in. */
void	 cluster_fetch(const char *member);
/* Rebalance: hand an active member over; its worker stopped (mob). */
void	 cluster_handover(const char *member);
void	 cluster_stopped(const char *member);
/* A PostgreSQL array literal of strings ({"a","b"}), malloc'd. */
char	*cluster_pg_array(const char *const *, int);
/* What the store keeps in memory of a member goes (it runs elsewhere). */
void	 cluster_mem_forget(const char *member);
/* At shutdown, once the store's last commit is done: let go of every
 * member so that the other nodes take them at once. */
void	 cluster_release_all(void);

/* Reads of a member another node runs, from the database: its
 * conversation and usage made readable while fn answers; its inputs
 * listed to a client. */
void	 cluster_peek(const char *member, void (*fn)(void *, const char *),
	    void *arg);
void	 cluster_inputs(const char *member, uint64_t cid);
void	 cluster_usage_all(void (*fn)(void *, const char *), void *arg);

/* The store's batch found leases lost ("mobkit: lease lost: a,b"). */
void	 cluster_lost(const char *member, const char *why);
/* Another mobkitd took this node's node_id (while the database was
 * away): this one lets its members go and stops. */
void	 cluster_taken(const char *why);

#endif
