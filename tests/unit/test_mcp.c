/*
 * test_mcp.c: JSON-RPC as mobkit-mcp speaks it (mcp/jsonrpc.c): lines cut
 * from pieces of any size and bounded, messages classified by their
 * fields, encoded on one line; and the [mcp NAME] section of the config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../mcp/jsonrpc.h"
#include "config.h"
#include "unit.h"

struct got {
	char	 lines[8][64];
	int	 n;
	int	 over;
};

static void
collect(void *arg, char *line, size_t len)
{
	struct got *g = arg;

	if (line == NULL) {
		g->over++;
		return;
	}
	ck_assert_uint_eq(strlen(line), len);
	snprintf(g->lines[g->n++], sizeof(g->lines[0]), "%s", line);
}

START_TEST(t_lines_pieces)
{
	const char *in = "{\"a\":1}\r\n\n{\"b\":2}\n{\"c\"";
	struct jrpc_lines l;
	struct got g = { .n = 0 };
	size_t i;

	jrpc_lines_init(&l, 1024);
	for (i = 0; i < strlen(in); i++)	/* a byte at a time */
		jrpc_lines_feed(&l, in + i, 1, collect, &g);
	ck_assert_int_eq(g.n, 3);
	ck_assert_str_eq(g.lines[0], "{\"a\":1}");
	ck_assert_str_eq(g.lines[1], "");
	ck_assert_str_eq(g.lines[2], "{\"b\":2}");
	jrpc_lines_feed(&l, ":3}\n", 4, collect, &g);
	ck_assert_int_eq(g.n, 4);
	ck_assert_str_eq(g.lines[3], "{\"c\":3}");
	jrpc_lines_free(&l);
}
END_TEST

START_TEST(t_lines_bounded)
{
	struct jrpc_lines l;
	struct got g = { .n = 0 };
	char big[100];

	memset(big, 'x', sizeof(big));
	jrpc_lines_init(&l, 16);
	jrpc_lines_feed(&l, big, sizeof(big), collect, &g);
	jrpc_lines_feed(&l, big, sizeof(big), collect, &g);
	ck_assert_int_eq(g.over, 1);	/* said once per line */
	ck_assert_int_eq(g.n, 0);
	jrpc_lines_feed(&l, "\nok\n", 4, collect, &g);
	ck_assert_int_eq(g.n, 1);	/* the next line is whole */
	ck_assert_str_eq(g.lines[0], "ok");
	ck_assert_uint_le(l.cap, 4096);	/* never grown past the bound */
	jrpc_lines_free(&l);
}
END_TEST

/* Classify the text s: its kind, or -1. */
static int
kind_of(const char *s, struct jrpc_msg *m)
{
	char err[128];
	json_t *v = jrpc_parse(s, strlen(s), err, sizeof(err));
	int r;

	if (v == NULL)
		return -2;
	r = jrpc_classify(v, m, err, sizeof(err));
	json_decref(v);
	return r == -1 ? -1 : m->kind;
}

START_TEST(t_classify)
{
	struct jrpc_msg m;

	ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":"
	    "{\"tools\":[]}}", &m), JR_RESULT);
	ck_assert_int_eq(m.nid, 7);
	ck_assert(json_is_object(m.result));
	jrpc_msg_free(&m);
	ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":"
	    "{\"code\":-32601,\"message\":\"no\"}}", &m), JR_ERROR);
	ck_assert_int_eq(m.code, -32601);
	ck_assert_str_eq(m.message, "no");
	jrpc_msg_free(&m);
	ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":"
	    "\"ping\"}", &m), JR_REQUEST);
	ck_assert_int_eq(m.nid, -1);
	ck_assert_str_eq(m.method, "ping");
	jrpc_msg_free(&m);
	ck_assert_int_eq(kind_of("{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/tools/list_changed\"}", &m), JR_NOTIFICATION);
	jrpc_msg_free(&m);
	/* malformed: said so, never guessed */
	ck_assert_int_eq(kind_of("{\"id\":1}", &m), -1);
	jrpc_msg_free(&m);
	ck_assert_int_eq(kind_of("{\"result\":1}", &m), -1);
	jrpc_msg_free(&m);
	ck_assert_int_eq(kind_of("{\"id\":[1],\"result\":1}", &m), -1);
	jrpc_msg_free(&m);
	ck_assert_int_eq(kind_of("{\"id\":1,\"error\":\"bad\"}", &m), -1);
	jrpc_msg_free(&m);
	ck_assert_int_eq(kind_of("{\"method\":5}", &m), -1);
	jrpc_msg_free(&m);
	ck_assert_int_eq(kind_of("server starting...", &m), -2);
	ck_assert_int_eq(kind_of("42", &m), -2);
}
END_TEST

START_TEST(t_encode)
{
	json_t *id = json_string("a\nb");
	size_t len;
	char *s;

	s = jrpc_request(5, "tools/call", json_pack("{s:s}", "name",
	    "line\nbreak"), &len);
	ck_assert_str_eq(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"line\\nbreak\"}}\n");
	ck_assert_uint_eq(len, strlen(s));
	ck_assert_ptr_eq(strchr(s, '\n'), s + len - 1);	/* one line */
	free(s);
	s = jrpc_notification("notifications/initialized", NULL, &len);
	ck_assert_str_eq(s, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}\n");
	free(s);
	s = jrpc_result(id, NULL, &len);
	ck_assert_str_eq(s, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\nb\","
	    "\"result\":{}}\n");
	free(s);
	s = jrpc_error(id, JRPC_METHOD_NOT_FOUND, "no", &len);
	ck_assert_str_eq(s, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\nb\",\"error\":"
	    "{\"code\":-32601,\"message\":\"no\"}}\n");
	free(s);
	json_decref(id);
}
END_TEST

