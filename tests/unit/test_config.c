/* test_config.c: every key lands in its field; every error names its line. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "unit.h"

static char path[64];

static struct config *
load(const char *text)
{
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/mobkit-unit-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	return config_load(path);
}

static void
unload(struct config *cfg)
{
	config_free(cfg);
	unlink(path);
}

/* The config must fail with exactly one error ending in want at line. */
static void
expect_error(const char *text, int line, const char *want)
{
	struct config *cfg = load(text);
	char prefix[128];

	ck_assert_msg(cfg->errors.n >= 1, "no error for: %s", text);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	ck_assert_msg(strncmp(cfg->errors.v[0], prefix, strlen(prefix)) == 0,
	    "want line %d, got %s", line, cfg->errors.v[0]);
	ck_assert_msg(strstr(cfg->errors.v[0], want) != NULL,
	    "want \"%s\" in \"%s\"", want, cfg->errors.v[0]);
	unload(cfg);
}

START_TEST(t_every_key)
{
	struct config *cfg = load(
	    "[mobkitd]\n"
	    "control_socket = run/ctl.sock\n"
	    "state_dir = /var/lib/mobkit\n"
	    "log_level = debug\n"
	    "start_timeout_ms = 1111\n"
	    "stop_timeout_ms = 2222\n"
	    "drain_timeout_ms = 3333\n"
	    "strategy = rest_for_one\n"
	    "max_restarts = 7\n"
	    "restart_window_ms = 4444\n"
	    "[group g]\n"
	    "strategy = one_for_all\n"
	    "max_restarts = 2\n"
	    "restart_window_ms = 999\n"
	    "[group h]\n"
	    "group = g\n"
	    "[module base]\n"
	    "command = /bin/true\n"
	    "[module m]\n"
	    "command = mobkit-router\n"
	    "args = --mode 'fast lane' \"x\\\"y\"\n"
	    "group = g\n"
	    "depends = base\n"
	    "restart = on_failure\n"
	    "ready = notify\n"
	    "max_restarts = 9\n"
	    "restart_window_ms = 5555\n"
	    "restart_backoff_ms = 10\n"
	    "restart_backoff_max_ms = 20\n"
	    "on_exhausted = escalate\n"
	    "start_timeout_ms = 6666\n"
	    "stop_timeout_ms = 7777\n"
	    "stop_signal = USR1\n"
	    "cwd = /tmp\n"
	    "user = root\n"
	    "env.FOO = bar baz\n"
	    "env.N = 1\n"
	    "[mob]\n"
	    "id = my-mob\n"
	    "[profile p]\n"
	    "provider = openai\n"
	    "model = gpt-4o-mini\n"
	    "base_url = http://127.0.0.1:8080/v1\n"
	    "api_key_env = KEY\n"
	    "system = line one\n"
	    "  line two\n"
	    "request_timeout_ms = 1234\n"
	    "max_attempts = 4\n"
	    "mailbox_capacity = 50\n"
	    "comms = false\n"
	    "restart = never\n"
	    "max_restarts = 1\n"
	    "[member w]\n"
	    "profile = p\n"
	    "instructions = be brief\n"
	    "peers = v\n"
	    "[member v]\n"
	    "profile = p\n"
	    "[route r]\n"
	    "recipient = *\n"
	    "channel = email\n"
	    "sink = webhook\n"
	    "target = https://example.org/hook\n"
	    "retry_max = 3\n"
	    "backoff_ms = 250\n"
	    "rate_limit_per_minute = 60\n"
	    "[delivery]\n"
	    "smtp_url = smtp://127.0.0.1:2525\n"
	    "mail_from = a@b\n"
	    "[schedule s]\n"
	    "cron = 0 9 * * 1-5\n"
	    "timezone = Europe/Paris\n"
	    "enabled = false\n"
	    "jitter_ms = 5\n"
	    "catch_up = true\n"
	    "member = w\n"
	    "message = Daily report, please.\n");
	struct child_conf *m, *w;
	struct profile_conf *p;

	ck_assert_msg(cfg->errors.n == 0, "%s", cfg->errors.v ?
	    cfg->errors.v[0] : "");
	ck_assert_str_eq(cfg->state_dir, "/var/lib/mobkit");
	ck_assert_ptr_nonnull(strstr(cfg->control_socket, "/run/ctl.sock"));
	ck_assert_int_eq(cfg->control_socket[0], '/');
	ck_assert_int_eq(cfg->log_level, 3);
	ck_assert_int_eq(cfg->start_timeout_ms, 1111);
	ck_assert_int_eq(cfg->stop_timeout_ms, 2222);
	ck_assert_int_eq(cfg->drain_timeout_ms, 3333);
	ck_assert_int_eq(cfg->strategy, STRAT_REST_FOR_ONE);
	ck_assert_int_eq(cfg->max_restarts, 7);
	ck_assert_int_eq(cfg->restart_window_ms, 4444);
	ck_assert_int_eq(config_group(cfg, "g")->strategy, STRAT_ONE_FOR_ALL);
	ck_assert_int_eq(config_group(cfg, "g")->max_restarts, 2);
	ck_assert_int_eq(config_group(cfg, "g")->restart_window_ms, 999);
	ck_assert_str_eq(config_group(cfg, "h")->parent, "g");
	m = config_child(cfg, "m");
	ck_assert_str_eq(m->command, "mobkit-router");
	ck_assert_int_eq(m->argv.n, 4);
	ck_assert_str_eq(m->argv.v[1], "--mode");
	ck_assert_str_eq(m->argv.v[2], "fast lane");
	ck_assert_str_eq(m->argv.v[3], "x\"y");
	ck_assert_str_eq(m->group, "g");
	ck_assert_str_eq(m->depends.v[0], "base");
	ck_assert_int_eq(m->restart, RESTART_ON_FAILURE);
	ck_assert_int_eq(m->ready, READY_NOTIFY);
	ck_assert_int_eq(m->max_restarts, 9);
	ck_assert_int_eq(m->restart_window_ms, 5555);
	ck_assert_int_eq(m->restart_backoff_ms, 10);
	ck_assert_int_eq(m->restart_backoff_max_ms, 20);
	ck_assert_int_eq(m->on_exhausted, EXH_ESCALATE);
	ck_assert_int_eq(m->start_timeout_ms, 6666);
	ck_assert_int_eq(m->stop_timeout_ms, 7777);
	ck_assert_int_eq(m->stop_signal, SIGUSR1);
	ck_assert_str_eq(m->cwd, "/tmp");
	ck_assert_str_eq(m->user, "root");
	ck_assert_str_eq(m->env.v[0], "FOO=bar baz");
	ck_assert_str_eq(m->env.v[1], "N=1");
	/* defaults: a plain program is ready = none, timeouts from [mobkitd] */
	ck_assert_int_eq(config_child(cfg, "base")->ready, READY_NONE);
	ck_assert_int_eq(config_child(cfg, "base")->start_timeout_ms, 1111);
	ck_assert_int_eq(config_child(cfg, "base")->restart, RESTART_ALWAYS);
	ck_assert_int_eq(config_child(cfg, "base")->max_restarts, 5);
	ck_assert_int_eq(config_child(cfg, "base")->restart_backoff_ms, 100);
	ck_assert_str_eq(cfg->mob_id, "my-mob");
	p = config_profile(cfg, "p");
	ck_assert_str_eq(p->provider, "openai");
	ck_assert_str_eq(p->model, "gpt-4o-mini");
	ck_assert_str_eq(p->base_url, "http://127.0.0.1:8080/v1");
	ck_assert_str_eq(p->api_key_env, "KEY");
	ck_assert_str_eq(p->system, "line one\nline two");
	ck_assert_int_eq(p->request_timeout_ms, 1234);
	ck_assert_int_eq(p->max_attempts, 4);
	ck_assert_int_eq(p->mailbox_capacity, 50);
	ck_assert_int_eq(p->comms, 0);
	w = config_child(cfg, "w");
	ck_assert_int_eq(w->kind, KIND_MEMBER);
	ck_assert_str_eq(w->command, "mobkit-worker");
	ck_assert_str_eq(w->group, "mob");
	ck_assert_int_eq(w->ready, READY_MESSAGE);
	ck_assert_int_eq(w->restart, RESTART_NEVER);
	ck_assert_int_eq(w->max_restarts, 1);
	ck_assert_str_eq(w->instructions, "be brief");
	ck_assert_str_eq(w->peers.v[0], "v");
	/* members come after modules in start order */
	ck_assert_int_eq(cfg->children[cfg->nchildren - 1]->kind, KIND_MEMBER);
	ck_assert_str_eq(cfg->routes[0]->channel, "email");
	ck_assert_str_eq(cfg->routes[0]->sink, "webhook");
	ck_assert_int_eq(cfg->routes[0]->retry_max, 3);
	ck_assert_int_eq(cfg->routes[0]->rate_limit_per_minute, 60);
	ck_assert_str_eq(cfg->smtp_url, "smtp://127.0.0.1:2525");
	ck_assert_str_eq(cfg->mail_from, "a@b");
	ck_assert_str_eq(cfg->schedules[0]->cron, "0 9 * * 1-5");
	ck_assert_str_eq(cfg->schedules[0]->timezone, "Europe/Paris");
	ck_assert_int_eq(cfg->schedules[0]->enabled, 0);
	ck_assert_int_eq(cfg->schedules[0]->jitter_ms, 5);
	ck_assert_int_eq(cfg->schedules[0]->catch_up, 1);
	ck_assert_str_eq(cfg->schedules[0]->member, "w");
	unload(cfg);
}
END_TEST

