/*
 * context.c: what of the stored history a request carries.  The history
 * stays whole; a request gets its messages with the provider's fields
 * only (the root adds input_id and at_ms), and, under max_context_tokens,
 * without its oldest whole turns.  A turn begins at a user message, so an
 * assistant's tool_calls and their tool results stay together.
 */
#include <string.h>

#include "wire.h"

json_t *
msg_strip(json_t *m)
{
	static const char *const keep[] = { "role", "content", "tool_calls",
	    "tool_call_id", "name", NULL };
	json_t *o, *v;
	int i;

	if (!json_is_string(json_object_get(m, "role")))
		return NULL;
	o = json_object();
	for (i = 0; keep[i] != NULL; i++)
		if ((v = json_object_get(m, keep[i])) != NULL &&
		    !json_is_null(v))
			json_object_set(o, keep[i], v);
	if (strcmp(json_string_value(json_object_get(m, "role")),
	    "assistant") == 0 && json_object_get(o, "content") == NULL)
		json_object_set_new(o, "content", json_null());
	return o;
}

int
msg_is_user(json_t *m)
{
	const char *r = json_string_value(json_object_get(m, "role"));

	return r != NULL && strcmp(r, "user") == 0;
}

size_t
msg_chars(json_t *m)
{
	json_t *c, *f;
	size_t n = 16, i;

	if ((c = json_object_get(m, "content")) != NULL) {
		if (json_is_string(c))
			n += json_string_length(c);
		else if (!json_is_null(c))
			n += json_dumpb(c, NULL, 0, JSON_COMPACT);
	}
	json_array_foreach(json_object_get(m, "tool_calls"), i, c) {
		f = json_object_get(c, "function");
		n += 16 + json_string_length(json_object_get(f, "name")) +
		    json_string_length(json_object_get(f, "arguments"));
	}
	return n;
}

/* Is m the first message of a turn? */
static int
turn_begins(json_t *m)
{
	const char *r = json_string_value(json_object_get(m, "role"));

	return r != NULL && strcmp(r, "user") == 0;
}

/* The index of the first history message kept under the budget. */
static size_t
first_kept(json_t *hist, size_t budget)
{
	size_t n = json_array_size(hist), i, used = 0, start = n;

	/* whole turns from the newest back, while they fit */
	for (i = n; i-- > 0;) {
		used += msg_chars(json_array_get(hist, i));
		if (used > budget)
			break;
		if (turn_begins(json_array_get(hist, i)))
			start = i;
	}
	if (i == (size_t)-1 && used <= budget)
		return 0;	/* everything fits */
	return start;
}

json_t *
context_messages(json_t *history, json_t *added, size_t system_chars,
    long max_tokens, size_t *dropped)
{
	json_t *hist = json_array(), *out = json_array(), *m, *s;
	size_t i, start = 0, fixed = system_chars, budget;

	json_array_foreach(history, i, m)
		if ((s = msg_strip(m)) != NULL)
			json_array_append_new(hist, s);
	json_array_foreach(added, i, m)
		fixed += msg_chars(m);
	if (max_tokens > 0) {
		budget = (size_t)max_tokens * 4;
		budget = budget > fixed ? budget - fixed : 0;
		start = first_kept(hist, budget);
	}
	*dropped = start;
	for (i = start; i < json_array_size(hist); i++)
		json_array_append(out, json_array_get(hist, i));
	json_array_foreach(added, i, m)
		if ((s = msg_strip(m)) != NULL)
			json_array_append_new(out, s);
	json_decref(hist);
	return out;
}
