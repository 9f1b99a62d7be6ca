# invsync: keeps Shopify stock in step across stores.
#
#   make                    build/invsync (fully static, x86_64, musl)
#   make ARCH=aarch64       build/aarch64/invsync (also armhf, armel)
#   make test               every test suite; ends with "N passed, N failed, N skipped"
#   make cross-test ARCH=.. the ARCH binary under qemu-user
#   make demo               two simulated stores kept in step, live
#   make demo-pools         ... with a location group and a safety buffer
#
# Third-party sources (curl, BearSSL, LMDB) come from Debian source packages,
# verified against deps/SHA256SUMS and built once into build/ARCH (deps/).

VERSION	= 0.1.0
PREFIX	?= /usr/local
ARCH	?= x86_64

.DEFAULT_GOAL := all
include deps/deps.mk
# the pinned source package versions, for `invsync version`
include deps/versions
# glibc builds (SANITIZE=1: ASan+UBSan; GLIBC=1: plain, for valgrind),
# fuzzing, lint, valgrind: mk/*.mk
ifeq ($(SANITIZE),1)
include mk/sanitize.mk
else ifeq ($(GLIBC),1)
include mk/sanitize.mk
endif
include mk/fuzz.mk mk/lint.mk mk/valgrind.mk

OPT	?= -Os
WARN	= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	  -Wmissing-declarations -Wsign-compare -Wpointer-arith
CFLAGS	?= $(OPT) -g
# _XOPEN_SOURCE: glibc declares strptime(3) only with it (musl: _DEFAULT_SOURCE)
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 $(WARN) -ffunction-sections \
	  -fdata-sections $(CFLAGS) -Iagent -I$(GEN) $(DEPS_CFLAGS) \
	  -DINVSYNC_VERSION='"$(VERSION)"' -DINVSYNC_ARCH='"$(ARCH)"' \
	  -DINVSYNC_DEPS='"curl $(CURL_VERSION), bearssl $(BEARSSL_VERSION), lmdb $(LMDB_VERSION), musl $(MUSL_VERSION)"'
LDFLAGS	?=
ALL_LDFLAGS = -static -Wl,--gc-sections $(LDFLAGS)

ifeq ($(ARCH),x86_64)
INVSYNC_BIN = build/invsync
else
INVSYNC_BIN = build/$(ARCH)/invsync
endif
OBJDIR	= build/$(ARCH)/obj
GEN	= build/$(ARCH)/gen
TESTDIR	= build/$(ARCH)/tests

# One module per concern (docs/design.md §7); main.o stays out of the test links.
LIB_OBJS = $(OBJDIR)/log.o $(OBJDIR)/util.o $(OBJDIR)/clock.o $(OBJDIR)/conf.o \
	   $(OBJDIR)/json.o $(OBJDIR)/jsonl.o $(OBJDIR)/shopify.o \
	   $(OBJDIR)/graphql.o \
	   $(OBJDIR)/http.o $(OBJDIR)/client.o $(OBJDIR)/client_str.o \
	   $(OBJDIR)/state.o \
	   $(OBJDIR)/sync.o $(OBJDIR)/timing.o $(OBJDIR)/meta.o \
	   $(OBJDIR)/linkloc.o $(OBJDIR)/groupcache.o $(OBJDIR)/run.o \
	   $(OBJDIR)/catalog.o \
	   $(OBJDIR)/bulk.o \
	   $(OBJDIR)/writes.o $(OBJDIR)/engine.o $(OBJDIR)/report.o \
	   $(OBJDIR)/explain.o $(OBJDIR)/check.o $(OBJDIR)/notify.o \
	   $(OBJDIR)/metrics.o $(OBJDIR)/alert.o $(OBJDIR)/alert_send.o \
	   $(OBJDIR)/init.o $(OBJDIR)/stage.o $(OBJDIR)/tty.o
OBJS	= $(OBJDIR)/main.o $(LIB_OBJS)