START_TEST(t_errors)
{
	expect_error("[mobkitd]\nnope = 1\n", 2, "unknown key \"nope\"");
	expect_error("\n\n[bogus]\n", 3, "unknown section [bogus]");
	expect_error("[module]\n", 1, "[module] needs a name");
	expect_error("[mob x]\n", 1, "[mob] takes no name");
	expect_error("[module a b]\ncommand = x\n", 1, "bad name \"a b\"");
	expect_error("[mobkitd]\n[mobkitd]\n", 2, "duplicate section [mobkitd]");
	expect_error("[module a]\ncommand = x\n[member a]\nprofile = p\n", 3,
	    "duplicate name \"a\"");
	expect_error("[module a]\ncommand = x\ncommand = y\n", 3,
	    "duplicate key \"command\"");
	expect_error("[module a]\ncommand = x\nmax_restarts = -1\n", 3,
	    "max_restarts: bad value \"-1\"");
	expect_error("[module a]\ncommand = x\nready = maybe\n", 3,
	    "expected message | stdout | notify | none");
	expect_error("[module a]\ncommand = x\nenv.1X = y\n", 3,
	    "bad environment variable name");
	expect_error("[module a]\ncommand = x\nuser = no-such-user-here\n", 1,
	    "no such user");
	expect_error("[module a]\n", 1, "missing \"command\"");
	expect_error("[module a]\ncommand = x\n\ndepends = a\n", 4,
	    "depends on itself");
	expect_error("[module a]\ncommand = x\nrestart_backoff_ms = 50\n"
	    "restart_backoff_max_ms = 10\n", 1, "is below restart_backoff_ms");
	expect_error("[group g]\ngroup = g2\n[group g2]\ngroup = g\n", 2,
	    "groups form a cycle");
	expect_error("[group root]\n", 1, "[group root] is the [mobkitd]");
	expect_error("[profile p]\nprovider = openai\n", 1, "needs \"model\"");
	expect_error("[profile p]\nprovider = claude\n", 2,
	    "expected echo | openai");
	expect_error("[profile p]\n[member m]\nprofile = p\npeers = m\n", 4,
	    "cannot be its own peer");
	expect_error("[route r]\nsink = pigeon\n", 2, "expected webhook");
	expect_error("[route r]\nsink = file\ntarget = x\nretry_max = 11\n", 1,
	    "above the limit of 10");
	expect_error("[profile p]\n[member m]\nprofile = p\n[schedule s]\n"
	    "interval = */5m\ncron = * * * * *\nmember = m\nmessage = x\n", 4,
	    "exactly one of interval and cron");
	expect_error("[profile p]\n[member m]\nprofile = p\n[schedule s]\n"
	    "cron = * * *\nmember = m\nmessage = x\n", 4, "expected 5 fields");
	expect_error("[profile p]\n[member m]\nprofile = p\n[schedule s]\n"
	    "cron = 0 0 30 2 *\nmember = m\nmessage = x\n", 4, "never falls");
	expect_error("[profile p]\n[member m]\nprofile = p\n[schedule s]\n"
	    "interval = */5m\ntimezone = Mars/Base\nmember = m\nmessage = x\n",
	    4, "timezone: unknown \"Mars/Base\"");
	expect_error("[mobkitd]\nlog_level = info\n  more\n", 3,
	    "takes a single line");
	expect_error("[profile p]\nsystem_file = /nonexistent/x.md\n", 1,
	    "cannot read \"/nonexistent/x.md\"");
}
END_TEST

