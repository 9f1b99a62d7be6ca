# mk/valgrind.mk: make valgrind: the unit tests and the end-to-end suite's
# agent (every invsync process it starts) under valgrind memcheck, against
# the glibc build (make GLIBC=1, build/x86_64-glibc/).  Fails on any
# memcheck error or definite/indirect leak (mk/check-logs.sh reads the
# per-process logs that tests/valgrind-wrap.sh writes).
#
#   make valgrind                            everything (slow: the e2e suite
#                                            under memcheck)
#   make valgrind VALGRIND_E2E=--only=a,b    a subset of the e2e tests
#   make valgrind VALGRIND_E2E=none          unit tests only

VG_DIR		= build/x86_64-glibc
VG_LOGS		= $(VG_DIR)/vg-logs
VALGRIND_E2E	?=
VG_UNIT		= $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
VG_SUITES	= $(foreach t,$(VG_UNIT), \
		  "VALGRIND_BIN=$(VG_DIR)/tests/$(t) tests/valgrind-wrap.sh") \
		  $(if $(filter none,$(VALGRIND_E2E)),, \
		  "$(PYTHON) tests/e2e/test_e2e.py --bin tests/valgrind-wrap.sh $(VALGRIND_E2E)") \
		  "sh mk/check-logs.sh valgrind $(VG_LOGS)"

.PHONY: valgrind
valgrind:
	@sh mk/sysdeps.sh valgrind
	$(MAKE) GLIBC=1 all unit $(PY_STAMP)
	@rm -rf $(VG_LOGS) && mkdir -p $(VG_LOGS)
	@bash tests/run $(VG_SUITES)
