# mobkit: make, make check, make check-asan, make bench, make install, make demo,
# make fuzz
PREFIX	?= /usr/local
DESTDIR	?=
BUILD	?= build
BINDIR	?= bin
CC	?= cc
CFLAGS	?= -O2 -g
WARN	 = -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	   -Wshadow -Wpointer-arith -Wcast-qual -Wsign-compare -Wformat=2 \
	   -Wno-format-nonliteral
PKGS	 = msgpack inih jansson libcurl
CPPFLAGS += -D_GNU_SOURCE -Icommon -Isupervisor $(shell pkg-config --cflags $(PKGS))
# libcurl is loaded at run time (dlopen) by the processes that speak HTTP;
# its headers are needed to build, its library only to run them
LDLIBS	 = $(shell pkg-config --libs msgpack inih jansson) -lev -lm
# mobkitctl's start-up is most of a round trip: it links only these, and
# statically (no dynamic loader at start) unless a sanitizer is on
CTL_LIBS = $(shell pkg-config --libs msgpack jansson)
CTL_LDFLAGS ?= $(if $(findstring -fsanitize,$(CFLAGS)),,-static)
ALL_CFLAGS = $(CFLAGS) $(WARN)

COMMON	 = common/log.c common/timeutil.c common/proto.c common/mpack.c \
	   common/frame.c common/peer.c common/config.c common/config_sections.c \
	   common/config_read.c common/config_check.c common/config_mcp.c \
	   common/child.c common/budget.c \
	   common/httpc.c common/tojson.c common/cron.c \
	   common/mail.c common/sse.c common/ctlverbs.c common/inikey.c \
	   common/msgtab.c common/msgread.c common/msgwrite.c \
	   common/config_params.c common/config_gateway.c common/logfile.c
# the engine below (it includes no domain header), the mob's domains above
ENGINE	 = supervisor/engine/state.c supervisor/engine/policy.c \
	   supervisor/engine/stopper.c supervisor/engine/start.c \
	   supervisor/engine/build.c supervisor/engine/reload.c \
	   supervisor/engine/shutdown.c supervisor/engine/orphans.c \
	   supervisor/engine/kinds.c supervisor/engine/notify.c \
	   supervisor/engine/spawn.c supervisor/engine/watchdog.c \
	   supervisor/engine/output.c supervisor/engine/events.c \
	   supervisor/engine/trust.c supervisor/engine/logring.c \
	   supervisor/engine/spawn_exec.c
MOB	 = supervisor/mob/mailbox.c supervisor/mob/retention.c \
	   supervisor/mob/inputs.c supervisor/mob/members.c \
	   supervisor/mob/modules.c supervisor/mob/schedules.c \
	   supervisor/mob/deliveries.c supervisor/mob/register.c \
	   supervisor/mob/persist.c supervisor/mob/conversation.c \
	   supervisor/mob/stream.c supervisor/mob/discover.c \
	   supervisor/mob/discover_apply.c supervisor/mob/discover_state.c \
	   supervisor/mob/mcp.c supervisor/mob/cluster_mob.c
STORE	 = supervisor/store.c supervisor/store_mem.c \
	   supervisor/store_sqlite_open.c supervisor/store_sqlite_batch.c \
	   supervisor/store_sqlite_write.c supervisor/store_sqlite_read.c \
	   $(PGSTORE)
# the PostgreSQL store: libpq; its schema files are built in (pg_schema.c)
PGSTORE	 = supervisor/store_pg_open.c supervisor/store_pg_conn.c \
	   supervisor/store_pg_batch.c supervisor/store_pg_load.c \
	   supervisor/store_pg_mem.c supervisor/pgio.c supervisor/pgq.c supervisor/cluster.c \
	   supervisor/roster.c
