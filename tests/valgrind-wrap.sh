#!/bin/sh
# tests/valgrind-wrap.sh: runs a program under valgrind memcheck; a drop-in
# for the agent binary, e.g.
#   python3 tests/e2e/test_e2e.py --bin tests/valgrind-wrap.sh
# runs every agent process of the end-to-end suite under memcheck.
#   VALGRIND_BIN   the program (default: build/x86_64-glibc/invsync, the
#                  glibc build of make GLIBC=1; valgrind cannot follow
#                  malloc in the static musl binary)
#   VALGRIND_LOGS  where each process writes vg.PID (default
#                  build/x86_64-glibc/vg-logs); mk/check-logs.sh reads them
# The exit status is the program's, or 87 when memcheck found an error or a
# definite/indirect leak at exit (the logs catch what a suite ignores, and
# errors before a kill -9).  Paths are made absolute: callers may chdir.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${VALGRIND_BIN:-$root/build/x86_64-glibc/invsync}
logs=${VALGRIND_LOGS:-$root/build/x86_64-glibc/vg-logs}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
case $logs in /*) ;; *) logs=$root/$logs ;; esac
mkdir -p "$logs"
exec valgrind --quiet --error-exitcode=87 --leak-check=full \
    --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect \
    --suppressions="$root/mk/valgrind.supp" \
    --log-file="$logs/vg.%p" "$bin" "$@"
