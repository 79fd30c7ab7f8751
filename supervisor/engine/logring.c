/*
 * logring.c: each child's lines (see logring.h).  A child's ring is one
 * buffer of records {ts_ms, length, stream, text} that wrap at its end;
 * it is allocated at the first line and grows up to log_buffer_bytes, so
 * a quiet child costs nothing.  The oldest records make room for new
 * ones; a line longer than the whole ring is kept cut, with a marker
 * saying how much was cut (mobkitd's stderr and the file have all of it).
 * The ring, and the child's log file, go when the child is removed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "config.h"
#include "log.h"
#include "logfile.h"
#include "timeutil.h"
#include "engine/engine.h"
#include "engine/logring.h"

#define REC_HDR		13	/* u64 ts_ms, u32 length, u8 stream */
#define RING_MIN	4096	/* the first allocation */

struct chlog {
	UT_hash_handle	 hh;
	char		*name;
	char		*buf;		/* the ring; NULL until a line */
	size_t		 size;		/* allocated, at most cap */
	size_t		 head;		/* the oldest record */
	size_t		 used;
	size_t		 nrec;
	struct logfile	*file;		/* DIR/NAME.log, opened at need */
};

static struct chlog	*logs;		/* by name */
static size_t		 cap = 262144;	/* log_buffer_bytes */
static char		*dir;		/* log_dir, or NULL */
static int64_t		 file_max = 10485760;
static int		 file_keep = 5;
static const struct logring_taps *taps;
static char		*scratch;	/* a record's text, for walkers */
static size_t		 scratch_sz;

const char *
logring_stream_name(int stream)
{
	return stream == LR_STDERR ? "stderr" : "stdout";
}

/* Copy n bytes in at ring offset off, wrapping at the end. */
static void
ring_put(struct chlog *l, size_t off, const void *src, size_t n)
{
	size_t first;

	off %= l->size;
	first = l->size - off < n ? l->size - off : n;
	memcpy(l->buf + off, src, first);
	memcpy(l->buf, (const char *)src + first, n - first);
}

/* Copy n bytes out from ring offset off, wrapping at the end. */
static void
ring_get(const struct chlog *l, size_t off, void *dst, size_t n)
{
	size_t first;

	off %= l->size;
	first = l->size - off < n ? l->size - off : n;
	memcpy(dst, l->buf + off, first);
	memcpy((char *)dst + first, l->buf, n - first);
}

/* The header of the record at ring offset off. */
static void
rec_hdr(const struct chlog *l, size_t off, struct logline *ll)
{
	unsigned char h[REC_HDR];
	uint32_t len;

	ring_get(l, off, h, REC_HDR);
	memcpy(&ll->ts_ms, h, 8);
	memcpy(&len, h + 8, 4);
	ll->len = len;
	ll->stream = h[12];
}

/* Drop the oldest record. */
static void
ring_evict(struct chlog *l)
{
	struct logline ll;

	rec_hdr(l, l->head, &ll);
	l->head = (l->head + REC_HDR + ll.len) % l->size;
	l->used -= REC_HDR + ll.len;
	l->nrec--;
}

/* Move the records, oldest first, to a new buffer of size bytes. */
static void
ring_realloc(struct chlog *l, size_t size)
{
	char *nb;

	while (l->used > size)
		ring_evict(l);
	if (size == 0) {
		free(l->buf);
		l->buf = NULL;
		l->size = l->head = l->used = l->nrec = 0;
		return;
	}
	if ((nb = malloc(size)) == NULL)
		fatal("malloc");
	if (l->used > 0)
		ring_get(l, l->head, nb, l->used);
	free(l->buf);
	l->buf = nb;
	l->size = size;
	l->head = 0;
}

/* Keep one line, cut to fit the ring when it is longer than all of it. */
static void
ring_add(struct chlog *l, uint64_t ts, int stream, const char *text,
    size_t len)
{
	unsigned char h[REC_HDR];
	char mark[64];
	size_t mlen = 0, keep = len, need, grow, room;
	uint32_t len32;

	if (cap <= REC_HDR)
		return;
	if (REC_HDR + len > cap) {
		room = cap - REC_HDR;
		mlen = (size_t)snprintf(mark, sizeof(mark), "...[%zu bytes "
		    "cut]", len);
		keep = room > mlen ? room - mlen : 0;
		mlen = (size_t)snprintf(mark, sizeof(mark), "...[%zu bytes "
		    "cut]", len - keep);
		if (mlen > room - keep)
			mlen = room - keep;
	}
	need = REC_HDR + keep + mlen;
	if (l->used + need > l->size && l->size < cap) {
		grow = l->size * 2 > l->used + need ? l->size * 2 : l->used +
		    need;
		if (grow < RING_MIN)
			grow = RING_MIN;
		ring_realloc(l, grow < cap ? grow : cap);
	}
	while (l->used + need > l->size)
		ring_evict(l);
	len32 = (uint32_t)(keep + mlen);
	memcpy(h, &ts, 8);
	memcpy(h + 8, &len32, 4);
	h[12] = (unsigned char)stream;
	ring_put(l, l->head + l->used, h, REC_HDR);
	ring_put(l, l->head + l->used + REC_HDR, text, keep);
	ring_put(l, l->head + l->used + REC_HDR + keep, mark, mlen);
	l->used += need;
	l->nrec++;
}

