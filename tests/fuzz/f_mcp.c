/*
 * f_mcp.c: what an MCP server's output does to mobkit-mcp's JSON-RPC
 * reader (mcp/jsonrpc.c): the bytes are cut into pieces (the first byte
 * says how big), fed as a stdio server's output; every line is parsed and
 * classified.  Properties: no line passes the bound; a message classified
 * comes back the same kind, id and method when encoded again.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../mcp/jsonrpc.h"

#define LINE_BOUND	4096

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* Encode m again, read it back: the same kind, id and method. */
static void
roundtrip(const struct jrpc_msg *m)
{
	struct jrpc_msg b;
	char *s, err[128];
	size_t len;
	json_t *v;

	if (m->kind == JR_REQUEST || m->kind == JR_NOTIFICATION)
		s = jrpc_notification(m->method, json_incref(m->params),
		    &len);
	else if (m->kind == JR_RESULT)
		s = jrpc_result(m->id, json_incref(m->result), &len);
	else
		s = jrpc_error(m->id, (int)m->code, m->message, &len);
	FUZZ_ASSERT(len > 0 && s[len - 1] == '\n' && memchr(s, '\n', len) ==
	    s + len - 1);
	v = jrpc_parse(s, len - 1, err, sizeof(err));
	FUZZ_ASSERT(v != NULL);
	FUZZ_ASSERT(jrpc_classify(v, &b, err, sizeof(err)) == 0);
	if (m->kind == JR_REQUEST || m->kind == JR_NOTIFICATION) {
		FUZZ_ASSERT(b.kind == JR_NOTIFICATION);
		FUZZ_ASSERT(strcmp(b.method, m->method) == 0);
	} else {
		FUZZ_ASSERT(b.kind == m->kind);
		FUZZ_ASSERT(b.nid == m->nid);
	}
	jrpc_msg_free(&b);
	json_decref(v);
	free(s);
}

static void
one(json_t *v)
{
	struct jrpc_msg m;
	char err[128];
	size_t i;
	json_t *e;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (json_is_object(e))
				one(e);
		return;
	}
	if (jrpc_classify(v, &m, err, sizeof(err)) == 0 &&
	    (m.kind != JR_ERROR || (m.code >= -2147483647 - 1 &&
	    m.code <= 2147483647)))
		roundtrip(&m);
	jrpc_msg_free(&m);
}

static void
line_cb(void *arg, char *line, size_t len)
{
	char err[128];
	json_t *v;

	(void)arg;
	if (line == NULL)
		return;		/* over the bound: dropped */
	/* a NUL inside a line is kept (JSON refuses it) */
	FUZZ_ASSERT(len <= LINE_BOUND && line[len] == '\0');
	if ((v = jrpc_parse(line, len, err, sizeof(err))) != NULL) {
		one(v);
		json_decref(v);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jrpc_lines l;
	size_t piece, off, n;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] + 1;
	jrpc_lines_init(&l, LINE_BOUND);
	for (off = 1; off < size; off += n) {
		n = size - off < piece ? size - off : piece;
		jrpc_lines_feed(&l, (const char *)data + off, n, line_cb, NULL);
	}
	jrpc_lines_free(&l);
	return 0;
}
