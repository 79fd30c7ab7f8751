/*
 * logs.c: mobkitd's logging as the operator sets it ([mobkitd] log_format,
 * log_dir, log_max_bytes, log_keep, log_buffer_bytes; again at each
 * reload), SIGUSR1's reopening of the files, and the verb
 * `logs NAME [-n N] [-f]`: the last lines of a child's ring
 * (engine/logring.c), then with -f each new line as it comes.  A follower
 * owes at most client_buffer_bytes: past that its lines are skipped and
 * counted, and once it has read half of its backlog it is told how many
 * with a {"gap":{"lines":N}} item, so a slow reader never grows mobkitd.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpack.h"
#include "proto.h"
#include "engine/engine.h"
#include "engine/kind.h"
#include "engine/logring.h"
#include "client.h"
#include "logs.h"
#include "verbs.h"

#define LOGS_FOLLOW_DEFAULT	10	/* lines shown before following */

struct follower {
	TAILQ_ENTRY(follower)	 entry;
	uint64_t		 cid;
	char			*name;
	uint64_t		 skipped;	/* lines it did not get */
};

static TAILQ_HEAD(, follower) followers = TAILQ_HEAD_INITIALIZER(followers);

/* mkdir -p, for log_dir: 0, or -1 with errno. */
static int
mkdirs(const char *path)
{
	char buf[PATH_MAX], *p;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(buf, 0755);
			*p = '/';
		}
	if (mkdir(buf, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* The [mobkitd] log keys, at start (before the first line) and reload. */
void
logs_apply(const struct config *cfg)
{
	char path[PATH_MAX];

	log_set_format(cfg->log_format == 1);
	if (cfg->log_dir != NULL) {
		if (mkdirs(cfg->log_dir) == -1)
			log_warn("log_dir %s", cfg->log_dir);
		snprintf(path, sizeof(path), "%s/mobkitd.log", cfg->log_dir);
		log_set_file(path, cfg->log_max_bytes, cfg->log_keep);
	} else
		log_set_file(NULL, 0, 0);
	logring_configure(cfg);
}

/* SIGUSR1: open every log file again (logrotate moved them away). */
void
logs_reopen(void)
{
	log_reopen();
	logring_reopen();
	log_info("SIGUSR1 received: reopening logs");
}

static void
logs_configure(struct config *cfg, int reload)
{
	if (reload)
		logs_apply(cfg);
}

/* --- the verb --------------------------------------------------------- */

/* Begin a control stream message {t: STREAM, item: ...}: the item next. */
static void
item_begin(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(pk, 2);
	mp_kint(pk, "t", MSG_CTL_STREAM);
	mp_str(pk, "item");
}

/* Send what item_begin began, and free it. */
static int
item_send(struct client *cl, msgpack_sbuffer *sb)
{
	int r = client_send(cl, sb);

	msgpack_sbuffer_destroy(sb);
	return r;
}

/* Queue one stream item {ts_ms, stream, line}. */
static int
send_line(struct client *cl, const struct logline *ll)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	item_begin(&sb, &pk);
	msgpack_pack_map(&pk, 3);
	mp_kint(&pk, "ts_ms", (int64_t)ll->ts_ms);
	mp_kstr(&pk, "stream", logring_stream_name(ll->stream));
	mp_str(&pk, "line");
	msgpack_pack_str(&pk, ll->len);
	msgpack_pack_str_body(&pk, ll->text, ll->len);
	return item_send(cl, &sb);
}

/* Tell a reader that it missed n lines. */
static int
send_gap(struct client *cl, uint64_t n)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	item_begin(&sb, &pk);
	msgpack_pack_map(&pk, 1);
	mp_str(&pk, "gap");
	msgpack_pack_map(&pk, 1);
	mp_kint(&pk, "lines", (int64_t)n);
	return item_send(cl, &sb);
}

static void
follower_free(struct follower *f)
{
	TAILQ_REMOVE(&followers, f, entry);
	free(f->name);
	free(f);
}

