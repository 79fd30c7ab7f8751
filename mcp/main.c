/*
 * mobkit-mcp: the bridge between mobkitd and one MCP server.
 *
 *   mobkit-mcp -t CALL_TIMEOUT_MS -- COMMAND ARGS...   (stdio: spawned)
 *   mobkit-mcp -t CALL_TIMEOUT_MS -u URL               (Streamable HTTP)
 *
 * with MOBKIT_MCP_HEADERS ("Name: value" lines) for a url.  To the root
 * it is a child like the others (HELLO, READY, PING/PONG, STOP on fd 3);
 * it is READY once the server is initialised and its tools listed.  When
 * the server exits, so does the bridge, non-zero: the root restarts it
 * per policy and fails the calls that were in flight.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "child.h"
#include "frame.h"
#include "log.h"
#include "msgtab.h"
#include "proto.h"

struct ev_loop		*bridge_loop;
const char		*bridge_name = "mcp";
const struct transport	*bridge_transport;
long			 bridge_call_timeout_ms = 60000;

static struct mkchild	 mk;
static int		 stopping;

/* Send a message built in w to the root; a full queue is logged. */
static void
root_send(struct msgw *w, const char *what)
{
	if (mk.peer == NULL) {
		msgw_free(w);
		return;
	}
	if (msgw_send(w, mk.peer, 0) == -1)
		log_warnx("%s: %s not sent: mobkitd's queue is full",
		    bridge_name, what);
}

void
root_ready(void)
{
	if (mk.peer != NULL && mkchild_ready(&mk) == -1)
		log_warnx("%s: READY not sent", bridge_name);
}

void
root_list(const char *tools_json)
{
	struct msgw w;

	msgw_begin(&w, MSG_MCP_LIST);
	msgw_str(&w, K_TOOLS, tools_json);
	root_send(&w, "MCP_LIST");
}

void
root_result(const char *call_id, const char *content_json, int is_error)
{
	struct msgw w;

	msgw_begin(&w, MSG_MCP_RESULT);
	msgw_str(&w, K_CALL_ID, call_id);
	msgw_str(&w, K_CONTENT, content_json);
	msgw_bool(&w, K_IS_ERROR, is_error);
	root_send(&w, "MCP_RESULT");
}

void
root_pong(int64_t seq)
{
	struct msgw w;

	msgw_begin(&w, MSG_PONG);
	msgw_int(&w, K_SEQ, seq);
	root_send(&w, "PONG");
}

/* Leave: what is queued for the root is written first. */
void
bridge_exit(int code)
{
	if (mk.peer != NULL) {
		(void)peer_flush(mk.peer, 1000);
		peer_free(mk.peer);
		mk.peer = NULL;
	}
	exit(code);
}

/* STOP, a signal, or the root gone: end the server's side, then exit. */
static void
on_stop(void *arg)
{
	(void)arg;
	if (stopping++)
		return;
	if (bridge_transport != NULL && bridge_transport->stop != NULL)
		bridge_transport->stop();
	else
		bridge_exit(0);
}

/* MCP_CALL from the root. */
static void
on_call(const struct msg_view *v)
{
	char call_id[128], name[256];
	const char *args;
	size_t alen;
	char *a;

	(void)msgv_copy(v, K_CALL_ID, call_id, sizeof(call_id));
	(void)msgv_copy(v, K_NAME, name, sizeof(name));
	args = msgv_str(v, K_ARGS, &alen);
	if ((a = strndup(args ? args : "", args ? alen : 0)) == NULL)
		fatal("strndup");
	session_call(call_id, name, a);
	free(a);
}

static int
on_msg(struct peer *p, const msgpack_object *m, void *arg)
{
	struct msg_view v;
	char err[256], call_id[128];

	(void)p;
	(void)arg;
	if (msg_read(m, &v, err, sizeof(err)) == -1) {
		log_warnx("from mobkitd: %s: dropped", err);
		return 0;
	}
	switch (v.type) {
	case MSG_STOP:
		on_stop(NULL);
		break;
	case MSG_PING:
		session_ping(msgv_int(&v, K_SEQ, 0));
		break;
	case MSG_MCP_CALL:
		on_call(&v);
		break;
	case MSG_MCP_CANCEL:
		(void)msgv_copy(&v, K_CALL_ID, call_id, sizeof(call_id));
		session_cancel(call_id);
		break;
	default:
		log_debug("ignored message %s from mobkitd",
		    msg_type_name((int)v.type));
	}
	return 0;
}

static void
on_gone(struct peer *p, const char *why, void *arg)
{
	(void)p;
	(void)arg;
	log_info("%s: mobkitd socket %s: stopping", bridge_name, why);
	peer_free(mk.peer);
	mk.peer = NULL;
	on_stop(NULL);
}

static void
usage(void)
{
	fprintf(stderr, "usage: mobkit-mcp [-t call_timeout_ms] "
	    "(-u url | -- command [args...])\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *url = NULL, *name;
	int ch;

	if (mkchild_version("mobkit-mcp", argc, argv))
		return 0;
	while ((ch = getopt(argc, argv, "t:u:")) != -1)
		switch (ch) {
		case 't':	/* the root keeps the deadlines: a bound here */
			bridge_call_timeout_ms = strtol(optarg, NULL, 10);
			break;
		case 'u':
			url = optarg;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if ((url == NULL) == (argc == 0))
		usage();
	signal(SIGPIPE, SIG_IGN);
	bridge_loop = EV_DEFAULT;
	if (mkchild_init(&mk, bridge_loop, "mobkit-mcp", on_stop, NULL) == -1)
		return 1;
	if ((name = getenv("MOBKIT_NAME")) != NULL)
		bridge_name = name;
	if (mk.peer != NULL) {
		mk.peer->on_msg = on_msg;
		mk.peer->on_gone = on_gone;
	}
	if ((url != NULL ? http_open(url, getenv("MOBKIT_MCP_HEADERS")) :
	    stdio_open(argv)) == -1)
		return 1;
	session_start();
	ev_run(bridge_loop, 0);
	bridge_exit(stopping ? 0 : 1);
}
