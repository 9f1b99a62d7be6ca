#!/bin/sh
# mk/check-logs.sh: a test suite (PASS/FAIL lines, tests/run) that fails when
# a tool left a report in DIR: sanitizer logs (ASan/UBSan log_path files) or
# valgrind logs (tests/valgrind-wrap.sh).  Usage: check-logs.sh NAME DIR
set -u
name=$1 dir=$2
[ -d "$dir" ] || { echo "FAIL $name: no log directory $dir"; exit 1; }
bad=0 n=0
for f in "$dir"/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	case $(basename "$f") in
	vg.*)
		# valgrind --quiet (tests/valgrind-wrap.sh): a log holds text
		# only when memcheck reported an error or a leak; a process
		# killed with SIGKILL keeps what it reported before
		[ -s "$f" ] || continue
		echo "FAIL $name: $f: $(grep -c '^==[0-9]*== [A-Z0-9]' "$f") report lines"
		grep -m4 -E '^==[0-9]+== +(at|by) |^==[0-9]+== [A-Z0-9]' "$f" |
		    sed 's/^/    /'
		bad=1
		;;
	*)
		# a sanitizer log: only reports count (not statistics)
		grep -qE 'ERROR: |runtime error' "$f" || continue
		echo "FAIL $name: $f: $(grep -m1 -E 'ERROR|runtime error' "$f" | cut -c1-200)"
		bad=1
		;;
	esac
done
[ "$bad" -eq 0 ] && echo "PASS $name: no reports in $dir ($n log files)"
exit "$bad"