/* Loads without an error. */
static void
expect_ok(const char *text)
{
	struct config *cfg = load(text);

	ck_assert_msg(cfg->errors.n == 0, "%s: %s", text, cfg->errors.v[0]);
	unload(cfg);
}

START_TEST(t_paths)
{
	struct config *cfg;
	char text[400];

	cfg = config_load("/tmp");
	ck_assert_int_eq(cfg->errors.n, 1);
	ck_assert_str_eq(cfg->errors.v[0],
	    "/tmp: is a directory, not a config file");
	ck_assert_int_eq(cfg->nchildren, 0);
	config_free(cfg);
	cfg = config_load("/nonexistent/mobkit.ini");
	ck_assert_int_eq(cfg->errors.n, 1);
	ck_assert_str_eq(cfg->errors.v[0], "/nonexistent/mobkit.ini: cannot "
	    "read the config file: No such file or directory");
	config_free(cfg);
	expect_error("[module a]\ncommand = x\ncwd = /nonexistent/dir\n", 1,
	    "[module a]: cwd: \"/nonexistent/dir\": No such file");
	expect_error("[module a]\ncommand = x\ncwd = /etc/passwd\n", 1,
	    "[module a]: cwd: \"/etc/passwd\" is not a directory");
	expect_error("[profile p]\ncwd = /etc/passwd\n[member m]\nprofile = p\n",
	    3, "[member m]: cwd: \"/etc/passwd\" is not a directory");
	expect_ok("[module a]\ncommand = x\ncwd = /tmp\n");
	expect_error("[profile p]\nsystem_file = /tmp\n", 1,
	    "system_file: \"/tmp\" is a directory");
	expect_error("[profile p]\nsystem_file = /dev/null\n", 1,
	    "system_file: \"/dev/null\" is not a regular file");
	expect_error("[profile p]\n[member m]\nprofile = p\n"
	    "instructions_file = /tmp\n", 2, "instructions_file: \"/tmp\" is "
	    "a directory");
	snprintf(text, sizeof(text), "[mobkitd]\nlog_level = info\n"
	    "control_socket = /tmp/%0103d\n", 0);
	expect_error(text, 3, "is 108 bytes long, a socket path holds at most "
	    "107");
	snprintf(text, sizeof(text), "[mobkitd]\ncontrol_socket = /tmp/%0102d\n",
	    0);
	expect_ok(text);
	expect_error("[route r]\nsink = webhook\ntarget = ftp://x/y\n", 1,
	    "[route r]: target: \"ftp://x/y\" is not an http:// or https:// URL");
	expect_error("[route r]\nsink = webhook\ntarget = http://\n", 1,
	    "is not an http:// or https:// URL");
	expect_error("[route r]\nsink = webhook\ntarget = http://a b/\n", 1,
	    "is not an http:// or https:// URL");
	expect_error("[route r]\nsink = email\ntarget = a@b>\n", 1,
	    "[route r]: target: \"a@b>\" is not an email address");
	expect_error("[route r]\nsink = email\ntarget = <a@b>\n", 1,
	    "is not an email address");
	expect_ok("[route r]\nsink = email\ntarget = ops@example.com\n"
	    "[route w]\nsink = webhook\ntarget = https://example.com/h\n"
	    "[route f]\nsink = file\ntarget = x.jsonl\n");
	expect_error("[delivery]\nsmtp_url = smtp://h\nmail_from = me\n", 3,
	    "mail_from: \"me\" is not an email address");
	expect_error("[delivery]\nsmtp_url = imap://h\n", 2,
	    "smtp_url: \"imap://h\" is not an smtp:// or smtps:// URL");
	expect_error("[module root]\ncommand = x\n", 1,
	    "[module root]: \"root\" is a reserved name");
	expect_error("[module mob]\ncommand = x\n", 1,
	    "[module mob]: \"mob\" is a reserved name");
	expect_error("[profile p]\n[member root]\nprofile = p\n", 2,
	    "\"root\" is a reserved name");
	expect_error("[profile p]\n[member mob]\nprofile = p\n", 2,
	    "\"mob\" is a reserved name");
	expect_ok("[group mob]\nstrategy = one_for_all\n[module a]\n"
	    "command = x\ngroup = mob\n[module b]\ncommand = x\n"
	    "group = root\n");
}
END_TEST

