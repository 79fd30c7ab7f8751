/*
 * discover.h: [mob] discover (mob/discover.c runs the program,
 * mob/discover_apply.c reads its lines and reconciles the roster).
 */
#ifndef MOB_DISCOVER_H
#define MOB_DISCOVER_H

#include <sys/types.h>

#include <msgpack.h>

/* A line of the program's output: a member it lists. */
struct disc_member {
	char		*id;
	char		*profile;
	char		*instructions;	/* or NULL */
	char		**peers;
	int		 npeers;
};

struct disc_list {
	struct disc_member	*v;
	int			 n;
};

void	 discover_register(void);
void	 discover_register_early(void);
int	 discover_reaped(pid_t, int status);
int	 discover_has(const char *id);
int	 discover_count(void);

/* discover_apply.c */
int	 disc_parse(const char *out, size_t len, struct disc_list *,
	    char *err, size_t errsz);
int	 disc_check(const struct disc_list *, char *err, size_t errsz);
void	 disc_apply(const struct disc_list *, msgpack_packer *);
void	 disc_list_free(struct disc_list *);

/* discover_state.c */
void	 disc_save(const char *out, size_t len);

#endif
