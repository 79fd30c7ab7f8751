/*
 * mcp.h: MCP servers in the tree and the relay of tool calls to them
 * (mob/mcp.c), with the tools and call verbs.
 */
#ifndef MOB_MCP_H
#define MOB_MCP_H

struct child;

void	 mcp_register(void);
/* The MCP tools a member may call, JSON array text (malloc'd), or NULL
 * when its profile names none: for its CONFIG. */
char	*mcp_member_tools(struct child *);
/* A member's process is gone: its calls are cancelled. */
void	 mcp_member_gone(struct child *);

#endif
