/*
 * config.h: the INI file as typed structs.  config_load() parses into a
 * fresh struct and validates all of it; on error the caller keeps the old.
 */
#ifndef MOBKIT_CONFIG_H
#define MOBKIT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum restart_policy { RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER };
enum ready_mode { READY_MESSAGE, READY_STDOUT, READY_NOTIFY, READY_NONE };
enum strategy { STRAT_ONE_FOR_ONE, STRAT_ONE_FOR_ALL, STRAT_REST_FOR_ONE };
enum on_exhausted { EXH_DEGRADE, EXH_ESCALATE };
enum child_kind { KIND_MODULE, KIND_MEMBER, KIND_MCP };

extern const char *const restart_names[];
extern const char *const ready_names[];
extern const char *const strategy_names[];
extern const char *const exhausted_names[];
extern const char *const kind_names[];

#define DEF_CONTROL_SOCKET	"/run/mobkit/mobkitd.sock"
#define DEF_CONFIG		"/etc/mobkit/mobkit.ini"

struct strlist {
	char	**v;
	int	  n;
};

/* A supervised child: a [module], or a [member] with its profile applied. */
struct child_conf {
	char		*name;
	int		 line;
	int		 kind;
	char		*command;
	char		*args;
	struct strlist	 argv;		/* args split like a shell would */
	char		*group;
	int		 group_line;
	struct strlist	 depends;
	int		 depends_line;
	int		 restart;
	int		 ready;
	int		 max_restarts;
	int64_t		 restart_window_ms;
	int64_t		 restart_backoff_ms;
	int64_t		 restart_backoff_max_ms;
	int		 on_exhausted;
	int64_t		 start_timeout_ms;
	int64_t		 stop_timeout_ms;
	int		 stop_signal;
	char		*cwd;
	char		*user;
	struct strlist	 env;		/* NAME=value */
	struct strlist	 pass_env;	/* names passed from mobkitd's env */
	int64_t		 watchdog_ms;	/* 0 = off */
	int64_t		 limit_nofile;	/* 0 = mobkitd's original soft limit */
	/* members */
	char		*profile;
	int		 profile_line;
	char		*instructions;
	char		*instructions_file;
	char		*node;		/* a cluster: the node that runs it */
	struct strlist	 peers;
	int		 peers_line;
	/* [mcp NAME]: command/args (stdio, spawned) or url (Streamable HTTP,
	 * connected to by the mobkit-mcp bridge) */
	char		*url;
	int		 url_line;
	struct strlist	 headers;	/* "Name: value", for url */
	int64_t		 call_timeout_ms;
};

struct group_conf {
	char		*name;
	int		 line;
	char		*parent;
	int		 parent_line;
	int		 strategy;
	int		 max_restarts;
	int64_t		 restart_window_ms;
};

struct profile_conf {
	char		*name;
	int		 line;
	char		*provider;
	char		*model;
	char		*base_url;
	char		*api_key_env;
	char		*system;
	char		*system_file;
	int64_t		 request_timeout_ms;
	int		 max_attempts;
	int		 mailbox_capacity;
	int		 comms;
	int64_t		 history_max_bytes;	/* without state_dir */
	char		*params;	/* provider parameters (section 8 keys),
					   a JSON object text for the worker */
	struct strlist	 tools;		/* [mcp] names or SERVER/TOOL */
	int		 tools_line;
	int		 max_tool_rounds;
	/* provider parameters (section 8): packed into params at load */
	char		*api_key_header;
	int		 api_key_header_line;
	struct strlist	 http_headers;	/* header.NAME: "NAME: value" */
	struct strlist	 http_query;	/* query.NAME: "NAME=value" */
	char		*temperature;	/* as written; NULL: not sent */
	int		 temperature_line;
	char		*top_p;
	int		 top_p_line;
	int64_t		 max_tokens;	/* -1: not sent */
	int64_t		 seed;		/* -1: not sent */
	struct strlist	 stop;
	char		*response_format;	/* text|json_object|json_schema */
	int		 response_format_line;
	char		*response_schema_file;
	int		 response_schema_line;
	char		*response_schema;	/* the file's JSON text */
	int		 stream;
	int64_t		 connect_timeout_ms;
	int64_t		 first_byte_timeout_ms;
	int64_t		 idle_timeout_ms;
	int64_t		 retry_backoff_ms;
	int64_t		 retry_backoff_max_ms;
	int64_t		 max_context_tokens;
	struct child_conf tmpl;		/* restart, budget, backoff keys */
};

struct route_conf {
	char		*id;
	int		 line;
	char		*recipient;
	char		*channel;
	char		*sink;
	char		*target;
	int		 retry_max;
	int64_t		 backoff_ms;
	int		 rate_limit_per_minute;
};

struct schedule_conf {
	char		*id;
	int		 line;
	char		*interval;
	char		*cron;
	char		*timezone;
	int		 enabled;
	int64_t		 jitter_ms;
	int		 catch_up;
	char		*member;
	int		 member_line;
	char		*message;
};

