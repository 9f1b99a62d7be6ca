#!/bin/sh
# tests/fuzz/mkcorpus.sh: (re)builds the seed corpora in tests/fuzz/corpus/
# from the unit fixtures (tests/unit/fixtures/*.json), the config and
# duration tables of tests/unit/test_conf.c, the example config and a few
# hand-written seeds.  Run from the repository root; keeps files already
# there (crash regressions are named crash-* and must stay).  Needs cc.
set -eu

fx=tests/unit/fixtures
c=tests/fuzz/corpus
for t in json jw check locations catalog levels levels_by_id adjust token \
    count bulk conf duration retry_after; do
	mkdir -p "$c/$t"
done
for f in "$fx"/*.json; do
	cp "$f" "$c/json/"
done
cp "$fx"/check_*.json "$c/check/"
cp "$fx"/locations_*.json "$c/locations/"
cp "$fx"/catalog_*.json "$c/catalog/"
cp "$fx"/levels_*.json "$c/levels/"
cp "$fx"/byid_*.json "$c/levels_by_id/"
cp "$fx"/adjust_*.json "$c/adjust/"
cp "$fx"/token_*.json "$c/token/"
cp "$fx"/count_*.json "$c/count/"
cp "$fx"/bulkrun_*.json "$fx"/bulkstatus_*.json "$fx"/bulkvariant_*.json \
    "$fx"/bulklevel_*.json "$c/bulk/"
# each parser also sees the envelope cases and hostile syntax
for t in check locations catalog levels_by_id adjust token count; do
	cp "$fx"/levels_throttled.json "$fx"/levels_internal_error.json \
	    "$fx"/hostile_duplicate_key.json "$c/$t/"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -std=c11 -D_DEFAULT_SOURCE -Iagent -Itests/unit -o "$tmp/seeds_conf" \
    tests/fuzz/seeds_conf.c agent/conf.c agent/log.c
"$tmp/seeds_conf" "$c/conf" "$c/duration"
cp conf/invsync.conf.example "$c/conf/example"

# writer programs: opcodes of fuzz_jw.c (0 { 1 } 2 [ 3 ] 4 key 5 string
# 6 string_n 7 int64 8 bool 9 null 10 {key)
printf '\000\004\001k\002\005\002ab\006\003a\000b\007\377\377\377\377\377\377\377\177\010\001\011\003\001' >"$c/jw/nested"
printf '\000\004\002\303\251\005\004\360\237\230\200\001' >"$c/jw/utf8"
printf '\000\004\001q\005\002"\\\004\001c\005\002\n\037\001' >"$c/jw/escapes"
printf '\012\012\012\012\012\011\001\001\001\001\001' >"$c/jw/deep"

r=$c/retry_after
printf '120' >"$r/delta"
printf ' 0 ' >"$r/zero"
printf '86400' >"$r/day"
printf '86401' >"$r/over"
printf 'Sun, 06 Nov 1994 08:49:37 GMT' >"$r/past"
printf 'Wed, 21 Oct 2099 07:28:00 GMT' >"$r/future"
printf '@\000\000\000\000\000\000\000\000Thu, 01 Jan 1970 00:00:01 GMT' \
    >"$r/now0"

# bulk: the seeds in corpus/bulk (a catalog and a levels JSONL file, a run
# and a status reply) are hand-written and kept as they are
