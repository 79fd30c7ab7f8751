/*
 * store.h: the durable store under state_dir (store.c).
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

struct mbox;
struct input;

typedef void (*store_done_cb)(void *arg, const char *err);
void	 store_claim(const char *schedule, int64_t due_ms,
	    int64_t forget_before);
void	 store_delivery(const char *id, const char *blob, size_t len);
void	 store_delivery_forget(const char *id);
int	 store_verify(const char *dir);
int	 store_open(const char *dir);
void	 store_close(void);
int	 store_load(void);
void	 store_input(struct mbox *, struct input *);
void	 store_input_drop(struct input *);
void	 store_snapshot_append(struct mbox *, const char *messages);
void	 store_snapshot_clear(struct mbox *);
char	*store_history(const char *member, size_t max);
int	 store_recall(const char *member, const char *key, int64_t since_ms,
	    struct input *);
typedef void (*store_row_cb)(void *, const char *id, int state,
	    int attempts, const char *key);
int	 store_finished(const char *member, int64_t since_ms, int max,
	    store_row_cb, void *);
void	 store_peers(void);
int	 store_commit(void);
int	 store_enabled(void);
const char *store_failure(void);
void	 store_after_commit(store_done_cb, void *arg);


#endif
