/*
 * config_int.h: what the parts of the config loader share, and nothing
 * else includes.
 *
 *   config.c           the public face: load, look up, copy, free; strlists,
 *                      numbers, signals, argument splitting
 *   config_sections.c  the sections and their keys, a section header begun
 *   config_read.c      the line reader and the key = value handler
 *   config_check.c     validation and defaults once the file is read
 *
 * Every problem is recorded as "FILE:LINE: message" in cfg->errors, and
 * the reading goes on, so that one run shows them all.
 */
#ifndef CONFIG_INT_H
#define CONFIG_INT_H

#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdio.h>

#include "config.h"

#define LINE_LIMIT	197	/* inih's 200-byte buffer less \r \n \0 */
#define FILE_LIMIT	(1024 * 1024)
#define UNSET		(-1)
#define SUN_PATH_MAX	(sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

enum ktype { K_STR, K_MS, K_INT, K_BOOL, K_ENUM, K_SIGNAL, K_LIST, K_CHOICE };

struct keydef {
	const char		*name;
	int			 type;
	size_t			 off;
	const char *const	*names;		/* K_ENUM */
	ptrdiff_t		 lineoff;	/* where to note the line, or -1 */
};

enum sect { S_NONE, S_MOBKITD, S_GROUP, S_MODULE, S_MOB, S_PROFILE, S_MEMBER,
    S_ROUTE, S_DELIVERY, S_SCHEDULE, S_MCP, S_GATEWAY, S_SKIP };
#define NOL	(-1)

struct parse {
	struct config		*cfg;
	FILE			*fp;
	const char		*file;
	int			 lineno;
	int			 cont;		/* this line continues a value */
	int			 sect;
	void			*obj;
	const struct keydef	*keys;
	struct strlist		 seen;		/* keys of this section */
	const char		*last;		/* the key a continuation extends */
	char			 lastbuf[128];
	int			 seen_mobkitd, seen_mob, seen_delivery;
	int			 seen_gateway;
	int			 protected;	/* this line has \x1f for ; */
	int			*include_line;	/* of each cfg->include */
};

/* config.c */
const char *cfg_place(const struct config *, int here, int there, char *,
	    size_t);
int	 strlist_copy(struct strlist *, const struct strlist *);
void	 child_conf_init(struct child_conf *);
int	 push(void *arrp, int *n, void *p);

/* config_sections.c */
void	 begin_section(struct parse *, char *text);
int	 profile_prefixed_key(struct parse *, const char *name,
	    const char *value);

/* config_mcp.c: [mcp NAME] and the profile's tools */
int	 mcp_header_set(struct parse *, const char *name, const char *value);
void	 mcp_check(struct config *, struct child_conf *);
void	 mcp_check_profile_tools(struct config *, struct profile_conf *);

/* config_read.c */
char	*cfg_reader(char *str, int num, void *arg);
void	 cfg_include_add(struct parse *, const char *value);
int	 cfg_handler(void *arg, const char *section, const char *name,
	    const char *value);

/* config_check.c */
FILE	*open_regular(struct config *, const char *path, int line,
	    const char *key);
void	 config_finish(struct config *);
void	 absolutize(const struct config *, char **);
void	 child_defaults(struct child_conf *, const struct child_conf *,
	    const struct config *);

/* config_gateway.c */
extern const struct keydef gateway_keys[];
void	 gateway_finish(struct config *);

#endif
