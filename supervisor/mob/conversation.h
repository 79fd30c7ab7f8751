/*
 * conversation.h: a member's conversation and token usage as the
 * operator sees them (mob/conversation.c): the conversation and usage
 * verbs, and the notes run_done makes for them.
 */
#ifndef MOB_CONVERSATION_H
#define MOB_CONVERSATION_H

struct mbox;
struct msg_view;

void	 conv_note(struct mbox *, const struct msg_view *);
void	 usage_forget(struct mbox *);
char	*conv_annotate(struct mbox *, const char *messages);
char	*conv_annotate_member(const char *member, const char *messages);

#endif
