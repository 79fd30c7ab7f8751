/*
 * config_gateway.c: [gateway], checked once the file is read and made the
 * module named "gateway" (command mobkit-gateway), whose settings reach
 * it in its environment (MOBKIT_GATEWAY_*), so that a change of any of
 * them restarts it at reload like any change of a module.
 *
 * Invariant: auth is on unless listen is a loopback address and auth =
 * none is written; every file named is absolute and readable at load.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "log.h"

#define GW_DEF_LISTEN	"127.0.0.1:8787"
#define GW_DEF_BODY	1048576

/* A [gateway] with its keys unset. */
struct gateway_conf *
gateway_conf_new(int line)
{
	struct gateway_conf *g = calloc(1, sizeof(*g));

	if (g == NULL)
		fatal("config");
	g->line = line;
	child_conf_init(&g->mod);
	g->console = UNSET;
	g->metrics_auth = UNSET;
	g->max_body_bytes = UNSET;
	return g;
}

void
gateway_conf_free(struct gateway_conf *g)
{
	if (g == NULL)
		return;
	free(g->listen);
	free(g->auth);
	free(g->token_file);
	free(g->jwt_jwks_file);
	free(g->jwt_issuer);
	free(g->jwt_audience);
	free(g->tls_cert_file);
	free(g->tls_key_file);
	free(g->mod.group);
	free(g->mod.cwd);
	free(g->mod.user);
	strlist_free(&g->mod.depends);
	strlist_free(&g->mod.env);
	strlist_free(&g->mod.pass_env);
	free(g);
}