START_TEST(t_warnings)
{
	struct config *cfg;
	char want[256];

	unsetenv("MOBKIT_UNIT_NO_KEY");
	cfg = load("[profile p]\nprovider = openai\nmodel = m\n"
	    "api_key_env = MOBKIT_UNIT_NO_KEY\n");
	ck_assert_int_eq(cfg->errors.n, 0);
	ck_assert_int_eq(cfg->warnings.n, 1);
	snprintf(want, sizeof(want), "%s:1: warning: [profile p]: api_key_env: "
	    "MOBKIT_UNIT_NO_KEY is not set in mobkitd's environment", path);
	ck_assert_str_eq(cfg->warnings.v[0], want);
	unload(cfg);
	setenv("MOBKIT_UNIT_NO_KEY", "k", 1);
	cfg = load("[profile p]\napi_key_env = MOBKIT_UNIT_NO_KEY\n");
	ck_assert_int_eq(cfg->errors.n, 0);
	ck_assert_int_eq(cfg->warnings.n, 0);
	unload(cfg);
	unsetenv("MOBKIT_UNIT_NO_KEY");
}
END_TEST

START_TEST(t_long_line)
{
	char text[600];

	snprintf(text, sizeof(text), "[module a]\ncommand = x\nargs = %0250d\n",
	    0);
	expect_error(text, 3, "line is 257 characters long, the limit is 197");
}
END_TEST

