/*
 * discover_state.c: with state_dir, the last output of [mob] discover
 * that was applied is kept in STATE_DIR/discovered (written aside and
 * renamed into place), so that at the next boot the discovered members
 * exist before the store is loaded: their queued inputs, conversations
 * and peers are theirs again at once, then the program runs and
 * reconciles as usual.
 *
 * Invariant: the file is only ever a whole output that passed every
 * check when it was applied; a file that no longer passes (the config
 * changed) is ignored, and said.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "log.h"
#include "engine/engine.h"
#include "engine/kind.h"
#include "mob/discover.h"

#define DISC_FILE	"discovered"

/* STATE_DIR/discovered, or "" without state_dir. */
static const char *
disc_file(char *buf, size_t sz, const char *suffix)
{
	if (D->cfg == NULL || D->cfg->state_dir == NULL)
		return "";
	snprintf(buf, sz, "%s/%s%s", D->cfg->state_dir, DISC_FILE, suffix);
	return buf;
}

/* Keep an output that was applied (NULL: nothing is discovered). */
void
disc_save(const char *out, size_t len)
{
	char path[4096], tmp[4096];
	FILE *fp;

	if (*disc_file(path, sizeof(path), "") == '\0')
		return;
	if (out == NULL) {
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("discover: unlink %s", path);
		return;
	}
	disc_file(tmp, sizeof(tmp), ".new");
	if ((fp = fopen(tmp, "w")) == NULL) {
		log_warn("discover: cannot keep the roster: %s", tmp);
		return;
	}
	if (fwrite(out, 1, len, fp) != len || fclose(fp) == EOF) {
		log_warn("discover: cannot keep the roster: %s", tmp);
		(void)unlink(tmp);
		return;
	}
	if (rename(tmp, path) == -1) {
		log_warn("discover: rename %s to %s", tmp, path);
		(void)unlink(tmp);
	}
}

/* The file whole into *buf; its length, or -1 (none, or unreadable). */
static ssize_t
disc_read(char **buf)
{
	char path[4096];
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	*buf = NULL;
	if (*disc_file(path, sizeof(path), "") == '\0' ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			if ((*buf = realloc(*buf, cap)) == NULL)
				fatal("realloc");
		}
		if ((n = read(fd, *buf + len, cap - len)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (n == -1) {
		log_warn("discover: reading %s", path);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return (ssize_t)len;
}

/* Boot: the members discovered last time, before the store loads. */
static void
disc_restore(struct config *cfg, int reload)
{
	struct disc_list l;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char err[512], *buf;
	ssize_t len;

	if (reload || cfg->discover == NULL || (len = disc_read(&buf)) == -1)
		return;
	if (disc_parse(buf, (size_t)len, &l, err, sizeof(err)) == -1 ||
	    disc_check(&l, err, sizeof(err)) == -1)
		log_warnx("discover: the roster kept in %s/%s is not used: %s",
		    cfg->state_dir, DISC_FILE, err);
	else {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		disc_apply(&l, &pk);
		msgpack_sbuffer_destroy(&sb);
		log_info("discover: %d member(s) as discovered last", l.n);
	}
	disc_list_free(&l);
	free(buf);
}

static const struct domain_ops restore_domain = {
	.name = "discover-restore",
	.configure = disc_restore,
};

/* Before the store's domain: its load finds these members. */
void
discover_register_early(void)
{
	domain_register(&restore_domain);
}
