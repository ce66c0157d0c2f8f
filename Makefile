# qshape-milter: build, test, benchmark, install.
#
#   make            build the programs into build/
#   make demo       a flood through a private Postfix, with the milter
#   make check      install missing Debian packages, build, run every tier
#   make mutate     the mutation tier: how many plausible bugs the tests catch
#   make bench      benchmarks, with ratios against peers run alongside
#   make install    PREFIX=/usr/local DESTDIR=
#   make uninstall  what install put there (not the config, users, groups)
#   make clean
#
# CC, CFLAGS, CPPFLAGS, LDFLAGS and LDLIBS from the environment or the
# command line are honoured (Debian's dpkg-buildflags); WERROR=0 turns
# warnings back into warnings.

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
INITDIR	?= $(SYSCONFDIR)/init.d

CC	?= cc
CFLAGS	?= -O2 -g
WERROR	?= 1
WARN	= -std=c11 -Wall -Wextra $(if $(filter 0,$(WERROR)),,-Werror) \
	  -Wmissing-prototypes -Wformat=2 -Wshadow -Wstrict-prototypes -Wvla
CPPFLAGS += -D_GNU_SOURCE -Iinclude -Isrc/common -Isrc/queue -Isrc/shape \
	  $(shell pkg-config --cflags libconfig 2>/dev/null) \
	  $(shell pkg-config --cflags libpsl 2>/dev/null)
LDLIBS	+= $(shell pkg-config --libs libconfig 2>/dev/null || echo -lconfig) \
	  $(shell pkg-config --libs libpsl 2>/dev/null || echo -lpsl) \
	  -lm -lpthread
DEPFLAGS = -MMD -MP

B	= build
# Sanitizer and fuzzer builds use clang.
SAN_CC	= clang
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	  -fno-sanitize-recover=all
# make check builds with one job per CPU, unless make was given -j.
JOBS	?= $(shell nproc 2>/dev/null || echo 2)
PAR	= $(if $(filter -j%,$(MAKEFLAGS)),,-j$(JOBS))