START_TEST(t_split_args)
{
	struct strlist l;
	const char *err;

	ck_assert_int_eq(split_args("a  'b c' \"d\\\"e\" f\\ g ''", &l, &err), 0);
	ck_assert_int_eq(l.n, 5);
	ck_assert_str_eq(l.v[0], "a");
	ck_assert_str_eq(l.v[1], "b c");
	ck_assert_str_eq(l.v[2], "d\"e");
	ck_assert_str_eq(l.v[3], "f g");
	ck_assert_str_eq(l.v[4], "");
	strlist_free(&l);
	ck_assert_int_eq(split_args("'open", &l, &err), -1);
	ck_assert_str_eq(err, "unterminated single quote");
	ck_assert_int_eq(split_args("x\\", &l, &err), -1);
	ck_assert_int_eq(signal_parse("TERM"), SIGTERM);
	ck_assert_int_eq(signal_parse("SIGKILL"), SIGKILL);
	ck_assert_int_eq(signal_parse("9"), 9);
	ck_assert_int_eq(signal_parse("0"), -1);
	ck_assert_int_eq(signal_parse("NOPE"), -1);
	ck_assert_str_eq(signal_name(SIGKILL), "KILL");
}
END_TEST

/* The provider keys of a [profile]: parsed, checked, packed as params. */
START_TEST(t_provider_keys)
{
	struct config *cfg = load(
	    "[profile p]\n"
	    "provider = openai\n"
	    "model = m\n"
	    "api_key_header = api-key\n"
	    "header.X-Trace = a b\n"
	    "query.api-version = 2024-10-21\n"
	    "temperature = 0.2\n"
	    "top_p = 1\n"
	    "max_tokens = 100\n"
	    "seed = 7\n"
	    "stop = END \"two words\"\n"
	    "response_format = json_object\n"
	    "stream = false\n"
	    "connect_timeout_ms = 1\n"
	    "first_byte_timeout_ms = 2\n"
	    "idle_timeout_ms = 3\n"
	    "request_timeout_ms = 4\n"
	    "retry_backoff_ms = 5\n"
	    "retry_backoff_max_ms = 6\n"
	    "max_context_tokens = 7\n"
	    "[profile q]\n"
	    "provider = anthropic\n"
	    "model = c\n");
	json_t *j, *want;

	ck_assert_int_eq(cfg->errors.n, 0);
	j = json_loads(cfg->profiles[0]->params, 0, NULL);
	want = json_loads("{\"api_key_header\":\"api-key\",\"headers\":"
	    "{\"X-Trace\":\"a b\"},\"query\":{\"api-version\":\"2024-10-21\"},"
	    "\"temperature\":0.2,\"top_p\":1.0,\"max_tokens\":100,\"seed\":7,"
	    "\"stop\":[\"END\",\"two words\"],\"response_format\":"
	    "\"json_object\",\"stream\":false,\"connect_timeout_ms\":1,"
	    "\"first_byte_timeout_ms\":2,\"idle_timeout_ms\":3,"
	    "\"request_timeout_ms\":4,\"retry_backoff_ms\":5,"
	    "\"retry_backoff_max_ms\":6,\"max_context_tokens\":7,"
	    "\"max_tool_rounds\":8}", 0, NULL);
	ck_assert_msg(json_equal(j, want), "params %s",
	    cfg->profiles[0]->params);
	json_decref(j);
	json_decref(want);
	/* unset: none of the optional parameters, the defaults of the rest */
	j = json_loads(cfg->profiles[1]->params, 0, NULL);
	ck_assert_ptr_null(json_object_get(j, "temperature"));
	ck_assert_ptr_null(json_object_get(j, "max_tokens"));
	ck_assert(json_is_true(json_object_get(j, "stream")));
	ck_assert_int_eq(json_integer_value(json_object_get(j,
	    "request_timeout_ms")), 600000);
	ck_assert_int_eq(json_integer_value(json_object_get(j,
	    "idle_timeout_ms")), 60000);
	json_decref(j);
	unload(cfg);
	expect_error("[profile p]\ntemperature = hot\n", 2,
	    "temperature: bad value \"hot\"");
	expect_error("[profile p]\n\ntop_p = 1.5\n", 3,
	    "top_p: bad value \"1.5\"");
	expect_error("[profile p]\napi_key_header = api key\n", 2,
	    "api_key_header: bad value \"api key\"");
	expect_error("[profile p]\nresponse_format = yaml\n", 2,
	    "expected text | json_object | json_schema");
	expect_error("[profile p]\nresponse_format = json_schema\n", 2,
	    "needs response_schema_file");
	expect_error("[profile p]\nresponse_format = json_schema\n"
	    "response_schema_file = /nonexistent.json\n", 3,
	    "response_schema_file: cannot read \"/nonexistent.json\"");
	expect_error("[profile p]\nheader.a b = x\n", 2, "bad header name");
	expect_error("[profile p]\nmax_tokens = -1\n", 2,
	    "max_tokens: bad value \"-1\"");
	expect_error("[profile p]\nstream = maybe\n", 2,
	    "stream: bad value \"maybe\"");
	expect_error("[module m]\ncommand = x\nquery.a = b\n", 3,
	    "unknown key \"query.a\"");
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");

	tcase_add_test(tc, t_every_key);
	tcase_add_test(tc, t_errors);
	tcase_add_test(tc, t_provider_keys);
	tcase_add_test(tc, t_paths);
	tcase_add_test(tc, t_warnings);
	tcase_add_test(tc, t_long_line);
	tcase_add_test(tc, t_split_args);
	suite_add_tcase(s, tc);
	return s;
}
