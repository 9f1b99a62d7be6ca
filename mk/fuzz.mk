# mk/fuzz.mk: libFuzzer targets for every parser (tests/fuzz/), built with
# Debian's clang against the system headers (glibc; jsmn.h from libjsmn-dev,
# curl/curl.h from libcurl4-openssl-dev for http.c).  Included by the top
# Makefile; nothing here touches the musl build.
#
#   make fuzz                 each target FUZZ_SECONDS (300) s, FUZZ_JOBS (2)
#                             at a time; new inputs go to build/fuzz/work/
#   make fuzz-ci              each target 30 s: the bounded pass of .ci/run
#   make fuzz-build           the binaries only (build/fuzz/fuzz_*)
#   make fuzz FUZZ_TARGETS="json conf"   a subset
#
# A crash leaves its input in build/fuzz/crashes/; add it to
# tests/fuzz/corpus/TARGET/ (it then replays on every run) and to the unit
# fixtures once fixed.

FUZZ_CC		?= clang
FUZZ_DIR	= build/fuzz
FUZZ_SAN	= -fsanitize=address,undefined -fno-sanitize-recover=all \
		  -fno-omit-frame-pointer
# glibc declares strptime(3) only with _XOPEN_SOURCE (musl: _DEFAULT_SOURCE)
FUZZ_CFLAGS	= -std=c11 -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 -g -O1 $(WARN) \
		  $(FUZZ_SAN) -Iagent -I$(FUZZ_DIR)/gen -Itests/fuzz \
		  -DINVSYNC_VERSION='"fuzz"' -DINVSYNC_ARCH='"x86_64"'
FUZZ_SECONDS	?= 300
FUZZ_CI_SECONDS	?= 30
FUZZ_JOBS	?= 2

# target name -> what it links beyond log.o util.o clock.o
FUZZ_SHOPIFY	= check locations catalog levels levels_by_id adjust token count
FUZZ_TARGETS	?= json jw $(FUZZ_SHOPIFY) bulk conf duration retry_after
FUZZ_ALL	= json jw $(FUZZ_SHOPIFY) bulk conf duration retry_after
FUZZ_BINS	= $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_ALL))
FUZZ_BASE	= $(FUZZ_DIR)/obj/log.o $(FUZZ_DIR)/obj/util.o $(FUZZ_DIR)/obj/clock.o
FUZZ_JSON	= $(FUZZ_BASE) $(FUZZ_DIR)/obj/json.o
FUZZ_SHOP	= $(FUZZ_JSON) $(FUZZ_DIR)/obj/shopify.o \
		  $(FUZZ_DIR)/obj/graphql.o
FUZZ_STAMP	= $(FUZZ_DIR)/sysdeps.stamp
FUZZ_GRAPHQL	= $(wildcard agent/graphql/*.graphql)
FUZZ_HDRS	= agent/*.h tests/fuzz/fuzz.h $(FUZZ_DIR)/gen/graphql.h

.PHONY: fuzz fuzz-ci fuzz-build

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@bash tests/fuzz/run.sh -t $(FUZZ_SECONDS) -j $(FUZZ_JOBS) \
	    $(FUZZ_TARGETS)

fuzz-ci: $(FUZZ_BINS)
	@bash tests/fuzz/run.sh -t $(FUZZ_CI_SECONDS) -j $(FUZZ_JOBS) -c \
	    $(FUZZ_TARGETS)

# The system packages the glibc builds need (fuzz, sanitizers, valgrind).
$(FUZZ_STAMP): mk/sysdeps.sh | $(FUZZ_DIR)/obj
	sh mk/sysdeps.sh clang
	touch $@

$(FUZZ_DIR)/obj $(FUZZ_DIR)/gen:
	mkdir -p $@

$(FUZZ_DIR)/gen/graphql.c: scripts/embed-graphql.sh $(FUZZ_GRAPHQL) | \
    $(FUZZ_DIR)/gen
	sh scripts/embed-graphql.sh $@ $(FUZZ_GRAPHQL)
$(FUZZ_DIR)/gen/graphql.h: $(FUZZ_DIR)/gen/graphql.c

$(FUZZ_DIR)/obj/graphql.o: $(FUZZ_DIR)/gen/graphql.c $(FUZZ_STAMP)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/obj/%.o: agent/%.c $(FUZZ_HDRS) $(FUZZ_STAMP)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/fuzz_json $(FUZZ_DIR)/fuzz_jw: $(FUZZ_DIR)/fuzz_%: \
    tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(FUZZ_JSON)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_JSON)

$(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_SHOPIFY)): $(FUZZ_DIR)/fuzz_%: \
    tests/fuzz/fuzz_shopify.c $(FUZZ_HDRS) $(FUZZ_SHOP)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
	    -DFUZZ_$(shell echo $* | tr a-z A-Z) -o $@ $< $(FUZZ_SHOP)

$(FUZZ_DIR)/fuzz_bulk: tests/fuzz/fuzz_bulk.c $(FUZZ_HDRS) $(FUZZ_SHOP) \
    $(FUZZ_DIR)/obj/jsonl.o
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_SHOP) \
	    $(FUZZ_DIR)/obj/jsonl.o

$(FUZZ_DIR)/fuzz_conf $(FUZZ_DIR)/fuzz_duration: $(FUZZ_DIR)/fuzz_%: \
    tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(FUZZ_BASE) $(FUZZ_DIR)/obj/conf.o
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_BASE) $(FUZZ_DIR)/obj/conf.o

$(FUZZ_DIR)/fuzz_retry_after: tests/fuzz/fuzz_retry_after.c $(FUZZ_HDRS) \
    $(FUZZ_BASE) $(FUZZ_DIR)/obj/http.o
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_BASE) $(FUZZ_DIR)/obj/http.o -lcurl
