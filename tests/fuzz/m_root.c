/*
 * m_root.c: mobkitd's side of the msg target.  The messages of its
 * children go to the real handler (spawn.c's child_msg, included here to
 * reach it) on a tree built from an INI file by tree_build, with fork
 * replaced by a socketpair: every child has a peer, none has a process
 * (pid 0, so no kill reaches anything).  The trust table holds: a message
 * of a type its sender may not send leaves the sender condemned (the
 * table below is SPEC's, written again), and a condemned child is reaped
 * as if its KILL had landed, so that its policy restarts it.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define spawn_child	spawn_child_by_fork
#include "../../supervisor/engine/spawn.c"
#undef spawn_child
#include "mob/deliveries.h"
#include "mob/register.h"

#define MAX_KIDS	16

static const char root_ini[] =
    "[mobkitd]\n"
    "log_level = debug\n"
    "[mob]\n"
    "id = fuzz-mob\n"
    "[module router]\n"
    "command = mobkit-router\n"
    "[module delivery]\n"
    "command = mobkit-delivery\n"
    "depends = router\n"
    "[module scheduler]\n"
    "command = mobkit-scheduler\n"
    "depends = router delivery\n"
    "[module plain]\n"
    "command = /bin/true\n"
    "ready = message\n"
    "[profile talk]\n"
    "provider = echo\n"
    "comms = true\n"
    "mailbox_capacity = 8\n"
    "max_attempts = 2\n"
    "[profile quiet]\n"
    "provider = openai\n"
    "model = fuzz\n"
    "base_url = http://127.0.0.1:9/v1\n"
    "comms = false\n"
    "[member m1]\n"
    "profile = talk\n"
    "peers = m2\n"
    "[member m2]\n"
    "profile = talk\n"
    "[member m3]\n"
    "profile = quiet\n"
    "[route audit]\n"
    "recipient = audit\n"
    "channel = *\n"
    "sink = file\n"
    "target = /dev/null\n"
    "[route hook]\n"
    "recipient = ops\n"
    "sink = webhook\n"
    "target = http://127.0.0.1:9/hook\n"
    "retry_max = 3\n"
    "[schedule daily]\n"
    "cron = 0 9 * * 1-5\n"
    "timezone = Europe/Paris\n"
    "member = m1\n"
    "message = report\n"
    "[schedule often]\n"
    "interval = */30s\n"
    "member = m2\n"
    "message = tick\n";

static struct daemon	 droot;
static struct child	*kids[MAX_KIDS];
static int		 kidfd[MAX_KIDS];
static int		 nkids;

/* "Fork": a socketpair whose far end nobody reads but the target. */
int
spawn_child(struct child *c)
{
	int i, fd;

	for (i = 0; i < nkids && kids[i] != c; i++)
		;
	if (i < nkids && kidfd[i] != -1)
		fuzz_sink_forget(kidfd[i]);
	c->pid = 0;
	c->peer = fuzz_sink_peer(D->loop, child_msg, child_peer_gone, c, &fd);
	if (i == nkids && nkids < MAX_KIDS)
		kids[nkids++] = c;
	if (i < MAX_KIDS)
		kidfd[i] = fd;
	return 0;
}

/* Pack {t: type, version: 1} and hand it to the child's handler. */
static void
say(struct child *c, int type)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const char *err;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_kint(&pk, "t", type);
	mp_kint(&pk, "version", PROTO_VERSION);
	msgpack_unpacked_init(&u);
	if (frame_decode(sb.data, sb.size, &u, &err) == -1)
		fuzz_fail("say: %s", err);
	(void)child_msg(c->peer, &u.data, c);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

/* Every started child says HELLO and READY, until all are healthy. */
static void
bring_up(void)
{
	struct child *c;
	int round, moved;

	for (round = 0; round < 8; round++) {
		moved = 0;
		TAILQ_FOREACH(c, &D->children, entry) {
			if (c->state != CS_STARTING &&
			    c->state != CS_RESTARTING)
				continue;
			if (!c->hello)
				say(c, MSG_HELLO);
			say(c, MSG_READY);
			moved = 1;
		}
		ev_run(D->loop, EVRUN_NOWAIT);
		fuzz_sinks_drain();
		if (!moved)
			break;
	}
}

void
fuzz_root_init(void)
{
	struct config *cfg;

	D = &droot;
	TAILQ_INIT(&D->children);
	TAILQ_INIT(&D->groups);
	TAILQ_INIT(&D->stoppers);
	D->pid = getpid();
	D->start_mono = mono_ms();
	D->loop = ev_default_loop(0);
	if ((D->cfg_path = strdup("fuzz.ini")) == NULL)
		fuzz_fail("strdup");
	events_init(1 << 20);
	mob_register();
	cfg = config_load(fuzz_memfile(root_ini, sizeof(root_ini) - 1));
	if (cfg == NULL || cfg->errors.n > 0)
		fuzz_fail("root INI: %s", cfg ? cfg->errors.v[0] : "ENOMEM");
	tree_build(cfg);
	bring_up();
	if (nkids == 0)
		fuzz_fail("root: no child came up");
}

/* May this child send this type?  (What trust.c must enforce.) */
static int
allowed(const struct child *c, int64_t t)
{
	switch (t) {
	case MSG_HELLO:
	case MSG_READY:
	case MSG_HEARTBEAT:
	case MSG_EVENT:
	case MSG_PONG:
		return 1;
	case MSG_RUN_DONE:
	case MSG_TOOL_SEND:
		return c->conf->kind == KIND_MEMBER;
	case MSG_MOD_RESULT:
		return c->conf->kind != KIND_MEMBER;
	case MSG_FIRE:
		return c->conf->kind != KIND_MEMBER &&
		    strcmp(c->name, "scheduler") == 0;
	case MSG_ATTEMPT:
		return c->conf->kind != KIND_MEMBER &&
		    strcmp(c->name, "delivery") == 0;
	default:
		return 0;
	}
}

/* One message from child i (of those spawned), to the real handler. */
void
fuzz_root_msg(int i, const msgpack_object *m)
{
	struct child *c = kids[i % nkids];
	struct msg_view v;
	char err[256];
	int64_t t;

	if (c->peer == NULL)
		return;		/* its socket died: nothing reads it */
	(void)child_msg(c->peer, m, c);
	if (mp_get_int(m, "t", &t) == -1 || !allowed(c, t))
		FUZZ_ASSERT(c->condemned);
	/* a message that breaks its table (msgtab.c) is bad: killed */
	if (msg_read(m, &v, err, sizeof(err)) == -1)
		FUZZ_ASSERT(c->condemned);
}

/* A condemned child's KILL lands: it is reaped as killed by SIGKILL. */
static void
reap_condemned(void)
{
	struct child *c, *next;

	for (c = TAILQ_FIRST(&D->children); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->condemned && (c->state == CS_STARTING ||
		    c->state == CS_HEALTHY || c->state == CS_RESTARTING ||
		    c->state == CS_STOPPING))
			child_exited(c, SIGKILL);
	}
}

/* One line of child i's stdout. */
void
fuzz_root_stdout(int i, const char *line)
{
	(void)stdout_line(kids[i % nkids], line);
}

/* A delivery record as the store hands it over at start-up. */
void
fuzz_root_restore(const char *blob, size_t len)
{
	delivery_restore(blob, len);
}

/* What the loop would do next: flush, run due timers; then restart. */
void
fuzz_root_after(void)
{
	reap_condemned();
	ev_run(D->loop, EVRUN_NOWAIT);
	fuzz_sinks_drain();
	bring_up();
}