static struct chlog *
chlog_get(const char *name)
{
	struct chlog *l;

	HASH_FIND_STR(logs, name, l);
	if (l != NULL)
		return l;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->name = strdup(name)) == NULL)
		fatal("calloc");
	HASH_ADD_KEYPTR(hh, logs, l->name, strlen(l->name), l);
	return l;
}

/* Say once that a log file broke, and once that it works again. */
static void
file_report(struct logfile *f, int r)
{
	if (r == LF_BROKE)
		log_warnx("log file %s: %s; its lines are lost until it can "
		    "be written again", f->path, f->err);
	else if (r == LF_RECOVERED)
		log_info("log file %s: written again (%llu lines were lost)",
		    f->path, (unsigned long long)f->lost);
}

/* The line into DIR/NAME.log, formatted like mobkitd's own log. */
static void
file_add(struct chlog *l, const struct log_rec *r)
{
	char path[PATH_MAX], line[LOG_LINE_MAX];
	size_t len;

	if (dir == NULL)
		return;
	if (l->file == NULL) {
		snprintf(path, sizeof(path), "%s/%s.log", dir, l->name);
		if ((l->file = logfile_new(path, file_max, file_keep)) == NULL)
			fatal("logfile_new");
	}
	len = log_fmt(line, sizeof(line), r, log_file_flags() |
	    LOG_FMT_BARE);
	file_report(l->file, logfile_write(l->file, line, len));
}

void
logring_line(const char *name, int stream, const char *line)
{
	struct log_rec r;
	struct logline ll;
	struct chlog *l;

	log_child(name, logring_stream_name(stream), line);
	if (child_find(name) == NULL)
		return;		/* a removed child's last words */
	l = chlog_get(name);
	memset(&r, 0, sizeof(r));
	r.level = log_line_level(line);
	r.child = name;
	r.stream = logring_stream_name(stream);
	r.msg = line;
	clock_gettime(CLOCK_REALTIME, &r.ts);
	ll.ts_ms = (uint64_t)r.ts.tv_sec * 1000 + (uint64_t)r.ts.tv_nsec /
	    1000000;
	ll.stream = stream;
	ll.text = line;
	ll.len = strlen(line);
	ring_add(l, ll.ts_ms, stream, line, ll.len);
	file_add(l, &r);
	if (taps != NULL && taps->line != NULL)
		taps->line(name, &ll);
}

/* The child is gone from the tree: its ring and file go too. */
void
logring_forget(const char *name)
{
	struct chlog *l;

	if (taps != NULL && taps->gone != NULL)
		taps->gone(name);
	HASH_FIND_STR(logs, name, l);
	if (l == NULL)
		return;
	HASH_DEL(logs, l);
	logfile_free(l->file);
	free(l->buf);
	free(l->name);
	free(l);
}

/* [mobkitd] log_buffer_bytes, log_dir, log_max_bytes, log_keep. */
void
logring_configure(const struct config *cfg)
{
	struct chlog *l, *t;
	int newdir;

	newdir = (dir == NULL) != (cfg->log_dir == NULL) || (dir != NULL &&
	    strcmp(dir, cfg->log_dir) != 0);
	if (newdir) {
		free(dir);
		dir = NULL;
		if (cfg->log_dir != NULL && (dir = strdup(cfg->log_dir)) ==
		    NULL)
			fatal("strdup");
	}
	cap = (size_t)cfg->log_buffer_bytes;
	file_max = cfg->log_max_bytes;
	file_keep = cfg->log_keep;
	HASH_ITER(hh, logs, l, t) {
		if (l->size > cap)
			ring_realloc(l, cap);
		if (l->file != NULL && newdir) {
			logfile_free(l->file);
			l->file = NULL;
		} else if (l->file != NULL)
			logfile_limits(l->file, file_max, file_keep);
	}
}

/* SIGUSR1: every child's file is opened again. */
void
logring_reopen(void)
{
	struct chlog *l, *t;

	HASH_ITER(hh, logs, l, t)
		if (l->file != NULL)
			file_report(l->file, logfile_reopen(l->file));
}

void
logring_set_taps(const struct logring_taps *t)
{
	taps = t;
}

size_t
logring_walk(const char *name, int64_t n,
    void (*fn)(const char *, const struct logline *, void *), void *arg)
{
	struct logline ll;
	struct chlog *l;
	size_t off, i, skip, done = 0;

	HASH_FIND_STR(logs, name, l);
	if (l == NULL || l->nrec == 0)
		return 0;
	skip = n >= 0 && (uint64_t)n < l->nrec ? l->nrec - (size_t)n : 0;
	off = l->head;
	for (i = 0; i < l->nrec; i++) {
		rec_hdr(l, off, &ll);
		if (i >= skip) {
			if (ll.len + 1 > scratch_sz) {
				free(scratch);
				scratch_sz = ll.len + 1 > 4096 ? ll.len + 1 :
				    4096;
				if ((scratch = malloc(scratch_sz)) == NULL)
					fatal("malloc");
			}
			ring_get(l, off + REC_HDR, scratch, ll.len);
			scratch[ll.len] = '\0';
			ll.text = scratch;
			fn(name, &ll, arg);
			done++;
		}
		off = (off + REC_HDR + ll.len) % l->size;
	}
	return done;
}
