#!/bin/sh
# scripts/dist.sh: builds the release tarball dist/invsync-VERSION.tar.gz
# (what "make dist" runs): stripped static binaries for every ARCH as
# bin/invsync-ARCH, install.sh, conf/, man/, README.md, LICENSES/ and
# SHA256SUMS of every file, under one top directory invsync-VERSION/.
#
#   sh scripts/dist.sh [VERSION]      (default: VERSION of the Makefile)
#
# The sources are the committed HEAD, exported into build/dist/src (so
# that edits in progress in the working tree never ship); DIST_TREE=. uses
# the working tree instead (DIST_TREE=DIR: a tree prepared there).  Each ARCH is built there with "make ARCH=...",
# sharing the dependency cache of build/ (libraries are built on first use,
# about a minute each).  The tarball is reproducible for one commit: sorted
# names, owner 0, mtime of the commit, gzip -n.
# Run from the repository root.  Exit status 0, or 1 with a message.
set -eu

ARCHES="x86_64 aarch64 armhf armel"

die() {
	printf 'dist.sh: error: %s\n' "$*" >&2
	exit 1
}

if [ ! -f Makefile ] || [ ! -f install.sh ]; then
	die "run from the repository root"
fi
VERSION=${1:-$(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' Makefile)}
[ -n "$VERSION" ] || die "no VERSION"
NAME=invsync-$VERSION
STAGE=dist/$NAME
TARBALL=dist/$NAME.tar.gz

# Prints the value of make variable $2 for ARCH $1 (as deps.mk sets it).
make_var() {
	# shellcheck disable=SC2016 # $(...) is make syntax, not shell
	printf 'print-var:\n\t@echo $(%s)\n' "$2" |
	    make --no-print-directory -s ARCH="$1" -f Makefile -f - print-var
}

rm -rf "$STAGE" "$TARBALL"
mkdir -p "$STAGE/bin"
TOP=$(pwd)

# The tree to build: HEAD exported, its build/ cache entries linked to ours.
if [ -n "${DIST_TREE:-}" ]; then
	TREE=$DIST_TREE
else
	# the shared cache is built here, by this tree, never by the export
	for a in $ARCHES; do
		make --no-print-directory -f deps/deps.mk ARCH="$a" deps >&2 ||
			die "building the libraries for $a failed"
	done
	TREE=build/dist/src
	rm -rf "$TREE"
	mkdir -p "$TREE/build"
	git archive --format=tar HEAD | tar -xf - -C "$TREE" ||
		die "git archive HEAD failed"
	# older than the cache's stamps: the export never rebuilds the cache
	find "$TREE" -exec touch -h -d @946684800 {} +
	mkdir -p build/apt build/src build/toolchain
	for d in apt src toolchain; do
		ln -s "$TOP/build/$d" "$TREE/build/$d"
	done
	for a in $ARCHES; do
		mkdir -p "build/$a/sysroot" "build/$a/deps" "$TREE/build/$a"
		for d in sysroot deps deps.stamp deps.lock; do
			ln -s "$TOP/build/$a/$d" "$TREE/build/$a/$d"
		done
	done
	echo "dist: building $(git rev-parse --short HEAD) in $TREE" >&2
fi

for a in $ARCHES; do
	echo "dist: building $a" >&2
	make -C "$TREE" ARCH="$a" >&2 || die "make ARCH=$a failed"
	if [ "$a" = x86_64 ]; then src=build/invsync; else src=build/$a/invsync; fi
	src=$TREE/$src
	strip=$(make_var "$a" STRIP) || die "cannot find STRIP for $a"
	[ -n "$strip" ] || die "STRIP is empty for $a"
	out=$STAGE/bin/invsync-$a
	"$strip" -o "$out" "$src" || die "$strip failed on $src"
	chmod 755 "$out"
	if readelf -l "$out" | grep -q INTERP; then
		die "$out is not static (has a program interpreter)"
	fi
done

cp "$TREE/install.sh" "$STAGE/"
chmod 755 "$STAGE/install.sh"
mkdir -p "$STAGE/conf" "$STAGE/man" "$STAGE/LICENSES"
cp "$TREE/conf/invsync.conf.example" "$TREE/conf/invsync.service" \
    "$STAGE/conf/"
cp "$TREE/man/invsync.8" "$TREE/man/invsync.conf.5" "$STAGE/man/"
cp "$TREE/LICENSES/"* "$STAGE/LICENSES/"
if [ -f "$TREE/README.md" ]; then cp "$TREE/README.md" "$STAGE/"; fi
find "$STAGE" -type f ! -name install.sh ! -path "*/bin/*" \
    -exec chmod 644 {} +

(cd "$STAGE" && find . -type f | sed 's|^\./||' | LC_ALL=C sort |
    xargs sha256sum >"../$NAME.sums" && mv "../$NAME.sums" SHA256SUMS)

mtime=$(git log -1 --format=%ct 2>/dev/null || date +%s)
tar -C dist --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@$mtime" -cf - "$NAME" | gzip -n -9 >"$TARBALL"

echo "binaries (stripped, static):"
for a in $ARCHES; do
	printf '  %-28s %9d bytes\n' "bin/invsync-$a" \
	    "$(wc -c <"$STAGE/bin/invsync-$a")"
done
printf '%s: %d bytes, %d files\n' "$TARBALL" "$(wc -c <"$TARBALL")" \
    "$(tar -tzf "$TARBALL" | grep -vc '/$')"