PG_SCHEMA = $(sort $(wildcard supervisor/pg/schema/*.sql))
STORE_LIBS = -lsqlite3 $(shell pkg-config --libs libpq)
SUPER	 = supervisor/mobkitd.c supervisor/control.c supervisor/supervision.c $(STORE) \
	   supervisor/control_relay.c supervisor/logs.c \
	   $(ENGINE) $(MOB) supervisor/pg_schema.c
CTL	 = supervisor/mobkitctl.c supervisor/ctlagents.c supervisor/ctllogs.c \
	   supervisor/ctlprint.c
PROGS	 = mobkitd mobkitctl mobkit-worker mobkit-router mobkit-delivery \
	   mobkit-scheduler mobkit-mcp mobkit-gateway
MCP	 = mcp/main.c mcp/session.c mcp/jsonrpc.c mcp/stdio.c mcp/http.c
FIXTURES = $(BUILD)/tests/mkchild $(BUILD)/tests/ctlclient $(BUILD)/tests/mcpworker \
	   $(BUILD)/tests/listkeys
CHAOS	 = $(BUILD)/tests/chaosload $(BUILD)/tests/mkchild
BENCHES	 = $(BUILD)/tests/respawner $(BUILD)/tests/benchchild $(BUILD)/tests/mkbench \
	   $(BUILD)/tests/mobbench $(BUILD)/tests/modbench $(BUILD)/tests/ctlbench \
	   $(BUILD)/tests/turnbench $(BUILD)/tests/mcpbench $(BUILD)/tests/ssebench \
	   $(BUILD)/tests/clbench
UNIT	 = $(BUILD)/tests/unit_tests

obj	 = $(patsubst %.c,$(BUILD)/%.o,$(1))

all: $(addprefix $(BINDIR)/,$(PROGS))

$(BUILD)/%.o: %.c $(wildcard common/*.h supervisor/*.h supervisor/*/*.h \
	    worker/*.h mcp/*.h gateway/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(BUILD)/libcommon.a: $(call obj,$(COMMON))
	$(AR) rcs $@ $^

$(BINDIR)/mobkitd: $(call obj,$(SUPER)) $(BUILD)/libcommon.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LDLIBS) $(STORE_LIBS)

# (and what asks the cluster's connection, pgq.h, itself)
PGQ_USERS = supervisor/mob/schedules.c supervisor/mob/deliveries.c
$(call obj,$(PGSTORE) $(PGQ_USERS)): CPPFLAGS += $(shell pkg-config --cflags libpq)
# the schema files as C strings, in order (store_pg_open.c applies them)
$(BUILD)/supervisor/pg_schema.c: $(PG_SCHEMA)
	@mkdir -p $(dir $@)
	{ echo '/* generated from supervisor/pg/schema/ */'; \
	  i=0; for f in $(PG_SCHEMA); do \
	    echo "static const char s$$i[] = {"; \
	    od -An -v -tx1 $$f | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	    echo '0x00 };'; i=$$((i + 1)); \
	  done; \
	  echo 'extern const char *const pg_schema_sql[];'; \
	  echo 'const char *const pg_schema_sql[] = {'; \
	  i=0; for f in $(PG_SCHEMA); do echo "s$$i,"; i=$$((i + 1)); done; \
	  echo '0 };'; \
	  echo 'extern const char *const pg_schema_names[];'; \
	  echo 'const char *const pg_schema_names[] = {'; \
	  for f in $(PG_SCHEMA); do echo "\"$$(basename $$f)\","; done; \
	  echo '0 };'; \
	  echo 'extern const int pg_schema_count;'; \
	  echo "const int pg_schema_count = $$i;"; } > $@
$(BUILD)/supervisor/pg_schema.o: $(BUILD)/supervisor/pg_schema.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BINDIR)/mobkitctl: $(call obj,$(CTL)) $(BUILD)/libcommon.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) $(CTL_LDFLAGS) -o $@ $^ $(CTL_LIBS)

WORKER	 = worker/worker.c worker/turn.c worker/tools.c worker/echo.c \
	   worker/openai.c \
	   worker/anthropic.c worker/context.c worker/wire.c
