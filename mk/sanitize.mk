# mk/sanitize.mk: glibc builds of the whole program and its tests, for the
# tools that cannot work on a static musl binary.  Included by the top
# Makefile right after deps/deps.mk when asked for:
#
#   make test SANITIZE=1    ASan + UBSan (clang), build/x86_64-asan/:
#                           unit tests and the end-to-end suite against
#                           build/x86_64-asan/invsync; any sanitizer report
#                           (they go to build/x86_64-asan/san-logs/) fails
#   make GLIBC=1 ...        the same without sanitizers (gcc), in
#                           build/x86_64-glibc/: what make valgrind runs
#
# Libraries are Debian's (mk/sysdeps.sh checks they are installed):
# libcurl4-openssl-dev (http.c is plain libcurl API), liblmdb-dev, and
# libjsmn-dev (the same jsmn.h the musl sysroot copies).  Everything is
# "override" so the top Makefile's later plain assignments keep these.

ifneq ($(ARCH),x86_64)
$(error SANITIZE=1 and GLIBC=1 build for the host only (ARCH=x86_64))
endif

ifeq ($(SANITIZE),1)
GLIBC_FLAVOUR	:= asan
SAN_CC		?= clang
SAN_FLAGS	?= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
SAN_OPT		?= -O1 -g
GLIBC_TOOLS	:= clang
else
GLIBC_FLAVOUR	:= glibc
SAN_CC		?= gcc
SAN_FLAGS	?=
SAN_OPT		?= -O1 -g
GLIBC_TOOLS	:= gcc
endif

GLIBC_DIR	:= build/$(ARCH)-$(GLIBC_FLAVOUR)
override CC		:= $(SAN_CC)
# glibc declares strptime(3) only with _XOPEN_SOURCE (musl: _DEFAULT_SOURCE)
override CFLAGS		:= $(SAN_OPT) $(SAN_FLAGS) -D_XOPEN_SOURCE=700
override LDFLAGS	:= $(SAN_FLAGS)
override ALL_LDFLAGS	= -Wl,--gc-sections $(LDFLAGS)
override DEPS_CFLAGS	:=
override DEPS_LIBS	:= -lcurl -llmdb -pthread
override DEPS_STAMP	:= $(GLIBC_DIR)/sysdeps.stamp
override INVSYNC_BIN	:= $(GLIBC_DIR)/invsync
override OBJDIR		:= $(GLIBC_DIR)/obj
override GEN		:= $(GLIBC_DIR)/gen
override TESTDIR	:= $(GLIBC_DIR)/tests

$(DEPS_STAMP): mk/sysdeps.sh
	@mkdir -p $(@D)
	sh mk/sysdeps.sh $(GLIBC_TOOLS)
	touch $@

ifeq ($(SANITIZE),1)
# Reports go to files as well as failing the process: the end-to-end suite
# may kill or restart the agent and not look at its exit status.
SAN_LOGS	:= $(GLIBC_DIR)/san-logs
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=0:exitcode=86:log_path=$(CURDIR)/$(SAN_LOGS)/asan
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1:log_path=$(CURDIR)/$(SAN_LOGS)/ubsan
export LSAN_OPTIONS ?= exitcode=86:print_suppressions=0:suppressions=$(CURDIR)/mk/lsan.supp

# One more suite after the others: no sanitizer report was written.
test: SUITES += "sh mk/check-logs.sh sanitizers $(SAN_LOGS)"
test: san-logs-clean
.PHONY: san-logs-clean
san-logs-clean:
	@rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS)
endif
