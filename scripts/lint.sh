#!/bin/sh
# scripts/lint.sh: cppcheck and clang-tidy over agent/*.c and tests/fuzz/*.c
# (make lint).  Prints one PASS/FAIL line per tool (tests/run counts them);
# findings go to build/lint/{cppcheck,clang-tidy}.log.  Checks kept and
# dropped, with reasons: .clang-tidy and mk/cppcheck.supp.  Needs the
# generated graphql.h (make lint builds it) and the Debian headers of
# mk/sysdeps.sh lint.  Usage: scripts/lint.sh [GEN-DIR] [JOBS]
set -u
gen=${1:-build/fuzz/gen}
jobs=${2:-2}
out=build/lint
mkdir -p "$out"
rc=0
srcs="$(ls agent/*.c tests/fuzz/fuzz_*.c)"
defs="-D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 -DINVSYNC_VERSION=\"lint\" \
-DINVSYNC_ARCH=\"x86_64\" -DINVSYNC_DEPS=\"lint\""

# cppcheck: warnings, portability, performance; every configuration of the
# #ifdefs in fuzz_shopify.c is one FUZZ_* macro
cppcheck --std=c11 --enable=warning,portability,performance \
    --inline-suppr --suppressions-list=mk/cppcheck.supp --error-exitcode=1 \
    -q -j "$jobs" -D_DEFAULT_SOURCE -DINVSYNC_VERSION='"lint"' \
    -DINVSYNC_ARCH='"x86_64"' -DINVSYNC_DEPS='"lint"' -DFUZZ_LEVELS_BY_ID \
    -Iagent -I"$gen" -Itests/fuzz $srcs >"$out/cppcheck.log" 2>&1
if [ $? -eq 0 ] && ! grep -q ': \(error\|warning\|portability\|performance\|style\)' "$out/cppcheck.log"; then
	echo "PASS lint cppcheck: $(echo "$srcs" | wc -l) files clean"
else
	echo "FAIL lint cppcheck: $(grep -c '^[a-z].*: [a-z]*:' "$out/cppcheck.log") findings (build/lint/cppcheck.log)"
	grep '^[a-z].*: [a-z]*:' "$out/cppcheck.log" | head -20 | sed 's/^/    /'
	rc=1
fi

# clang-tidy, JOBS files at a time; .clang-tidy holds the checks
echo "$srcs" | xargs -P "$jobs" -I{} sh -c '
	f=$1; shift
	extra=
	case $f in
	agent/shopify.c) extra="--checks=-clang-analyzer-core.CallAndMessage,-clang-analyzer-core.UndefinedBinaryOperatorResult" ;;
	tests/fuzz/fuzz_shopify.c) set -- "$@" -DFUZZ_LEVELS_BY_ID ;;
	esac
	clang-tidy-14 --quiet $extra "$f" -- -std=c11 "$@" 2>&1 |
	    grep -v "warnings\? generated\|^Suppressed\|^Use -header-filter\|NOLINT" \
	    >"'"$out"'/tidy.$(echo "$f" | tr / _).log"
' _ {} $defs -Iagent -I"$gen" -Itests/fuzz
cat "$out"/tidy.*.log >"$out/clang-tidy.log"
rm -f "$out"/tidy.*.log
n=$(grep -c ': \(warning\|error\):' "$out/clang-tidy.log")
if [ "$n" -eq 0 ]; then
	echo "PASS lint clang-tidy: $(echo "$srcs" | wc -l) files clean"
else
	echo "FAIL lint clang-tidy: $n findings (build/lint/clang-tidy.log)"
	grep ': \(warning\|error\):' "$out/clang-tidy.log" | head -20 |
	    sed 's/^/    /'
	rc=1
fi
exit $rc
