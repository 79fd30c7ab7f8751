/*
 * output.c: a child's stdout and stderr, read line by line into the log
 * with the child's name (logring.c: stderr, the child's ring and file).
 * On stdout a JSON object with an event_type is also an event (and
 * "ready" is readiness for ready = stdout); the line is logged all the
 * same.  A pipe outlives its child until EOF, so late lines are not lost.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "engine/events.h"
#include "engine/internal.h"
#include "engine/logring.h"
#include "tojson.h"

#define LINE_MAX_OUT	8192

struct outpipe {
	ev_io		 io;
	struct child	*c;		/* NULL once detached */
	char		*name;
	int		 is_stdout;
	size_t		 len;
	char		*buf;		/* a partial line; NULL when none */
};

/* A stdout line that is a JSON event: 1 when it was one. */
int
stdout_line(struct child *c, const char *line)
{
	json_t *root, *ev, *type, *payload;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const char *t;

	if (line[strspn(line, " \t")] != '{')
		return 0;
	if ((root = json_loads(line, 0, NULL)) == NULL)
		return 0;
	ev = root;
	if ((type = json_object_get(root, "event_type")) == NULL &&
	    (ev = json_object_get(root, "event")) != NULL)
		type = json_object_get(ev, "event_type");
	if (!json_is_string(type)) {
		json_decref(root);
		return 0;
	}
	t = json_string_value(type);
	if (strcmp(t, "ready") == 0 && c->conf->ready == READY_STDOUT &&
	    (c->state == CS_STARTING || c->state == CS_RESTARTING)) {
		json_decref(root);
		child_ready(c, "stdout");
		return 1;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	payload = json_object_get(ev, "payload");
	if (json_is_object(payload))
		json_to_mp(&pk, payload);
	else
		msgpack_pack_map(&pk, 0);
	event_emit_raw(c->conf->kind == KIND_MEMBER ? "agent" : "module",
	    c->name, t, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	json_decref(root);
	return 1;
}

/* One line: logged and kept, then (on stdout) maybe an event too. */
static void
emit_line(struct outpipe *o, char *line)
{
	logring_line(o->name, o->is_stdout ? LR_STDOUT : LR_STDERR, line);
	if (o->is_stdout && o->c != NULL)
		(void)stdout_line(o->c, line);
}

static void
outpipe_free(struct outpipe *o)
{
	if (o->len > 0) {
		o->buf[o->len] = '\0';
		emit_line(o, o->buf);
	}
	free(o->buf);
	ev_io_stop(D->loop, &o->io);
	close(o->io.fd);
	if (o->c != NULL) {
		if (o->c->out == o)
			o->c->out = NULL;
		if (o->c->err == o)
			o->c->err = NULL;
	}
	free(o->name);
	free(o);
}

/*
 * Read into a shared scratch buffer and keep only a partial last line per
 * pipe, so a quiet child costs no buffer at all.
 */
static void
outpipe_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	static char scratch[LINE_MAX_OUT + 1];
	struct outpipe *o = w->data;
	char *nl, *p, *end;
	ssize_t n;
	size_t len;

	(void)loop;
	(void)revents;
	if (o->len > 0)
		memcpy(scratch, o->buf, o->len);
	n = read(w->fd, scratch + o->len, LINE_MAX_OUT - o->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		outpipe_free(o);
		return;
	}
	len = o->len + (size_t)n;
	end = scratch + len;
	p = scratch;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		*nl = '\0';
		emit_line(o, p);
		p = nl + 1;
	}
	len = (size_t)(end - p);
	if (len == LINE_MAX_OUT) {	/* a very long line: cut it */
		scratch[len] = '\0';
		emit_line(o, scratch);
		len = 0;
	}
	if (len > 0 && o->buf == NULL &&
	    (o->buf = malloc(LINE_MAX_OUT + 1)) == NULL)
		fatal("malloc");
	if (len > 0)
		memmove(o->buf, p, len);
	else {
		free(o->buf);
		o->buf = NULL;
	}
	o->len = len;
}

struct outpipe *
outpipe_new(struct child *c, int fd, int is_stdout)
{
	struct outpipe *o;

	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->name = strdup(c->name)) == NULL)
		fatal("calloc");
	o->c = c;
	o->is_stdout = is_stdout;
	ev_io_init(&o->io, outpipe_cb, fd, EV_READ);
	o->io.data = o;
	ev_io_start(D->loop, &o->io);
	return o;
}

/* The child is gone or respawned: keep reading to EOF, unattached. */
void
outpipe_detach(struct outpipe *o)
{
	o->c = NULL;
}