/* A new line of name: to each of its followers that can take it. */
static void
tap_line(const char *name, const struct logline *ll)
{
	struct follower *f, *t;
	struct client *cl;
	size_t cap, q;

	cap = (size_t)D->cfg->client_buffer_bytes;
	TAILQ_FOREACH_SAFE(f, &followers, entry, t) {
		if (strcmp(f->name, name) != 0)
			continue;
		if ((cl = client_by_id(f->cid)) == NULL) {
			follower_free(f);
			continue;
		}
		q = client_queued(cl);
		if (f->skipped > 0 && q + ll->len > cap / 2) {
			f->skipped++;
			continue;
		}
		if (f->skipped == 0 && q > 0 && q + ll->len > cap) {
			log_warnx("logs %s: a follower is %zu bytes behind: "
			    "its lines are skipped until it catches up", name,
			    q);
			f->skipped = 1;
			continue;
		}
		if ((f->skipped > 0 && send_gap(cl, f->skipped) == -1) ||
		    send_line(cl, ll) == -1) {
			follower_free(f);
			continue;
		}
		f->skipped = 0;
	}
}

/* The child was removed: its followers are answered, and end. */
static void
tap_gone(const char *name)
{
	struct follower *f, *t;
	struct client *cl;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	TAILQ_FOREACH_SAFE(f, &followers, entry, t) {
		if (strcmp(f->name, name) != 0)
			continue;
		if ((cl = client_by_id(f->cid)) != NULL) {
			if (f->skipped > 0)
				(void)send_gap(cl, f->skipped);
			client_set_following(cl, 0);
			msgpack_sbuffer_init(&sb);
			msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
			msgpack_pack_map(&pk, 1);
			mp_kbool(&pk, "removed", 1);
			reply_ok_packed(f->cid, sb.data, sb.size);
			msgpack_sbuffer_destroy(&sb);
		}
		follower_free(f);
	}
}

/* Forget the followers whose clients have gone. */
static void
followers_sweep(void)
{
	struct follower *f, *t;

	TAILQ_FOREACH_SAFE(f, &followers, entry, t)
		if (client_by_id(f->cid) == NULL)
			follower_free(f);
}

struct replay {
	struct client	*cl;
	int		 failed;
};

static void
replay_line(const char *name, const struct logline *ll, void *arg)
{
	struct replay *rp = arg;

	(void)name;
	if (!rp->failed && send_line(rp->cl, ll) == -1)
		rp->failed = 1;
}

/*
 * logs NAME [-n N] [-f]: the last N lines (all; 10 with -f), then with -f
 * each new one until the child is removed ({removed: true}) or the
 * client goes; without, {lines: N}.
 */
static int
v_logs(struct client *cl, const union ctl_args *a, msgpack_packer *pk)
{
	const struct ctl_logs_args *la = &a->logs;
	struct replay rp = { cl, 0 };
	struct follower *f;
	int64_t n;
	size_t sent;

	if (child_find(la->name) == NULL)
		return ctl_fail("no child named \"%s\"", la->name);
	n = la->n.set ? la->n.v : la->follow ? LOGS_FOLLOW_DEFAULT : -1;
	sent = logring_walk(la->name, n, replay_line, &rp);
	if (rp.failed)
		return ctl_fail("cannot send the lines of %s", la->name);
	if (!la->follow) {
		msgpack_pack_map(pk, 1);
		mp_kint(pk, "lines", (int64_t)sent);
		return 0;
	}
	followers_sweep();
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->name = strdup(la->name)) == NULL)
		fatal("calloc");
	f->cid = client_id(cl);
	TAILQ_INSERT_TAIL(&followers, f, entry);
	client_set_following(cl, 1);
	return 1;
}

static const struct ctl_handler logs_verbs[] = {
	{ "logs", v_logs },
};
CTL_VERBS(logs_verbs)

static const struct domain_ops logs_domain = {
	.name = "logs",
	.configure = logs_configure,
};

static const struct logring_taps logs_taps = {
	.line = tap_line,
	.gone = tap_gone,
};

/* Before main: the reload hook and the ring's taps. */
static void __attribute__((constructor))
logs_register(void)
{
	domain_register(&logs_domain);
	logring_set_taps(&logs_taps);
}
