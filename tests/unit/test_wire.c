/*
 * test_wire.c: the worker's pure helpers: request URLs, Retry-After,
 * tool function names, and what of the history a request carries.
 */
#include <stdlib.h>
#include <string.h>

#include "../../worker/wire.h"
#include "unit.h"

START_TEST(t_url)
{
	json_t *q = json_pack("{s:s,s:s}", "api-version", "2024-10-21",
	    "x y", "a&b=c/é");
	char *u;

	u = url_build("http://h:1/v1/", "http://d/v1", "/chat/completions",
	    NULL);
	ck_assert_str_eq(u, "http://h:1/v1/chat/completions");
	free(u);
	u = url_build("http://h:1/v1//", "http://d/v1", "/chat/completions",
	    NULL);
	ck_assert_str_eq(u, "http://h:1/v1/chat/completions");
	free(u);
	u = url_build(NULL, "https://api.anthropic.com", "/v1/messages", NULL);
	ck_assert_str_eq(u, "https://api.anthropic.com/v1/messages");
	free(u);
	u = url_build("http://az/openai/deployments/d", NULL,
	    "/chat/completions", q);
	ck_assert_str_eq(u, "http://az/openai/deployments/d/chat/completions"
	    "?api-version=2024-10-21&x%20y=a%26b%3Dc%2F%C3%A9");
	free(u);
	json_decref(q);
}
END_TEST

START_TEST(t_retry_after)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT */
	time_t now = 784111777;
	const char *h;

	ck_assert_int_eq(retry_after_value("2", now), 2000);
	ck_assert_int_eq(retry_after_value(" 0.5 \r\n", now), 500);
	ck_assert_int_eq(retry_after_value("Sun, 06 Nov 1994 08:49:47 GMT",
	    now), 10000);
	ck_assert_int_eq(retry_after_value("Sun, 06 Nov 1994 08:49:00 GMT",
	    now), 0);
	ck_assert_int_eq(retry_after_value("soon", now), -1);
	ck_assert_int_eq(retry_after_value("-3", now), -1);
	h = "Retry-After: 3\r\n";
	ck_assert_int_eq(retry_after_header(h, strlen(h), now), 3000);
	h = "retry-after-ms: 1500\r\n";
	ck_assert_int_eq(retry_after_header(h, strlen(h), now), 1500);
	h = "retry-after: Sun, 06 Nov 1994 08:49:39 GMT\r\n";
	ck_assert_int_eq(retry_after_header(h, strlen(h), now), 2000);
	h = "Content-Type: text/event-stream\r\n";
	ck_assert_int_eq(retry_after_header(h, strlen(h), now), -1);
}
END_TEST

START_TEST(t_fname)
{
	char out[FNAME_MAX + 1], server[100];

	tool_fname("files", "read_file", out, sizeof(out));
	ck_assert_str_eq(out, "files__read_file");
	tool_fname("my.srv", "do it/now", out, sizeof(out));
	ck_assert_str_eq(out, "my_srv__do_it_now");
	memset(server, 'a', sizeof(server) - 1);
	server[sizeof(server) - 1] = '\0';
	tool_fname(server, "t", out, sizeof(out));
	ck_assert_uint_eq(strlen(out), FNAME_MAX);
}
END_TEST

/* A history of n turns, each a user then an assistant of 100 characters. */
static json_t *
history(int n)
{
	json_t *h = json_array();
	char text[101];
	int i;

	for (i = 0; i < n; i++) {
		memset(text, 'a' + i, 100);
		text[100] = '\0';
		text[0] = (char)('0' + i);
		json_array_append_new(h, json_pack("{s:s,s:s,s:s,s:i}", "role",
		    "user", "content", text, "input_id", "in-1", "at_ms", 5));
		json_array_append_new(h, json_pack("{s:s,s:s,s:i}", "role",
		    "assistant", "content", text, "at_ms", 6));
	}
	return h;
}

START_TEST(t_context)
{
	json_t *h = history(4), *added, *out;
	size_t dropped;

	added = json_pack("[{s:s,s:s}]", "role", "user", "content", "now");
	/* no limit: everything, stripped of the root's fields */
	out = context_messages(h, added, 10, 0, &dropped);
	ck_assert_uint_eq(json_array_size(out), 9);
	ck_assert_uint_eq(dropped, 0);
	ck_assert_ptr_null(json_object_get(json_array_get(out, 0), "input_id"));
	ck_assert_ptr_null(json_object_get(json_array_get(out, 1), "at_ms"));
	json_decref(out);
	/* 116 characters a message: two turns and the new one fit 600 */
	out = context_messages(h, added, 10, 150, &dropped);
	ck_assert_uint_eq(dropped, 4);
	ck_assert_uint_eq(json_array_size(out), 5);
	ck_assert_int_eq(json_string_value(json_object_get(json_array_get(out,
	    0), "content"))[0], '2');
	json_decref(out);
	/* too small for any: only this turn */
	out = context_messages(h, added, 10, 10, &dropped);
	ck_assert_uint_eq(json_array_size(out), 1);
	json_decref(out);
	json_decref(h);
	json_decref(added);
}
END_TEST

START_TEST(t_context_tools)
{
	json_t *h = json_array(), *added, *out;
	size_t dropped;

	json_array_append_new(h, json_pack("{s:s,s:s}", "role", "user",
	    "content", "first"));
	json_array_append_new(h, json_pack("{s:s,s:n,s:[{s:s,s:s,s:{s:s,s:s}}]}",
	    "role", "assistant", "content", "tool_calls", "id", "c1", "type",
	    "function", "function", "name", "send_message", "arguments",
	    "{\"to\":\"b\",\"text\":\"a long message a long message a long\"}"));
	json_array_append_new(h, json_pack("{s:s,s:s,s:s}", "role", "tool",
	    "tool_call_id", "c1", "content", "delivered"));
	json_array_append_new(h, json_pack("{s:s,s:s}", "role", "assistant",
	    "content", "done"));
	json_array_append_new(h, json_pack("{s:s,s:s}", "role", "user",
	    "content", "second"));
	json_array_append_new(h, json_pack("{s:s,s:s}", "role", "assistant",
	    "content", "ok"));
	added = json_pack("[{s:s,s:s}]", "role", "user", "content", "third");
	/* the tool turn does not fit: it goes whole, never its call alone */
	out = context_messages(h, added, 0, 40, &dropped);
	ck_assert_uint_eq(dropped, 4);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(out,
	    0), "content")), "second");
	json_decref(out);
	/* it fits: call and result both there, content null kept */
	out = context_messages(h, added, 0, 1000, &dropped);
	ck_assert_uint_eq(json_array_size(out), 7);
	ck_assert(json_is_null(json_object_get(json_array_get(out, 1),
	    "content")));
	json_decref(out);
	json_decref(h);
	json_decref(added);
}
END_TEST

Suite *
wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, t_url);
	tcase_add_test(tc, t_retry_after);
	tcase_add_test(tc, t_fname);
	tcase_add_test(tc, t_context);
	tcase_add_test(tc, t_context_tools);
	suite_add_tcase(s, tc);
	return s;
}