static struct config *
load(const char *text, char *path, size_t pathsz)
{
	FILE *fp;
	int fd;

	snprintf(path, pathsz, "/tmp/mobkit-unit-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	return config_load(path);
}

/* The first error of text: names line and holds want. */
static void
expect_error(const char *text, int line, const char *want)
{
	char path[64], prefix[80];
	struct config *cfg = load(text, path, sizeof(path));

	ck_assert_msg(cfg->errors.n >= 1, "no error for: %s", text);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	ck_assert_msg(strncmp(cfg->errors.v[0], prefix, strlen(prefix)) == 0 &&
	    strstr(cfg->errors.v[0], want) != NULL, "want line %d \"%s\", "
	    "got %s", line, want, cfg->errors.v[0]);
	config_free(cfg);
	unlink(path);
}

START_TEST(t_config_mcp)
{
	char path[64];
	struct config *cfg = load(
	    "[mcp files]\n"
	    "command = npx\n"
	    "args = -y server /srv\n"
	    "env.TOKEN = t\n"
	    "watchdog_ms = 3000\n"
	    "[mcp web]\n"
	    "url = http://127.0.0.1:3001/mcp\n"
	    "header.Authorization = Bearer x\n"
	    "call_timeout_ms = 500\n"
	    "[profile p]\n"
	    "tools = files web/search\n"
	    "[profile q]\n"
	    "max_tool_rounds = 3\n", path, sizeof(path));
	struct child_conf *f, *w;
	struct profile_conf *p, *q;

	ck_assert_msg(cfg->errors.n == 0, "%s", cfg->errors.n ?
	    cfg->errors.v[0] : "");
	f = config_child(cfg, "files");
	w = config_child(cfg, "web");
	ck_assert_int_eq(f->kind, KIND_MCP);
	ck_assert_str_eq(f->command, "mobkit-mcp");
	ck_assert_int_eq(f->argv.n, 8);
	ck_assert_str_eq(f->argv.v[2], "60000");
	ck_assert_str_eq(f->argv.v[3], "--");
	ck_assert_str_eq(f->argv.v[4], "npx");
	ck_assert_str_eq(f->argv.v[7], "/srv");
	ck_assert_int_eq(f->watchdog_ms, 3000);
	ck_assert_int_eq(f->start_timeout_ms, 60000);
	ck_assert(strlist_has(&f->env, "TOKEN=t"));
	ck_assert_int_eq(w->call_timeout_ms, 500);
	ck_assert_str_eq(w->argv.v[4], "http://127.0.0.1:3001/mcp");
	ck_assert_int_eq(w->watchdog_ms, 10000);
	ck_assert(strlist_has(&w->env,
	    "MOBKIT_MCP_HEADERS=Authorization: Bearer x"));
	p = config_profile(cfg, "p");
	q = config_profile(cfg, "q");
	ck_assert_int_eq(p->tools.n, 2);
	ck_assert_int_eq(p->max_tool_rounds, 8);
	ck_assert_int_eq(q->max_tool_rounds, 3);
	config_free(cfg);
	unlink(path);
}
END_TEST

START_TEST(t_config_mcp_errors)
{
	expect_error("[mcp a]\ncall_timeout_ms = 5\n", 1,
	    "give exactly one of \"command\"");
	expect_error("[mcp a]\ncommand = x\nurl = http://h/\n", 1,
	    "give exactly one of");
	expect_error("[mcp a]\nurl = ftp://h/\n", 2, "not an http://");
	expect_error("[mcp a]\nurl = http://h/\nheader.Bad Name = 1\n", 3,
	    "bad header name");
	expect_error("[mcp a]\nurl = http://h/\nheader.X = 1\nheader.x = 2\n",
	    4, "duplicate header");
	expect_error("[mcp a]\ncommand = x\nheader.X = 1\n", 1,
	    "header.* keys are for a url server");
	expect_error("[module a]\ncommand = /bin/true\n[mcp a]\ncommand = x\n",
	    3, "duplicate name \"a\"");
	expect_error("[mcp a]\ncommand = x\n[profile p]\ntools = a b/c\n", 4,
	    "tools: no [mcp b]");
	expect_error("[profile p]\ntools = /x\n", 2, "tools: bad entry");
	expect_error("[mcp mob]\ncommand = x\n", 1, "reserved name");
}
END_TEST

Suite *
mcp_suite(void)
{
	Suite *s = suite_create("mcp");
	TCase *tc = tcase_create("jsonrpc");

	tcase_add_test(tc, t_lines_pieces);
	tcase_add_test(tc, t_lines_bounded);
	tcase_add_test(tc, t_classify);
	tcase_add_test(tc, t_encode);
	tcase_add_test(tc, t_config_mcp);
	tcase_add_test(tc, t_config_mcp_errors);
	suite_add_tcase(s, tc);
	return s;
}
