# mobkit: make, make check, make check-asan, make bench, make install, make demo
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
ALL_CFLAGS = $(CFLAGS) $(WARN)

COMMON	 = common/log.c common/timeutil.c common/proto.c common/mpack.c \
	   common/frame.c common/config.c common/child.c common/budget.c \
	   common/httpc.c common/tojson.c common/cron.c \
	   common/sse.c
SUPER	 = supervisor/mobkitd.c supervisor/tree.c supervisor/spawn.c \
	   supervisor/control.c supervisor/events.c supervisor/output.c \
	   supervisor/mailbox.c supervisor/members.c \
	   supervisor/store.c supervisor/modules.c \
	   supervisor/schedules.c supervisor/deliveries.c
CTL	 = supervisor/mobkitctl.c
PROGS	 = mobkitd mobkitctl mobkit-worker mobkit-router mobkit-delivery \
	   mobkit-scheduler
FIXTURES = $(BUILD)/tests/mkchild $(BUILD)/tests/ctlclient
BENCHES	 = $(BUILD)/tests/respawner $(BUILD)/tests/benchchild $(BUILD)/tests/mkbench \
	   $(BUILD)/tests/mobbench $(BUILD)/tests/modbench
UNIT	 = $(BUILD)/tests/unit_tests

obj	 = $(patsubst %.c,$(BUILD)/%.o,$(1))

all: $(addprefix $(BINDIR)/,$(PROGS))

$(BUILD)/%.o: %.c $(wildcard common/*.h supervisor/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(BUILD)/libcommon.a: $(call obj,$(COMMON))
	$(AR) rcs $@ $^

$(BINDIR)/mobkitd: $(call obj,$(SUPER)) $(BUILD)/libcommon.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LDLIBS) -lsqlite3

$(BINDIR)/mobkitctl: $(call obj,$(CTL)) $(BUILD)/libcommon.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/mobkit-worker: $(call obj,worker/worker.c) $(BUILD)/libcommon.a
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

$(BUILD)/tests/%: $(BUILD)/tests/fixtures/%.o $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/bench/%.o $(BUILD)/tests/bench/benchlib.o \
	    $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# the baseline calls libcurl directly
$(BUILD)/tests/modbench: $(BUILD)/tests/bench/modbench.o \
	    $(BUILD)/tests/bench/benchlib.o $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libcurl)

UNIT_SUPER = $(filter-out supervisor/mobkitd.c,$(SUPER))
$(UNIT): $(call obj,$(wildcard tests/unit/*.c) $(UNIT_SUPER)) $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LDLIBS) -lsqlite3 $(shell pkg-config --libs check)

check: all $(FIXTURES) $(UNIT)
	$(UNIT)
	MOBKIT_BIN=$(CURDIR)/$(BINDIR) MOBKIT_TESTBIN=$(CURDIR)/$(BUILD)/tests \
	    sh tests/integration/run.sh

SAN	 = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
check-asan:
	$(MAKE) BUILD=build-asan BINDIR=build-asan/bin CFLAGS="$(SAN)" \
	    ASAN_OPTIONS=detect_leaks=1 check

bench: all $(BENCHES)
	MOBKIT_BIN=$(CURDIR)/$(BINDIR) MOBKIT_TESTBIN=$(CURDIR)/$(BUILD)/tests \
	    sh tests/bench/run.sh

demo: all
	sh etc/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/doc/mobkit
	install -m 755 $(addprefix $(BINDIR)/,$(PROGS)) $(DESTDIR)$(PREFIX)/bin
	install -m 644 doc/mobkitd.8 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 644 doc/mobkitctl.1 $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 doc/mobkit.ini.5 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 etc/mobkit.ini etc/mobkitd.service \
	    $(DESTDIR)$(PREFIX)/share/doc/mobkit

clean:
	rm -rf build build-asan bin

.PHONY: all check check-asan bench demo install clean