LIB_SRC	= $(wildcard src/common/*.c src/queue/*.c src/shape/*.c)
CTL_SRC	= $(wildcard src/ctl/*.c)
SCAND_SRC = $(wildcard src/scand/*.c)
MILTER_SRC = $(wildcard src/milter/*.c)
MILTER_LIBS = -lmilter
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT	= $(UNIT_SRC:tests/unit/%.c=$(B)/%)
UNIT_ASAN = $(UNIT_SRC:tests/unit/%.c=$(B)/asan/%)
TOOLS	= $(B)/qgen $(B)/addrq $(B)/bench-floor $(B)/mkseeds $(B)/qsfixture \
	  $(B)/mkseeds_sender \
	  $(B)/scand-latency $(B)/bench-decide $(B)/bench-sessions $(B)/holdmilter

PROGS	= $(B)/qshapectl $(B)/qshape-scand $(B)/qshape-milter

all: $(PROGS) $(TOOLS)

progs: $(PROGS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/asan/%.o: %.c
	@mkdir -p $(@D)
	$(SAN_CC) $(WARN) $(SAN_FLAGS) $(CPPFLAGS) $(DEPFLAGS) -c -o $@ $<

LIB_OBJ	= $(LIB_SRC:%.c=$(B)/%.o)
$(B)/libqshape.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/asan/libqshape.a: $(LIB_SRC:%.c=$(B)/asan/%.o)
	rm -f $@ && ar rcs $@ $^

$(B)/qshapectl: $(CTL_SRC:%.c=$(B)/%.o) $(B)/libqshape.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/asan/qshapectl: $(CTL_SRC:%.c=$(B)/asan/%.o) $(B)/asan/libqshape.a
	$(SAN_CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(B)/qshape-scand: $(SCAND_SRC:%.c=$(B)/%.o) $(B)/libqshape.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/asan/qshape-scand: $(SCAND_SRC:%.c=$(B)/asan/%.o) $(B)/asan/libqshape.a
	$(SAN_CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(B)/qshape-milter: $(MILTER_SRC:%.c=$(B)/%.o) $(B)/libqshape.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(MILTER_LIBS) $(LDLIBS)

$(B)/asan/qshape-milter: $(MILTER_SRC:%.c=$(B)/asan/%.o) $(B)/asan/libqshape.a
	$(SAN_CC) $(SAN_FLAGS) -o $@ $^ $(MILTER_LIBS) $(LDLIBS)

# Test and benchmark tools.
$(B)/qgen: $(B)/tests/tools/qgen.o $(B)/tests/tools/qgen_write.o \
	    $(B)/libqshape.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/qsfixture: $(B)/tests/tools/qsfixture.o $(B)/libqshape.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/addrq: $(B)/tests/tools/addrq.o $(B)/libqshape.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# A milter that holds and marks messages as qshape-milter does (e2e).
$(B)/holdmilter: $(B)/tests/tools/holdmilter.o $(B)/libqshape.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(MILTER_LIBS) $(LDLIBS)
$(B)/bench-floor: $(B)/bench/floor.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests: cmocka, one file per module, plain and under ASan/UBSan.
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
$(B)/test_%: $(B)/tests/unit/test_%.o $(B)/libqshape.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)
$(B)/asan/test_%: $(B)/asan/tests/unit/test_%.o $(B)/asan/libqshape.a
	$(SAN_CC) $(SAN_FLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)

# These tests inject allocation failures (tests/unit/failmalloc.h).
FAILMALLOC = throttle verdict
$(FAILMALLOC:%=$(B)/test_%) $(FAILMALLOC:%=$(B)/asan/test_%): LDLIBS += \
	  -Wl,--wrap=malloc -Wl,--wrap=realloc

# The tests of the scanner's modules link them, without its main().
SCAND_MODS = $(filter-out src/scand/scand.c,$(SCAND_SRC))
SCAND_TESTS = scanner sc_body watch reconcile
$(SCAND_TESTS:%=$(B)/tests/unit/test_%.o) \
    $(SCAND_TESTS:%=$(B)/asan/tests/unit/test_%.o): CPPFLAGS += -Isrc/scand
$(SCAND_TESTS:%=$(B)/test_%): $(B)/test_%: $(B)/tests/unit/test_%.o \
	    $(SCAND_MODS:%.c=$(B)/%.o) $(B)/libqshape.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)
$(SCAND_TESTS:%=$(B)/asan/test_%): $(B)/asan/test_%: \
	    $(B)/asan/tests/unit/test_%.o \
	    $(SCAND_MODS:%.c=$(B)/asan/%.o) $(B)/asan/libqshape.a
	$(SAN_CC) $(SAN_FLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)

# bench/scand's driver: links the scanner's modules, as test_scanner does.
$(B)/bench/scand-latency.o: CPPFLAGS += -Isrc/scand
$(B)/scand-latency: $(B)/bench/scand-latency.o \
	    $(SCAND_MODS:%.c=$(B)/%.o) $(B)/libqshape.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# bench/milter's drivers: the milter's own summary access, and a client
# that holds SMTP sessions open.
$(B)/bench/decide.o: CPPFLAGS += -Isrc/milter
$(B)/bench-decide: $(B)/bench/decide.o $(B)/src/milter/sumr.o $(B)/libqshape.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/bench-sessions: $(B)/bench/sessions.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The fuzz targets share one build of the library, instrumented for
# libFuzzer's coverage (fuzzer-no-link) and under ASan/UBSan.
FUZZ_FLAGS = $(SAN_FLAGS) -fsanitize=fuzzer-no-link
$(B)/fuzz/%.o: %.c
	@mkdir -p $(@D)
	$(SAN_CC) $(WARN) $(FUZZ_FLAGS) $(CPPFLAGS) $(DEPFLAGS) -c -o $@ $<
$(B)/fuzz/libqshape.a: $(LIB_SRC:%.c=$(B)/fuzz/%.o)
	rm -f $@ && ar rcs $@ $^
$(B)/fuzz_%: $(B)/fuzz/tests/fuzz/fuzz_%.o $(B)/fuzz/libqshape.a
	$(SAN_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# libFuzzer target for the queue-file parser (fuzz_qf), and its seed
# writer.  fuzz_conf: the configuration loader; its seeds are the files in
# tests/data/conf and etc/qshape-milter.conf.
$(B)/mkseeds: $(B)/tests/fuzz/mkseeds.o $(B)/libqshape.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/tests/fuzz/%.o: CPPFLAGS += -Itests/unit

# fuzz_sender: the milter's sender-to-key path; and its seeds.
$(B)/mkseeds_sender: $(B)/tests/fuzz/mkseeds_sender.o
	$(CC) $(CFLAGS) -o $@ $^

# Stress test of the shm publication protocol (tests/stress/README),
# under ThreadSanitizer and under ASan/UBSan.
TSAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=thread
SHM_SRC	= $(wildcard src/shape/shm_*.c)
STRESS_SRC = tests/stress/shm_stress.c $(SHM_SRC) src/common/log.c
STRESS_DEP = $(STRESS_SRC) src/shape/shm.h src/shape/shm_int.h \
	  include/qshape/summary.h
$(B)/tsan/shm_stress: $(STRESS_DEP)
	@mkdir -p $(@D)
	$(SAN_CC) $(WARN) $(TSAN_FLAGS) $(CPPFLAGS) -o $@ $(STRESS_SRC) $(LDLIBS)
$(B)/asan/shm_stress: $(STRESS_DEP)
	@mkdir -p $(@D)
	$(SAN_CC) $(WARN) $(SAN_FLAGS) $(CPPFLAGS) -o $@ $(STRESS_SRC) $(LDLIBS)

deps:
	sh .ci/install-deps

check: deps
	$(MAKE) $(PAR) all $(UNIT) $(UNIT_ASAN) $(B)/asan/qshapectl $(B)/fuzz_qf \
	    $(B)/fuzz_sender \
	    $(B)/fuzz_conf \
	    $(B)/asan/qshape-milter \
	    $(B)/tsan/shm_stress $(B)/asan/shm_stress
	sh tests/run-all $(B)

test-unit: $(UNIT) $(UNIT_ASAN)
	sh tests/run-all $(B) unit

# The unit tests with the build's own flags, no sanitizers (debian/rules).
check-unit: $(UNIT)
	sh tests/run-all $(B) unit

# The mutation tier (tests/mutate/README), outside check: one-token
# mutants of the decision core, each against the fast tiers.
mutate: deps
	python3 tests/mutate/mutate.py $(MUTATE_FLAGS)

demo: deps all
	sh demo/run $(B)

bench: deps all
	sh bench/run $(B)
	sh bench/scand $(B)
	sh bench/milter $(B)

# The init files name the programs by path: /usr/local/sbin becomes SBINDIR.
INIT_SED = sed 's|/usr/local/sbin|$(SBINDIR)|g'

install: progs
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(SYSCONFDIR)/qshape-milter \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(INITDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(SBINDIR)/
	install -m 0644 docs/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 etc/qshape-milter.conf \
	    $(DESTDIR)$(SYSCONFDIR)/qshape-milter/qshape-milter.conf.example
	for u in init/*.service init/*.timer; do \
	    $(INIT_SED) $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u) && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done
	for s in init/*.init; do \
	    $(INIT_SED) $$s > $(DESTDIR)$(INITDIR)/$$(basename $$s .init) && \
	    chmod 0755 $(DESTDIR)$(INITDIR)/$$(basename $$s .init) || exit 1; \
	done
	@# On the live system: the group of the summary, the milter's user.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	    getent group qshape >/dev/null || groupadd --system qshape; \
	    getent passwd qshape-milter >/dev/null || useradd --system \
		--no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --gid qshape qshape-milter; \
	fi

# Removes exactly the files install writes; keeps the configuration, the
# user and the group (they may be in use: userdel qshape-milter, groupdel
# qshape by hand).
uninstall:
	rm -f $(PROGS:$(B)/%=$(DESTDIR)$(SBINDIR)/%)
	for m in docs/*.8; do rm -f $(DESTDIR)$(MANDIR)/man8/$${m#docs/}; done
	for m in docs/*.5; do rm -f $(DESTDIR)$(MANDIR)/man5/$${m#docs/}; done
	for m in docs/*.7; do rm -f $(DESTDIR)$(MANDIR)/man7/$${m#docs/}; done
	rm -f $(DESTDIR)$(SYSCONFDIR)/qshape-milter/qshape-milter.conf.example
	-rmdir $(DESTDIR)$(SYSCONFDIR)/qshape-milter 2>/dev/null
	for u in init/*.service init/*.timer; do \
	    rm -f $(DESTDIR)$(UNITDIR)/$${u#init/}; \
	done
	for s in init/*.init; do \
	    rm -f $(DESTDIR)$(INITDIR)/$$(basename $$s .init); \
	done

clean:
	rm -rf $(B)

.PHONY: all progs deps check test-unit check-unit mutate demo bench install uninstall clean
.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
