#!/bin/sh
# deps/fetch.sh: downloads the pinned third-party sources (curl, bearssl, lmdb
# source packages) and the foreign-architecture musl-dev packages into
# build/src/, through a private apt directory (build/apt/) derived at run time
# from the system's own apt sources.  The system's apt state is never touched:
# source lists, package lists and caches are all redirected under build/apt/.
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

# gen_sources: writes, on stdout, deb822 stanzas built from the system's
# sources (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list and *.sources):
# same URIs, suites, components and Signed-By; "deb deb-src" for every suite,
# except security suites, which get "deb-src" only (their binary indices are
# not needed and once failed mid-sync for a foreign architecture).
gen_sources() {
	{
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			awk '
			/^[ \t]*(#|$)/ { next }
			$1 != "deb" { next }
			{
				i = 2; sb = ""
				if ($2 ~ /^\[/) {
					opts = ""
					for (; i <= NF; i++) {
						opts = opts " " $i
						if ($i ~ /\]$/) { i++; break }
					}
					gsub(/[\[\]]/, "", opts)
					n = split(opts, o, " ")
					for (k = 1; k <= n; k++)
						if (o[k] ~ /^signed-by=/) {
							sb = o[k]; sub(/^signed-by=/, "", sb)
						}
				}
				uri = $i; suite = $(i + 1); comps = ""
				for (k = i + 2; k <= NF; k++)
					comps = comps (comps == "" ? "" : " ") $k
				printf "URIs: %s\nSuites: %s\n", uri, suite
				if (comps != "") printf "Components: %s\n", comps
				if (sb != "") printf "Signed-By: %s\n", sb
				printf "\n"
			}' "$f"
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			# one stanza per paragraph; drop comments, Types and
			# disabled stanzas; keep continuation lines (inline keys)
			awk '
			function flush() {
				if (buf != "" && !disabled) printf "%s\n", buf
				buf = ""; disabled = 0
			}
			/^#/ { next }
			/^[ \t]*$/ { flush(); next }
			/^Types:/ { next }
			/^Enabled:[ \t]*(no|false)/ { disabled = 1; next }
			{ buf = buf $0 "\n" }
			END { flush() }' "$f"
		done
	} | awk '
	# split multi-suite stanzas so each suite gets its own Types line;
	# the first entry for a URI and suite wins (apt refuses two entries
	# for one source with different Signed-By)
	function emit(   n, s, k, types) {
		if (uris == "") return
		n = split(suites, s, " ")
		for (k = 1; k <= n; k++) {
			if (seen[uris " " s[k]]++)
				continue
			types = (s[k] ~ /-security$|\/updates$/) ? "deb-src" : "deb deb-src"
			printf "Types: %s\nURIs: %s\nSuites: %s\n%s\n", types, uris, s[k], rest
		}
		uris = ""; suites = ""; rest = ""
	}
	/^[ \t]*$/ { emit(); next }
	/^URIs:/ { uris = $0; sub(/^URIs:[ \t]*/, "", uris); next }
	/^Suites:/ { suites = $0; sub(/^Suites:[ \t]*/, "", suites); next }
	{ rest = rest $0 "\n" }
	END { emit() }'
}

mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$srcdir"
# build/ is a cache that is never committed (it also holds the generated
# apt sources, which name the system's mirrors)
[ -f "$top/build/.gitignore" ] || echo '*' >"$top/build/.gitignore"
gen_sources >"$aptdir/sources.sources.new"
[ -s "$aptdir/sources.sources.new" ] || die "no usable apt sources found in /etc/apt"
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