GRAPHQL	= $(wildcard agent/graphql/*.graphql)
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(patsubst tests/unit/%.c,$(TESTDIR)/%,$(UNIT_SRCS))

.PHONY: all test unit deps cross-test demo demo-pools clean distclean install

all: $(INVSYNC_BIN)

$(INVSYNC_BIN): $(OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(OBJS) $(DEPS_LIBS)

$(OBJDIR)/%.o: agent/%.c agent/*.h $(GEN)/graphql.h $(DEPS_STAMP) | $(OBJDIR)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OBJDIR)/graphql.o: $(GEN)/graphql.c $(DEPS_STAMP) | $(OBJDIR)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The script writes graphql.h beside graphql.c.
$(GEN)/graphql.c: scripts/embed-graphql.sh $(GRAPHQL) | $(GEN)
	sh scripts/embed-graphql.sh $@ $(GRAPHQL)
$(GEN)/graphql.h: $(GEN)/graphql.c

$(OBJDIR) $(GEN) $(TESTDIR):
	mkdir -p $@

# Unit-test drivers link every module but main.o (and, under qemu, the
# robust-mutex shim that qemu-user needs for LMDB: docs/build.md §7.3).
$(TESTDIR)/%: tests/unit/%.c tests/unit/check.h $(LIB_OBJS) | $(TESTDIR)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< \
	    $(QEMU_SHIM_SRC) $(QEMU_SHIM_LDFLAGS) $(LIB_OBJS) $(DEPS_LIBS)

unit: $(UNIT_BINS)

# The tests' Python: Debian's own interpreter with the pinned graphql-core
# unpacked in build/py/ (deps/testdeps.sh), never another Python's packages.
PYTHON	= /usr/bin/python3
export PYTHONPATH = $(CURDIR)/build/py/usr/lib/python3/dist-packages
PY_STAMP = build/py/stamp
$(PY_STAMP): deps/testdeps.sh deps/test-versions deps/test-SHA256SUMS
	deps/testdeps.sh

# The Debian packages a goal needs are installed first, by the deps/deps.mk
# stamps and here (scripts/need-packages.sh; not root: it says what to run).
NEED_PACKAGES = deps/packages.txt $(if $(filter test,$(MAKECMDGOALS)),tests/packages.txt)

# The suites; each prints PASS/FAIL/SKIP lines that tests/run counts.
SUITES = $(foreach t,$(UNIT_BINS),"$(QEMU) $(t)") \
	 "$(TESTDIR)/sim -l tests/sim/regressions.txt" \
	 "$(TESTDIR)/sim -n 2000" \
	 "sh tests/sim/mutants.sh run $(TESTDIR)" \
	 "$(PYTHON) tests/graphql/validate.py" \
	 "$(PYTHON) tests/fakeshop/test_fakeshop.py" \
	 "$(PYTHON) tests/e2e/test_client.py --bin $(INVSYNC_BIN)" \
	 "$(PYTHON) tests/e2e/test_demo.py --bin $(INVSYNC_BIN)" \
	 "$(PYTHON) tests/e2e/test_e2e.py --bin $(INVSYNC_BIN)" \
	 "$(PYTHON) tests/e2e/test_ready.py --bin $(INVSYNC_BIN)" \
	 "$(PYTHON) tests/e2e/test_throughput.py --bin $(INVSYNC_BIN)" \
	 "$(PYTHON) tests/e2e/test_pools.py --bin $(INVSYNC_BIN)" \
	 "$(PYTHON) tests/e2e/test_catalog_clock.py --bin $(INVSYNC_BIN)" \
	 "$(PYTHON) tests/e2e/test_explain.py --bin $(INVSYNC_BIN)" \
	 "$(PYTHON) tests/e2e/test_metrics.py --bin $(INVSYNC_BIN)" \
	 "$(PYTHON) tests/e2e/test_alerts.py --bin $(INVSYNC_BIN)" \
	 "$(PYTHON) tests/e2e/test_init.py --bin $(INVSYNC_BIN)" \
	 "bash tests/install/test_install.sh"

test: $(INVSYNC_BIN) $(UNIT_BINS) $(TESTDIR)/sim $(PY_STAMP)
	@sh scripts/need-packages.sh deps/packages.txt tests/packages.txt
	@bash tests/run $(SUITES)

demo: $(INVSYNC_BIN) $(PY_STAMP)
	@sh scripts/need-packages.sh deps/packages.txt
	@$(PYTHON) tests/e2e/demo.py --bin $(INVSYNC_BIN)

demo-pools: $(INVSYNC_BIN) $(PY_STAMP)
	@sh scripts/need-packages.sh deps/packages.txt
	@$(PYTHON) tests/e2e/demo.py --bin $(INVSYNC_BIN) --pools

# A benchmark, not a test (docs/design.md §9): prints a table, writes bench/results.md.
.PHONY: bench
bench: $(INVSYNC_BIN) $(PY_STAMP)
	@$(PYTHON) bench/bench.py --bin $(INVSYNC_BIN)

# The binary and the man pages only; the service, its user, config and
# state directory come from install.sh (which also upgrades and removes).
install: $(INVSYNC_BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(INVSYNC_BIN) $(DESTDIR)$(PREFIX)/bin/invsync
	install -m 644 man/invsync.8 $(DESTDIR)$(PREFIX)/share/man/man8/invsync.8
	install -m 644 man/invsync.conf.5 \
	    $(DESTDIR)$(PREFIX)/share/man/man5/invsync.conf.5

# dist/invsync-$(VERSION).tar.gz: every ARCH, stripped (scripts/dist.sh).
.PHONY: dist
dist:
	sh scripts/dist.sh $(VERSION)

clean:
	rm -rf build/$(ARCH)/obj build/$(ARCH)/gen build/$(ARCH)/tests \
	    build/invsync build/test-logs

# Also removes the dependency cache (sources and built libraries).
distclean:
	rm -rf build

# make sim: the deterministic simulation (after the object lists it uses)
include mk/sim.mk
