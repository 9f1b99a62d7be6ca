#!/usr/bin/env bash
# tests/fuzz/run.sh: runs the libFuzzer targets of tests/fuzz/ for a bounded
# time each and prints one PASS/FAIL line per target (tests/run counts them):
#   PASS fuzz_json: 1234567 execs in 30 s (41152/s), corpus 71+12, cov 913
# Usage (from the repository root, after make fuzz-build):
#   tests/fuzz/run.sh [-t SECONDS] [-j JOBS] [-c] [TARGET...]
#   -t  seconds per target (default 30); -j targets run at once (default 2)
#   -c  CI mode: a fresh scratch corpus, so runs are comparable and nothing
#       accumulates; otherwise new inputs are kept in build/fuzz/work/TARGET
# Seeds (read only) are tests/fuzz/corpus/TARGET; each is replayed first, so
# a crash-* file kept there is a regression test.  A crash, leak, timeout
# (10 s) or a run over 2 GB RSS fails the target and leaves the input in
# build/fuzz/crashes/ and the log in build/fuzz/logs/TARGET.log.
set -u

secs=30 jobs=2 ci=0
while getopts t:j:c o; do
	case $o in
	t) secs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	c) ci=1 ;;
	*) echo "usage: run.sh [-t SECONDS] [-j JOBS] [-c] [TARGET...]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
	set -- $(cd tests/fuzz/corpus && ls)
fi
# absolute: fuzz_conf works in a scratch directory
root=$PWD fz=$PWD/build/fuzz
mkdir -p "$fz/logs" "$fz/crashes" "$fz/work"

# one target; prints its line with a single write
one() {
	local t=$1 bin=$fz/fuzz_$1 seeds=$root/tests/fuzz/corpus/$1
	local work=$fz/work/$1 log=$fz/logs/$1.log dict=() rc execs cov
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz_$t: build/fuzz/fuzz_$t not built (make fuzz-build)"
		return 1
	fi
	[ "$ci" -eq 1 ] && rm -rf "$work"
	mkdir -p "$work" "$seeds"
	case $t in
	conf|duration) dict=(-dict=$root/tests/fuzz/conf.dict) ;;
	retry_after|jw) ;;
	*) dict=(-dict=$root/tests/fuzz/json.dict) ;;
	esac
	# -close_fd_mask=3: the target's own stdout/stderr (log lines) are
	# dropped; libFuzzer and sanitizer reports still reach the log
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -close_fd_mask=3 "${dict[@]}" \
	    -artifact_prefix="$fz/crashes/$t-" "$work" "$seeds" \
	    >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
		printf 'PASS fuzz_%s: %s execs in %s s (%s/s), corpus %s+%s, cov %s\n' \
		    "$t" "$execs" "$secs" "$((execs / secs))" \
		    "$(ls "$seeds" | wc -l)" "$(ls "$work" | wc -l)" "${cov:-?}"
		return 0
	fi
	printf 'FAIL fuzz_%s: exit %s: %s (artifact: %s; log %s)\n' "$t" "$rc" \
	    "$(grep -m1 -E 'ERROR: |runtime error:|contract broken' "$log" |
	       cut -c1-160)" \
	    "$(sed -n 's/.*Test unit written to //p' "$log" | head -1)" "$log"
	return 1
}
export -f one
export root fz secs ci

printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'one "$1"' _ {}
