/*
 * worker.h: what the parts of mobkit-worker share.
 *
 *   worker.c     main, the messages from mobkitd, messages and events to it
 *   turn.c       a turn: its HTTP attempt, timeouts, errors
 *   tools.c      the tool loop: what is offered, calls through mobkitd
 *   echo.c       the offline provider
 *   openai.c     OpenAI-compatible chat completions (stream or not)
 *   anthropic.c  the Anthropic Messages API (stream or not)
 *   context.c    what of the history is sent (stripped, trimmed)
 *   wire.c       pure helpers: URLs, Retry-After, tool names
 *
 * Invariant: one turn at a time (W.turn); every message of a turn goes
 * into t->added, which mobkitd appends to the stored history only when
 * the turn completes.  The history is kept in the OpenAI shape (role
 * user/assistant/tool, tool_calls, tool_call_id); a provider converts.
 */
#ifndef MOBKIT_WORKER_H
#define MOBKIT_WORKER_H

#include <jansson.h>

#include "child.h"
#include "httpc.h"
#include "msgtab.h"
#include "sse.h"

#define MAX_CALLS	16
#define SSE_LINE_MAX	(1024 * 1024)

enum call_kind { CALL_BAD, CALL_SEND, CALL_MCP };

struct toolcall {
	char	*id;		/* the model's id */
	char	*name;		/* the function name the model used */
	char	*args;		/* JSON text, accumulated */
	char	*result;	/* what we tell the model */
	int	 is_error;
	int	 index;		/* the provider's index of this call */
	int	 pending;
	int	 kind;
	char	 wire[32];	/* our call_id to mobkitd */
	char	*server;	/* CALL_MCP */
	char	*tool;
};

struct turn {
	char		 input_id[64];
	int		 attempt;
	char		*text;
	int		 rounds;	/* tool round trips done */
	json_t		*added;		/* messages this turn adds */
	char		*out;		/* the turn's assistant text */
	size_t		 outlen;
	size_t		 round_off;	/* where this response's text began */
	/* the HTTP attempt */
	struct http_req	*req;
	ev_timer	 gap;		/* first byte, then idle */
	ev_timer	 whole;		/* request_timeout_ms */
	int		 got_byte;
	int		 is_sse;	/* Content-Type text/event-stream */
	long		 status;	/* of the status line */
	long		 retry_after_ms;
	struct sse	 sse;
	char		*body;		/* a non-stream body */
	size_t		 bodylen;
	int		 done_seen;
	int		 stream_error;
	int		 stream_final;	/* the stream's error is not retryable */
	char		 errmsg[512];
	char		*finish;
	/* tool calls of this response */
	struct toolcall	 calls[MAX_CALLS];
	int		 ncalls;
	int		 waiting;	/* results outstanding */
	/* usage, summed over the turn's requests; r_* of this response (the
	 * last figure it reports: some servers repeat it in every chunk) */
	long		 in_tokens, out_tokens;
	int		 usage_seen;
	long		 r_in, r_out;
	int		 r_seen;
};

/* A provider: its request, and the pieces of its responses. */
struct provider {
	const char	*name;
	/* url, headers and body of the request; -1 with err set */
	int		 (*request)(struct turn *, json_t *msgs,
			    const char *system, json_t *tools, char **url,
			    struct curl_slist **headers, char **body,
			    char *err, size_t errsz);
	void		 (*chunk)(struct turn *, const char *data);
	void		 (*whole)(struct turn *, json_t *body);
};

extern const struct provider openai_provider, anthropic_provider;

extern struct worker {
	struct ev_loop	*loop;
	struct mkchild	 mk;
	int		 configured;
	char		*id, *provider, *model, *base_url, *api_key, *system;
	char		*instructions;
	int		 comms;
	int		 npeers;
	char		*peers;		/* "a, b" for the tool's description */
	json_t		*params;	/* CONFIG params (an object) */
	json_t		*tools;		/* MCP tools it may call (an array) */
	json_t		*history;	/* user/assistant/tool messages */
	size_t		 nuser;		/* its user messages (echo's turn number) */
	struct turn	*turn;
	unsigned	 ncall;
} W;

/* worker.c */
int	 send_msg(struct msgw *);
void	 agent_event(const char *type, json_t *fields);
long	 param_int(const char *key, long dflt);
const char *param_str(const char *key);

/* turn.c */
void	 turn_start(struct turn *);
void	 turn_finish(struct turn *, const char *status, const char *error,
	    int final, long retry_after_ms);
void	 turn_free(struct turn *);
void	 turn_delta(struct turn *, const char *s, size_t n);
void	 turn_append(char **buf, size_t *len, const char *s, size_t n);
struct toolcall *turn_call(struct turn *, int index, const char *id,
	    const char *name);
void	 turn_tool_result(struct turn *, const char *wire, int ok,
	    const char *text);
void	 turn_interrupt(struct turn *);
void	 turn_run_calls(struct turn *);
void	 turn_usage(struct turn *, json_t *in, json_t *out);
char	*turn_system(void);

/* openai.c: request headers, shared with anthropic.c */
struct curl_slist *extra_headers(struct curl_slist *);
struct curl_slist *key_header_of(struct curl_slist *, const char *dflt_name);

/* turn.c */
void	 turn_request(struct turn *);
void	 call_clear(struct toolcall *);

/* tools.c */
json_t	*tools_offer(void);

/* echo.c */
void	 echo_turn(struct turn *);
void	 echo_resume(struct turn *);

/* tools: calls made through mobkitd (turn.c) */
int	 tool_dispatch(struct turn *, struct toolcall *);

#endif