/* Split HOST:PORT or [V6]:PORT; 0, or -1 when it is neither. */
static int
listen_split(const char *s, char *host, size_t hsz, int *port)
{
	const char *colon, *h = s, *he;
	char *end;
	long p;

	if (*s == '[') {
		if ((he = strchr(s, ']')) == NULL || he[1] != ':')
			return -1;
		h = s + 1;
		colon = he + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		he = colon;
	}
	if ((size_t)(he - h) >= hsz || he == h)
		return -1;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

/* Is listen (HOST:PORT) on a loopback address?  -1 when malformed. */
int
gateway_listen_loopback(const char *listen)
{
	struct in6_addr a6;
	struct in_addr a4;
	char host[256];
	int port;

	if (listen_split(listen, host, sizeof(host), &port) == -1)
		return -1;
	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return -1;
}

/* A file named by a key: made absolute, and readable now. */
static void
gw_file(struct config *cfg, char **p, int line, const char *key)
{
	char *abs;
	FILE *fp;

	if (*p == NULL)
		return;
	if (**p != '/' && cfg->dir != NULL) {
		if (asprintf(&abs, "%s/%s", cfg->dir, *p) == -1)
			fatal("config");
		free(*p);
		*p = abs;
	}
	if ((fp = open_regular(cfg, *p, line, key)) != NULL)
		fclose(fp);
}

/* The keys' own rules: listen, auth and what it needs, TLS in pairs. */
static void
gw_check(struct config *cfg, struct gateway_conf *g)
{
	int lb, line;

	if (g->listen == NULL && (g->listen = strdup(GW_DEF_LISTEN)) == NULL)
		fatal("config");
	line = g->listen_line ? g->listen_line : g->line;
	if ((lb = gateway_listen_loopback(g->listen)) == -1)
		cfg_error(cfg, cfg->path, line, "[gateway]: listen: \"%s\" is "
		    "not HOST:PORT or [V6ADDR]:PORT with a numeric address",
		    g->listen);
	if (g->auth == NULL && (g->auth = strdup(g->jwt_jwks_file != NULL ?
	    "jwt" : "token")) == NULL)
		fatal("config");
	line = g->auth_line ? g->auth_line : g->line;
	if (strcmp(g->auth, "none") == 0 && lb == 0)
		cfg_error(cfg, cfg->path, line, "[gateway]: auth = none is "
		    "refused on \"%s\", which is not a loopback address: set "
		    "token_file or jwt_jwks_file", g->listen);
	if (strcmp(g->auth, "token") == 0 && g->token_file == NULL)
		cfg_error(cfg, cfg->path, line, "[gateway]: auth = token needs "
		    "token_file (one bearer token a line)");
	if (strcmp(g->auth, "jwt") == 0 && g->jwt_jwks_file == NULL)
		cfg_error(cfg, cfg->path, line, "[gateway]: auth = jwt needs "
		    "jwt_jwks_file");
	if ((g->tls_cert_file == NULL) != (g->tls_key_file == NULL))
		cfg_error(cfg, cfg->path, g->tls_cert_file ?
		    g->tls_cert_file_line : g->tls_key_file_line, "[gateway]: "
		    "tls_cert_file and tls_key_file go together");
	gw_file(cfg, &g->token_file, g->token_file_line, "token_file");
	gw_file(cfg, &g->jwt_jwks_file, g->jwt_jwks_file_line,
	    "jwt_jwks_file");
	gw_file(cfg, &g->tls_cert_file, g->tls_cert_file_line,
	    "tls_cert_file");
	gw_file(cfg, &g->tls_key_file, g->tls_key_file_line, "tls_key_file");
	if (g->console == UNSET)
		g->console = 1;
	if (g->metrics_auth == UNSET)
		g->metrics_auth = 1;
	if (g->max_body_bytes == UNSET)
		g->max_body_bytes = GW_DEF_BODY;
	if (g->max_body_bytes < 1)
		cfg_error(cfg, cfg->path, g->line, "[gateway]: max_body_bytes "
		    "must be at least 1");
}

/* NAME=value into the child's environment, when value is set. */
static void
gw_env(struct child_conf *c, const char *name, const char *value)
{
	char *kv;

	if (value == NULL)
		return;
	if (asprintf(&kv, "MOBKIT_GATEWAY_%s=%s", name, value) == -1 ||
	    strlist_add(&c->env, kv) == -1)
		fatal("config");
	free(kv);
}

/* The module "gateway" from [gateway]: checked later as any module. */
static struct child_conf *
gw_child(struct config *cfg, const struct gateway_conf *g)
{
	struct child_conf *c = child_conf_dup(&g->mod);
	char n[32];

	free(c->name);
	if ((c->name = strdup("gateway")) == NULL ||
	    (c->command = strdup("mobkit-gateway")) == NULL)
		fatal("config");
	c->line = g->line;
	c->kind = KIND_MODULE;
	c->ready = UNSET;
	gw_env(c, "LISTEN", g->listen);
	gw_env(c, "AUTH", g->auth);
	gw_env(c, "TOKEN_FILE", g->token_file);
	gw_env(c, "JWKS_FILE", g->jwt_jwks_file);
	gw_env(c, "JWT_ISSUER", g->jwt_issuer);
	gw_env(c, "JWT_AUDIENCE", g->jwt_audience);
	gw_env(c, "TLS_CERT_FILE", g->tls_cert_file);
	gw_env(c, "TLS_KEY_FILE", g->tls_key_file);
	gw_env(c, "CONSOLE", g->console ? "true" : "false");
	gw_env(c, "METRICS_AUTH", g->metrics_auth ? "true" : "false");
	snprintf(n, sizeof(n), "%lld", (long long)g->max_body_bytes);
	gw_env(c, "MAX_BODY_BYTES", n);
	if (cfg->control_socket != NULL)
		gw_env(c, "CONTROL_SOCKET", cfg->control_socket);
	return c;
}

/* [gateway], if any: checked, and added to the children as "gateway". */
void
gateway_finish(struct config *cfg)
{
	struct gateway_conf *g = cfg->gateway;
	struct child_conf *c;

	if (g == NULL)
		return;
	if ((c = config_child(cfg, "gateway")) != NULL) {
		char at[PATH_MAX + 16];

		cfg_error(cfg, cfg->path, g->line, "[gateway]: the name "
		    "\"gateway\" is taken by the [%s gateway] at %s",
		    kind_names[c->kind], cfg_place(cfg, g->line, c->line, at,
		    sizeof(at)));
		return;
	}
	gw_check(cfg, g);
	if (push(&cfg->children, &cfg->nchildren, gw_child(cfg, g)) == -1)
		fatal("config");
}
