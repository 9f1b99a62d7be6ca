#!/bin/sh
# mk/sysdeps.sh: checks that the Debian packages the glibc builds (fuzzing,
# sanitizers, valgrind, lint) use are installed, and says which to install
# when not.  Usage: sh mk/sysdeps.sh clang|gcc|valgrind|lint
# (deps/packages.txt lists the musl build's packages; these are extra.)
set -eu

pkgs="libjsmn-dev liblmdb-dev libcurl4-openssl-dev"
case ${1:-gcc} in
clang)		pkgs="$pkgs clang-14 libclang-rt-14-dev" ;;
gcc)		pkgs="$pkgs gcc" ;;
valgrind)	pkgs="$pkgs gcc valgrind" ;;
lint)		pkgs="$pkgs cppcheck clang-tidy-14" ;;
*)		echo "usage: sysdeps.sh clang|gcc|valgrind|lint" >&2; exit 2 ;;
esac
missing=
for p in $pkgs; do
	st=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null) || st=
	[ "$st" = installed ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "missing Debian packages:$missing" >&2
	echo "install with: apt-get install --no-install-recommends$missing" >&2
	exit 1
fi