/* [gateway]: the HTTP gateway, started as the module "gateway". */
struct gateway_conf {
	int		 line;
	struct child_conf mod;		/* the supervision keys of [module] */
	char		*listen;
	int		 listen_line;
	char		*auth;		/* token | jwt | none */
	int		 auth_line;
	char		*token_file;
	int		 token_file_line;
	char		*jwt_jwks_file;
	int		 jwt_jwks_file_line;
	char		*jwt_issuer;
	char		*jwt_audience;
	char		*tls_cert_file;
	int		 tls_cert_file_line;
	char		*tls_key_file;
	int		 tls_key_file_line;
	int		 console;
	int		 metrics_auth;
	int64_t		 max_body_bytes;
};

struct config {
	char		*path;		/* as given */
	char		*dir;		/* its directory, for relative paths */
	char		*control_socket;
	char		*state_dir;
	char		*store;		/* postgresql://..., instead of state_dir */
	int		 store_line;
	char		*node_id;	/* default: the host name */
	int		 node_id_line;
	int64_t		 lease_ms;
	int		 lease_ms_line;
	int		 placement;	/* 0: spread (by count), the only one */
	int		 log_level;
	int64_t		 start_timeout_ms;
	int64_t		 stop_timeout_ms;
	int64_t		 drain_timeout_ms;
	int		 strategy;
	int		 max_restarts;
	int64_t		 restart_window_ms;
	int64_t		 max_input_bytes;
	int64_t		 input_retention_ms;
	int		 input_retention_max;
	int64_t		 delivery_retention_ms;
	int		 delivery_retention_max;
	int64_t		 event_buffer_bytes;
	int64_t		 client_buffer_bytes;
	int64_t		 log_buffer_bytes;	/* each child's lines kept */
	char		*log_dir;		/* NAME.log, mobkitd.log */
	int64_t		 log_max_bytes;		/* rotated past this */
	int		 log_keep;		/* NAME.log.1 ... .keep */
	int		 log_format;		/* 0 text, 1 json */
	struct strlist	 pass_env;	/* for every child */
	struct strlist	 include;	/* [mobkitd] include: glob patterns */
	struct strlist	 files;		/* the file, then each included one */
	char		*mob_id;
	char		*discover;	/* [mob] discover: PROGRAM ARGS */
	int		 discover_line;
	int64_t		 discover_interval_ms;	/* 0: boot and rediscover */
	int64_t		 discover_timeout_ms;	/* a run's deadline */
	char		*smtp_url;
	char		*mail_from;
	int		 control_socket_line;	/* where set, for errors */
	int		 smtp_url_line;
	int		 mail_from_line;

	struct child_conf	**children;	/* modules then members */
	int			  nchildren;
	struct group_conf	**groups;
	int			  ngroups;
	struct profile_conf	**profiles;
	int			  nprofiles;
	struct route_conf	**routes;
	int			  nroutes;
	struct schedule_conf	**schedules;
	int			  nschedules;

	struct gateway_conf	*gateway;	/* [gateway], or NULL */

	/*
	 * Every line number kept above (->line, *_line) is a location: the
	 * index of its file in files (0: the main file) times LOC_FILE plus
	 * the line in that file; config_where() prints it as FILE:LINE.
	 */
	struct strlist	 errors;	/* "FILE:LINE: message" */
	struct strlist	 warnings;	/* "FILE:LINE: warning: message" */
};

#define LOC_FILE	(1 << 21)	/* see struct config: a location's file */
#define LOC_MAXFILES	1000	/* included files, at most */

struct config	*config_load(const char *path);	/* NULL only on ENOMEM */
/* "FILE:LINE" of a location into buf. */
const char	*config_where(const struct config *, int loc, char *buf,
		    size_t);
/* Record one "FILE:LINE: message" problem (the file of an included line
 * is the included file, whatever file says). */
void		 cfg_error(struct config *, const char *file, int line,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void		 config_free(struct config *);
struct child_conf *config_child(const struct config *, const char *name);
struct group_conf *config_group(const struct config *, const char *name);
struct profile_conf *config_profile(const struct config *, const char *name);
char		*child_conf_fingerprint(const struct config *,
		    const struct child_conf *);
struct child_conf *child_conf_dup(const struct child_conf *);
void		 child_conf_free(struct child_conf *);
int		 member_conf_from_profile(struct child_conf *,
		    const struct profile_conf *, const struct config *);

/* helpers shared with the daemon */
int	split_args(const char *s, struct strlist *out, const char **err);
int	signal_parse(const char *s);
const char *signal_name(int sig);
void	strlist_free(struct strlist *);
int	strlist_add(struct strlist *, const char *);
int	strlist_has(const struct strlist *, const char *);
int	parse_ms(const char *s, int64_t *out);
int	valid_name(const char *);

int		 http_url(const char *);
/* Every key of every section, for the documentation's test. */
void		 config_keys(void (*)(const char *section, const char *key,
		    void *), void *);
/* config_params.c: a profile's provider parameters as JSON text */
char		*profile_params_json(const struct profile_conf *);
/* The server command of a stdio [mcp], or NULL (config_mcp.c). */
const char	*mcp_server_command(const struct child_conf *);
const char	*route_target_check(const char *, const char *, char *, size_t);
/* config_gateway.c: [gateway] checked and made the module "gateway" */
struct gateway_conf *gateway_conf_new(int line);
void		 gateway_conf_free(struct gateway_conf *);
int		 gateway_listen_loopback(const char *listen);

#endif
