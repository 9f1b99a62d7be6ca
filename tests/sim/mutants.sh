#!/bin/sh
# tests/sim/mutants.sh: the write protocol broken on purpose, to show that
# the simulation catches it (issue 12), stock pools (issue 18) and the
# refusal of a duplicate key.  Each mutant is one file of agent/ (writes.c,
# run.c, sync.c or catalog.c) with one defect; mk/sim.mk builds a
# simulator around each (TESTDIR/sim-NAME) and `run` checks that some
# schedule fails on it.
# A mutation that no longer applies to its file is a failure too: the
# check must not go quiet.
#
#   sh tests/sim/mutants.sh list              the mutants' names
#   sh tests/sim/mutants.sh file NAME         the file of agent/ it breaks
#   sh tests/sim/mutants.sh apply NAME <in >out   that file with the defect
#   sh tests/sim/mutants.sh run TESTDIR       PASS/FAIL a line each
#
# perl (perl-base, Essential in Debian) does the substitutions.
set -u

MUTANTS="trust-unseen-key skip-sent-marker stale-as-applied snapshot-over-news
buffer-not-held spread-to-last member-leave-passed-on duplicate-reset-by-refresh"

# The file of agent/ that mutant $1 breaks.
file() {
	case $1 in
	snapshot-over-news|member-leave-passed-on)	echo run.c ;;
	buffer-not-held|spread-to-last)	echo sync.c ;;
	duplicate-reset-by-refresh)	echo catalog.c ;;
	*)			echo writes.c ;;
	esac
}

# The substitution (a perl s/// on the whole file) that makes mutant $1.
mutation() {
	case $1 in
	trust-unseen-key)
		# an unseen key taken as proof that the batch never ran
		echo 's/(\n\tif \(found == PROBE_IN_FLIGHT\) \{)/\n\tif (found == PROBE_UNSEEN)\n\t\treturn settle(e, p, AUDIT_DROPPED, "never reached the store");$1/' ;;
	skip-sent-marker)
		# say `sent` is journaled without journaling it
		echo 's/x->marked = (state_update\(x->e->st, mark_sent_txn, x\) == 0);/x->marked = 1 || $1;/' ;;
	stale-as-applied)
		# CHANGE_FROM_QUANTITY_STALE to a first send taken as applied
		echo 's/(case ADJUST_STALE:[^\n]*\n)/$1\t\treturn settle(e, p, AUDIT_APPLIED, "applied");\n/' ;;
	snapshot-over-news)
		# a reconciliation's snapshot applied over what the polls and
		# the writes learned since it began
		echo 's/\(sd->touched == x->snapshot \|\|/(0 ||/' ;;
	buffer-not-held)
		# a store's buffer holds nothing back: it shows the pool
		echo 's/(l->pool\[s\]\.held = )(held_of\(pool, p->buffer\[s\]\));/${1}0 * $2;/' ;;
	spread-to-last)
		# a change into a location group goes to its last member
		# (an increase, and what no member had of a decrease)
		echo 's/if \(first == SIZE_MAX\)\n\t\t\tfirst = m;/first = m;/' ;;
	member-leave-passed-on)
		# a group member read inactive or not stocked leaves the sum
		# as a sale of what it held, passed on to the other stores
		echo 's/\tif \(now != SIDE_OK\) \{/\tif (now != SIDE_OK \&\& 0) {/' ;;
	duplicate-reset-by-refresh)
		# a side refused as a duplicate key is linked again by any
		# read of its item, as the catalog did before: a refresh that
		# reads that item alone brings it back
		echo 's/(if \(sd->item != 0 && sd->status == SIDE_DUPLICATE)\)/$1 \&\& 0)/' ;;
	*)
		return 1 ;;
	esac
}

apply() {
	sub=$(mutation "$1") || { echo "no mutant $1" >&2; exit 2; }
	perl -0777 -pe "$sub or die \"mutant $1: its code is not in $(file "$1")\\n\""
}

run() {
	for m in $MUTANTS; do
		bin=$1/sim-$m
		if [ ! -x "$bin" ]; then
			echo "FAIL mutant $m: $bin not built"
			continue
		fi
		out=$("$bin" -x -n 20000)
		last=$(printf '%s\n' "$out" | tail -n 1)
		said=$(printf '%s\n' "$out" | sed -n 's/^FAIL seed [0-9]*: //p' |
		    head -n 1)
		case $last in
		caught:*)	echo "PASS mutant $m: ${last#caught: }: $said" ;;
		*)		echo "FAIL mutant $m: $last" ;;
		esac
	done
}

case ${1:-} in
list)	echo "$MUTANTS" ;;
file)	file "$2" ;;
apply)	apply "$2" ;;
run)	run "$2" ;;
*)	echo "usage: mutants.sh list | apply NAME | run TESTDIR" >&2; exit 2 ;;
esac
