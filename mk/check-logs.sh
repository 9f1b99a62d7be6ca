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
		# valgrind: errors, definite or indirect leaks, or a run that
		# ended without a summary other than by SIGKILL
		errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f")
		def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f")
		ind=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$f")
		if [ -z "$errs" ]; then
			if grep -qE '== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and dest)' "$f"; then
				echo "FAIL $name: $f: errors before the process was killed"
				bad=1
			fi
			continue
		fi
		if [ "$errs" != 0 ] || [ "${def:-0}" != 0 ] ||
		    [ "${ind:-0}" != 0 ]; then
			echo "FAIL $name: $f: $errs errors, definitely lost ${def:-0}, indirectly lost ${ind:-0}"
			grep -m3 -E '== (Invalid|Conditional|Use of|Syscall|Mismatched|Source|[0-9,]+ bytes in)' "$f" | sed 's/^/    /'
			bad=1
		fi
		;;
	*)
		# a sanitizer log file exists only when something was reported
		echo "FAIL $name: $f: $(grep -m1 -E 'ERROR|runtime error' "$f" | cut -c1-200)"
		bad=1
		;;
	esac
done
[ "$bad" -eq 0 ] && echo "PASS $name: no reports in $dir ($n log files)"
exit "$bad"