$(BINDIR)/mobkit-worker: $(call obj,$(WORKER)) $(BUILD)/libcommon.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/mobkit-router: $(call obj,router/router.c) $(BUILD)/libcommon.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/mobkit-delivery: $(call obj,delivery/delivery.c) $(BUILD)/libcommon.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/mobkit-scheduler: $(call obj,scheduler/scheduler.c) $(BUILD)/libcommon.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/mobkit-mcp: $(call obj,$(MCP)) $(BUILD)/libcommon.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# the gateway: libmicrohttpd (HTTP, TLS with GnuTLS), libjwt and OpenSSL
# (JWT and JWK keys); its OpenAPI document is built into it
GW_PKGS	 = libmicrohttpd libjwt openssl
GATEWAY	 = gateway/main.c gateway/http.c gateway/routes.c gateway/auth.c \
	   gateway/sse.c gateway/metrics.c gateway/metrics_feed.c gateway/json.c \
	   gateway/openai.c gateway/mcpserver.c gateway/console.c
$(BUILD)/gateway/openapi.c: gateway/openapi.json
	@mkdir -p $(dir $@)
	{ echo '/* generated from gateway/openapi.json */'; \
	  echo 'const char gw_openapi[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00 };'; } > $@
$(BUILD)/gateway/openapi.o: $(BUILD)/gateway/openapi.c
	$(CC) $(CFLAGS) -c -o $@ $<
# the console's files, built in as C arrays (console.c serves them)
CONSOLE	 = gateway/console/index.html gateway/console/app.js \
	   gateway/console/app.css
$(BUILD)/gateway/console_files.c: $(CONSOLE)
	@mkdir -p $(dir $@)
	{ echo '/* generated from gateway/console/ */'; \
	  for f in $(CONSOLE); do \
	    n=$$(basename $$f | tr .- __); \
	    echo "const unsigned char console_$$n[] = {"; \
	    od -An -v -tx1 $$f | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	    echo '0x00 };'; \
	    echo "const unsigned long console_$${n}_len ="; \
	    echo "    sizeof(console_$$n) - 1;"; \
	  done; } > $@
$(BUILD)/gateway/console_files.o: $(BUILD)/gateway/console_files.c
	$(CC) $(CFLAGS) -c -o $@ $<
$(call obj,$(GATEWAY)): CPPFLAGS += $(shell pkg-config --cflags $(GW_PKGS))
$(BINDIR)/mobkit-gateway: $(call obj,$(GATEWAY)) $(BUILD)/gateway/openapi.o \
	    $(BUILD)/gateway/console_files.o \
	    $(BUILD)/libcommon.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs $(GW_PKGS))

$(BUILD)/tests/%: $(BUILD)/tests/fixtures/%.o $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/bench/%.o $(BUILD)/tests/bench/benchlib.o \
	    $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/chaosload: $(BUILD)/tests/chaos/chaosload.o \
	    $(BUILD)/tests/bench/benchlib.o $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/clload: $(BUILD)/tests/chaos/clload.o \
	    $(BUILD)/tests/bench/benchlib.o $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# the baseline calls libcurl directly
$(BUILD)/tests/modbench: $(BUILD)/tests/bench/modbench.o \
	    $(BUILD)/tests/bench/benchlib.o $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libcurl)

$(BUILD)/tests/turnbench: $(BUILD)/tests/bench/turnbench.o \
	    $(BUILD)/tests/bench/benchlib.o $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libcurl)

