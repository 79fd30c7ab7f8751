/*
 * roster.h: what the nodes of a cluster share besides leases (roster.c):
 * the members spawned at run time and the routes added at run time, in
 * mobkit.roster and mobkit.routes.  A change made on one node is written
 * there and NOTIFYs mobkit_roster; every node reads both again and makes
 * its tree and route table match.  Outside a cluster these do nothing.
 */
#ifndef ROSTER_H
#define ROSTER_H

struct route_row;

/* cluster_start(): read both (blocking, before the node joins). */
int	 roster_start(void);
/* After each (re)connection of pgq, and on NOTIFY: read both again. */
void	 roster_read(void);

/* mobkitctl spawn made a member here; a spawned member was retired or
 * destroyed here (its row goes, every node retires it). */
void	 roster_spawned(const char *id, const char *profile);
void	 roster_retired(const char *id);

/* route add / route rm of an added route, here. */
void	 roster_route_added(const struct route_row *);
void	 roster_route_removed(const char *id);

#endif
