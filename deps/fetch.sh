#!/bin/sh
# deps/fetch.sh: downloads the pinned third-party sources (curl, bearssl, lmdb
# source packages) and the foreign-architecture musl-dev packages into
# build/src/, through a private apt directory (build/apt/) derived at run time
# from the system's own apt sources (deps/apt-sources.sh).  The system's apt
# state is never touched: source lists, package lists and caches are all
# redirected under build/apt/.
#
# Contract: on exit 0 every file named in deps/SHA256SUMS is in build/src/ with
# the pinned sum.  Files already there with the right sum are not fetched again
# (no network at all when everything is cached).  A downloaded file with a
# wrong sum, or one that deps/SHA256SUMS does not name, is an error (exit 1).
#
# Usage: deps/fetch.sh            fetch and verify
#        deps/fetch.sh --pin      fetch and (re)write deps/SHA256SUMS (maintainers)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
deps=$top/deps
. "$deps/versions"
sums=$deps/SHA256SUMS
srcdir=$top/build/src
aptdir=$top/build/apt
pin=no
[ "${1-}" = --pin ] && pin=yes

die() { echo "fetch.sh: $*" >&2; exit 1; }

# all_cached: true when every pinned file is present with its pinned sum.
all_cached() {
	[ -s "$sums" ] || return 1
	(cd "$srcdir" 2>/dev/null && sha256sum --quiet --strict -c "$sums") \
	    >/dev/null 2>&1
}

if [ $pin = no ] && all_cached; then
	exit 0
fi
# one fetch at a time (make ARCH=a & make ARCH=b share build/apt and build/src)
mkdir -p "$top/build"
exec 9>"$top/build/fetch.lock"
flock 9
if [ $pin = no ] && all_cached; then
	exit 0
fi
[ $pin = yes ] || [ -s "$sums" ] || die "$sums is missing (run with --pin once)"

mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$srcdir"
# build/ is a cache that is never committed (it also holds the generated
# apt sources, which name the system's mirrors)
[ -f "$top/build/.gitignore" ] || echo '*' >"$top/build/.gitignore"
# the system's sources, same URIs, suites, components and Signed-By
"$deps/apt-sources.sh" >"$aptdir/sources.sources.new" || die "no apt sources"
mv "$aptdir/sources.sources.new" "$aptdir/sources.sources"

native=$(dpkg --print-architecture)
set -- -o Dir::Etc::SourceList="$aptdir/sources.sources" \
    -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$aptdir/lists" \
    -o Dir::Cache="$aptdir/cache" \
    -o APT::Architecture="$native" \
    -o APT::Architectures::="$native"
for a in $MUSL_ARCHES; do
	[ "$a" = "$native" ] || set -- "$@" -o APT::Architectures::="$a"
done
# the private dirs are root-owned; let the download run as the caller
set -- "$@" -o APT::Sandbox::User="$(id -un)" -q

echo "fetch.sh: updating the private package lists in build/apt/" >&2
apt-get "$@" update >&2 || die "apt-get update (private lists) failed"

# Download into an empty staging dir so that every new file is checked.
stage=$(mktemp -d "$top/build/fetch.XXXXXX")
trap 'rm -rf "$stage"' EXIT
pkgs="curl=$CURL_VERSION bearssl=$BEARSSL_VERSION lmdb=$LMDB_VERSION"
(cd "$stage" && apt-get "$@" source --download-only $pkgs) >&2 ||
    die "apt-get source failed (is $pkgs still served? see deps/README.md)"
debs=
for a in $MUSL_ARCHES; do
	debs="$debs musl-dev:$a=$MUSL_VERSION"
done
(cd "$stage" && apt-get "$@" download $debs) >&2 ||
    die "apt-get download failed for$debs"

cd "$stage"
if [ $pin = yes ]; then
	sha256sum -- * | LC_ALL=C sort -k 2 >"$sums"
	echo "fetch.sh: wrote $sums:" >&2
	cat "$sums" >&2
else
	for f in *; do
		grep -q "^[0-9a-f]\{64\}  $f\$" "$sums" ||
		    die "downloaded file $f is not pinned in deps/SHA256SUMS"
	done
	for f in *; do
		want=$(awk -v f="$f" '$2 == f { print $1 }' "$sums")
		got=$(sha256sum -- "$f" | cut -d ' ' -f 1)
		[ "$want" = "$got" ] ||
		    die "SHA-256 MISMATCH for $f: pinned $want, got $got"
	done
fi
mv -f -- * "$srcdir/"
cd "$srcdir"
sha256sum --quiet --strict -c "$sums" ||
    die "files pinned in deps/SHA256SUMS are missing or differ in build/src/"
echo "fetch.sh: all sources verified in build/src/" >&2
