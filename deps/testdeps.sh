#!/bin/sh
# deps/testdeps.sh: the packages the tests need from a newer Debian, pinned:
# graphql-core, and node_exporter and promtool for the metrics file.
# Downloads the .deb files of deps/test-versions (TEST_DEBS, from the suite
# TEST_SUITE) into build/src/ through a private apt directory (build/apt-test/)
# whose sources are the system's own archive with that suite
# (deps/apt-sources.sh --suite), checks them against deps/test-SHA256SUMS and
# unpacks them into build/py/.  The tests then run Debian's own interpreter,
# /usr/bin/python3, with PYTHONPATH=build/py/usr/lib/python3/dist-packages
# (the top Makefile's PYTHON and PYTHONPATH); nothing is installed into the
# system, and no package of another Python is ever used.
#
# Contract: on exit 0 build/py/stamp exists, every pinned file is in
# build/src/ with its sum, and /usr/bin/python3 imports graphql >= 3.2 from
# build/py/.  Pinned files already cached are not fetched again (no network);
# a file with a wrong sum, or one the pins do not name, is an error (exit 1).
#
# Usage: deps/testdeps.sh            fetch, verify, unpack
#        deps/testdeps.sh --pin      fetch and (re)write deps/test-SHA256SUMS
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
deps=$top/deps
. "$deps/test-versions"
sums=$deps/test-SHA256SUMS
srcdir=$top/build/src
aptdir=$top/build/apt-test
pydir=$top/build/py
sitedir=$pydir/usr/lib/python3/dist-packages
python=/usr/bin/python3
pin=no
[ "${1-}" = --pin ] && pin=yes

die() { echo "testdeps.sh: $*" >&2; exit 1; }

# all_cached: true when every pinned file is present with its pinned sum.
all_cached() {
	[ -s "$sums" ] || return 1
	(cd "$srcdir" 2>/dev/null && sha256sum --quiet --strict -c "$sums") \
	    >/dev/null 2>&1
}

# fresh: true when build/py/ was unpacked after every input last changed.
fresh() {
	[ -f "$pydir/stamp" ] && [ -z "$(find "$sums" "$deps/test-versions" \
	    "$deps/testdeps.sh" -newer "$pydir/stamp" 2>/dev/null)" ]
}

if [ $pin = no ] && fresh; then
	exit 0
fi
mkdir -p "$top/build"
[ -f "$top/build/.gitignore" ] || echo '*' >"$top/build/.gitignore"
# deps/fetch.sh takes the same lock: both write build/src/
exec 9>"$top/build/fetch.lock"
flock 9
if [ $pin = no ] && fresh; then
	exit 0
fi
[ $pin = yes ] || [ -s "$sums" ] || die "$sums is missing (run with --pin once)"

if [ $pin = yes ] || ! all_cached; then
	mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" \
	    "$srcdir"
	"$deps/apt-sources.sh" --suite "$TEST_SUITE" \
	    >"$aptdir/sources.sources.new" || die "no apt sources"
	mv "$aptdir/sources.sources.new" "$aptdir/sources.sources"
	native=$(dpkg --print-architecture)
	set -- -o Dir::Etc::SourceList="$aptdir/sources.sources" \
	    -o Dir::Etc::SourceParts=/dev/null \
	    -o Dir::State::Lists="$aptdir/lists" \
	    -o Dir::Cache="$aptdir/cache" \
	    -o APT::Architecture="$native" \
	    -o APT::Architectures::="$native" \
	    -o APT::Sandbox::User="$(id -un)" -q
	echo "testdeps.sh: updating the private $TEST_SUITE package list in build/apt-test/" >&2
	apt-get "$@" update >&2 || die "apt-get update (private lists) failed"
	stage=$(mktemp -d "$top/build/testdeps.XXXXXX")
	trap 'rm -rf "$stage"' EXIT
	# shellcheck disable=SC2086
	(cd "$stage" && apt-get "$@" download $TEST_DEBS) >&2 ||
	    die "apt-get download failed for $TEST_DEBS (still in $TEST_SUITE? see deps/README.md)"
	cd "$stage"
	if [ $pin = yes ]; then
		sha256sum -- * | LC_ALL=C sort -k 2 >"$sums"
		echo "testdeps.sh: wrote $sums:" >&2
		cat "$sums" >&2
	else
		for f in *; do
			want=$(awk -v f="$f" '$2 == f { print $1 }' "$sums")
			[ -n "$want" ] ||
			    die "downloaded file $f is not pinned in deps/test-SHA256SUMS"
			got=$(sha256sum -- "$f" | cut -d ' ' -f 1)
			[ "$want" = "$got" ] ||
			    die "SHA-256 MISMATCH for $f: pinned $want, got $got"
		done
	fi
	mv -f -- * "$srcdir/"
	cd "$top"
fi
all_cached ||
    die "files pinned in deps/test-SHA256SUMS are missing or differ in build/src/"

rm -rf "$pydir"
mkdir -p "$pydir"
for f in $(awk '{ print $2 }' "$sums"); do
	dpkg-deb -x "$srcdir/$f" "$pydir" || die "dpkg-deb -x $f failed"
done
[ -x "$python" ] || die "$python is missing (Debian package python3)"
got=$(cd / && PYTHONPATH=$sitedir "$python" -c '
import graphql, sys
sys.stdout.write(graphql.__file__ + " " + graphql.__version__)') ||
    die "$python cannot import graphql from $sitedir"
case $got in
"$sitedir"/*" 3.2."*) ;;
*) die "$python imports graphql from the wrong place or version: $got" ;;
esac
for tool in prometheus-node-exporter promtool; do
	"$pydir/usr/bin/$tool" --version >/dev/null 2>&1 ||
	    die "build/py/usr/bin/$tool does not run here"
done
touch "$pydir/stamp"
echo "testdeps.sh: graphql-core ${got##* }, node_exporter and promtool unpacked in build/py/" >&2