UNIT_SUPER = $(filter-out supervisor/mobkitd.c,$(SUPER))
$(UNIT): $(call obj,$(wildcard tests/unit/*.c) $(UNIT_SUPER) \
	    worker/context.c worker/wire.c mcp/jsonrpc.c) $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LDLIBS) $(STORE_LIBS) $(shell pkg-config --libs check)

# make check's chaos run is shorter than make chaos's (CHAOS_SECONDS, 60)
CHECK_CHAOS_SECONDS ?= 30
check: all $(FIXTURES) $(UNIT) $(CHAOS) fuzz-replay-bins
	$(UNIT)
	MOBKIT_BIN=$(CURDIR)/$(BINDIR) MOBKIT_TESTBIN=$(CURDIR)/$(BUILD)/tests \
	    sh tests/integration/run.sh
	$(FUZZ_REPLAY)
	MOBKIT_BIN=$(CURDIR)/$(BINDIR) MOBKIT_TESTBIN=$(CURDIR)/$(BUILD)/tests \
	    CHAOS_SECONDS=$(CHECK_CHAOS_SECONDS) bash tests/chaos/chaos.sh

# --- fuzzing: make fuzz runs libFuzzer (clang) on every target; make check
# replays their corpora with gcc through tests/fuzz/replay.c
FUZZ_TARGETS ?= frame msg ctlreq ini cron tz sse json mcp
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?= 0
FUZZ_CC	?= clang
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link \
	   -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_DIR = $(BUILD)/tests/fuzz
FUZZ_UTIL = tests/fuzz/fuzz_util.c
FUZZ_ROLES = tests/fuzz/fuzz_httpc.c tests/fuzz/m_root.c tests/fuzz/m_worker.c \
	   tests/fuzz/m_router.c tests/fuzz/m_scheduler.c \
	   tests/fuzz/m_delivery.c tests/fuzz/m_ctl.c tests/fuzz/m_child.c
FUZZ_SRC_frame = tests/fuzz/f_frame.c $(FUZZ_UTIL)
# m_root.c includes spawn.c to reach child_msg
# m_worker.c includes worker.c; the worker's other files are linked
WORKER_REST = $(filter-out worker/worker.c,$(WORKER))
FUZZ_SRC_msg = tests/fuzz/f_msg.c $(FUZZ_UTIL) $(FUZZ_ROLES) \
	   $(filter-out supervisor/engine/spawn.c,$(UNIT_SUPER)) $(WORKER_REST) \
	   supervisor/ctlagents.c supervisor/ctlprint.c supervisor/ctllogs.c
FUZZ_SRC_ctlreq = tests/fuzz/f_ctlreq.c $(FUZZ_UTIL)
FUZZ_SRC_ini = tests/fuzz/f_ini.c $(FUZZ_UTIL)
FUZZ_SRC_cron = tests/fuzz/f_cron.c $(FUZZ_UTIL)
# f_tz.c includes cron.c to reach the parsed zone
FUZZ_SRC_tz = tests/fuzz/f_tz.c $(FUZZ_UTIL)
FUZZ_SRC_sse = tests/fuzz/f_sse.c $(FUZZ_UTIL) tests/fuzz/fuzz_httpc.c \
	   tests/fuzz/m_worker.c tests/fuzz/m_child.c $(WORKER_REST)
FUZZ_SRC_json = tests/fuzz/f_json.c $(FUZZ_UTIL)
FUZZ_SRC_mcp = tests/fuzz/f_mcp.c $(FUZZ_UTIL) mcp/jsonrpc.c

# the harnesses include the processes' own .c files
$(BUILD)/tests/fuzz/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h \
	    $(wildcard common/*.h common/*.c supervisor/*.h supervisor/*.c \
	    supervisor/*/*.h supervisor/*/*.c \
	    worker/*.h worker/*.c router/*.c scheduler/*.c delivery/*.c)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes $(CPPFLAGS) -c -o $@ $<

define FUZZ_template
$(FUZZ_DIR)/fuzz-$(1): $(call obj,$(FUZZ_SRC_$(1))) $(BUILD)/libcommon.a
	$$(CC) $$(CFLAGS) -fsanitize=fuzzer -pthread -o $$@ $$^ $$(LDLIBS) $$(STORE_LIBS)
$(FUZZ_DIR)/replay-$(1): $(call obj,$(FUZZ_SRC_$(1)) tests/fuzz/replay.c) \
	    $(BUILD)/libcommon.a
	$$(CC) $$(CFLAGS) -pthread -o $$@ $$^ $$(LDLIBS) $$(STORE_LIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_template,$(t))))

fuzz:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs" \
	    "$(FUZZ_CC) and libFuzzer (etc/deps.sh installs them)"; exit 1; }
	$(MAKE) BUILD=build-fuzz BINDIR=build-fuzz/bin CC=$(FUZZ_CC) \
	    CFLAGS="$(FUZZ_CFLAGS)" fuzz-bins
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) \
	    sh tests/fuzz/run.sh build-fuzz/tests/fuzz $(FUZZ_TARGETS)

fuzz-bins: $(foreach t,$(FUZZ_TARGETS),$(FUZZ_DIR)/fuzz-$(t))

fuzz-replay-bins: $(foreach t,$(FUZZ_TARGETS),$(FUZZ_DIR)/replay-$(t))

# every target's corpus and regression seeds, once each (make check too)
FUZZ_REPLAY = @for t in $(FUZZ_TARGETS); do \
	    $(FUZZ_DIR)/replay-$$t tests/fuzz/corpus/$$t \
	    tests/fuzz/regress/$$t || exit 1; done

fuzz-replay: fuzz-replay-bins
	$(FUZZ_REPLAY)

SAN	 = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
check-asan:
	$(MAKE) BUILD=build-asan BINDIR=build-asan/bin CFLAGS="$(SAN)" \
	    ASAN_OPTIONS=detect_leaks=1 check

bench: all $(BENCHES)
	MOBKIT_BIN=$(CURDIR)/$(BINDIR) MOBKIT_TESTBIN=$(CURDIR)/$(BUILD)/tests \
	    sh tests/bench/run.sh

# CHAOS_SECONDS (default 60) of kill -9 under keyed load; see tests/chaos
chaos: all $(CHAOS)
	MOBKIT_BIN=$(CURDIR)/$(BINDIR) MOBKIT_TESTBIN=$(CURDIR)/$(BUILD)/tests \
	    bash tests/chaos/chaos.sh

# the same promise for 3 nodes on one PostgreSQL: CHAOS_SECONDS of kill -9
# (and SIGSTOP) of random nodes under keyed load sent through all of them
chaos-cluster: all $(BUILD)/tests/clload
	MOBKIT_BIN=$(CURDIR)/$(BINDIR) MOBKIT_TESTBIN=$(CURDIR)/$(BUILD)/tests \
	    bash tests/chaos/chaos_cluster.sh

demo: all
	sh etc/demo.sh

# --- install: one list, INSTALLED (MODE SOURCE DEST triples), drives both
# install and uninstall so that they cannot drift.  Build and install with
# the same PREFIX: mobkitd looks for its modules in PREFIX/libexec/mobkit
# (compiled in), after ../libexec/mobkit beside its own binary.
# SYSCONFDIR: /etc when PREFIX is /usr, else PREFIX/etc.
SYSCONFDIR ?=
UNITDIR	?= $(PREFIX)/lib/systemd/system
sysconfdir = $(or $(SYSCONFDIR),$(if $(filter /usr /usr/,$(PREFIX)),/etc,$(PREFIX)/etc))
sbindir	 = $(PREFIX)/sbin
bindir	 = $(PREFIX)/bin
libexecdir = $(PREFIX)/libexec/mobkit
mandir	 = $(PREFIX)/share/man
docdir	 = $(PREFIX)/share/doc/mobkit
bashcompdir = $(PREFIX)/share/bash-completion/completions
$(BUILD)/supervisor/engine/spawn.o: CPPFLAGS += \
	    -DMOBKIT_LIBEXECDIR='"$(libexecdir)"'
MODULES	 = $(filter mobkit-%,$(PROGS))
MAN	 = doc/mobkitctl.1:man1 doc/mobkit.ini.5:man5 doc/mobkitd.8:man8 \
	   doc/mobkit-gateway.8:man8
INSTALLED = 755 $(BINDIR)/mobkitd $(sbindir)/mobkitd \
	   755 $(BINDIR)/mobkitctl $(bindir)/mobkitctl \
	   $(foreach m,$(MODULES),755 $(BINDIR)/$(m) $(libexecdir)/$(m)) \
	   $(foreach m,$(MAN),644 $(firstword $(subst :, ,$(m))) \
	     $(mandir)/$(lastword $(subst :, ,$(m)))/$(notdir \
	     $(firstword $(subst :, ,$(m))))) \
	   644 etc/bash-completion/mobkitctl $(bashcompdir)/mobkitctl \
	   644 $(BUILD)/mobkitd.service $(UNITDIR)/mobkitd.service \
	   644 README.md $(docdir)/README.md \
	   644 etc/mobkit.ini $(docdir)/examples/mobkit.ini \
	   644 etc/mobkit-docker.ini $(docdir)/examples/mobkit-docker.ini
# directories of our own, removed by uninstall once empty
OWNDIRS	 = $(docdir)/examples $(docdir) $(libexecdir)
# the example config, never over an existing one, kept by uninstall
SYSCONF	 = $(sysconfdir)/mobkit/mobkit.ini

$(BUILD)/mobkitd.service: etc/mobkitd.service.in FORCE
	@mkdir -p $(dir $@)
	sed -e 's|@SBINDIR@|$(sbindir)|g' -e 's|@SYSCONFDIR@|$(sysconfdir)|g' \
	    etc/mobkitd.service.in >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

install: all $(BUILD)/mobkitd.service
	@set -e; set -- $(INSTALLED); while [ $$# -ge 3 ]; do \
	    echo "install -m $$1 $$2 $(DESTDIR)$$3"; \
	    install -D -m $$1 $$2 "$(DESTDIR)$$3"; shift 3; done
	@if [ -e "$(DESTDIR)$(SYSCONF)" ]; then \
	    echo "$(DESTDIR)$(SYSCONF) exists: not replaced"; else \
	    echo "install -m 644 etc/mobkit-system.ini $(DESTDIR)$(SYSCONF)"; \
	    install -D -m 644 etc/mobkit-system.ini "$(DESTDIR)$(SYSCONF)"; fi

uninstall:
	@set -- $(INSTALLED); while [ $$# -ge 3 ]; do \
	    echo "rm -f $(DESTDIR)$$3"; rm -f "$(DESTDIR)$$3"; shift 3; done
	@for d in $(OWNDIRS); do \
	    rmdir "$(DESTDIR)$$d" 2>/dev/null || true; done
	@[ ! -e "$(DESTDIR)$(SYSCONF)" ] || \
	    echo "$(DESTDIR)$(SYSCONF) kept (a config: remove it by hand)"

# --- make deb: a Debian package (debhelper, debian/rules), built in
# build-deb/ with Debian's flags (dpkg-buildflags: DEB_CFLAGS_APPEND and
# the like change them, not CFLAGS), a second run rebuilding only what
# changed; then checked with lintian.  The .deb lands in DEB_OUT
DEB_OUT	?= build-deb
deb:
	@command -v dh >/dev/null || { echo "make deb needs debhelper" \
	    "(etc/deps.sh installs it)"; exit 1; }
	@mkdir -p build-deb $(DEB_OUT) && rm -f $(DEB_OUT)/mobkit_*.deb
	@echo "debian/rules build binary (log in build-deb/deb.log)"
	@env -u MAKEFLAGS -u MFLAGS -u CFLAGS -u CPPFLAGS -u LDFLAGS \
	    DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" \
	    DEB_OUT=$(abspath $(DEB_OUT)) \
	    sh -c 'debian/rules build && debian/rules binary' \
	    >build-deb/deb.log 2>&1 || { tail -n 30 build-deb/deb.log; exit 1; }
	@ls $(DEB_OUT)/mobkit_*.deb
	@if command -v lintian >/dev/null; then \
	    lintian --fail-on error,warning $(DEB_OUT)/mobkit_*.deb; else \
	    echo "lintian not installed: the package is not checked"; fi

clean:
	rm -rf build build-asan build-fuzz bin build-deb

.PHONY: all check check-asan bench chaos chaos-cluster demo install clean fuzz fuzz-bins \
	fuzz-replay fuzz-replay-bins uninstall deb FORCE
