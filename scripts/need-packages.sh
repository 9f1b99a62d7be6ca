#!/bin/sh
# scripts/need-packages.sh: makes sure the Debian packages named in LIST...
# (deps/packages.txt, tests/packages.txt: one per line, '#' comments) are
# installed, before make builds or tests anything.
#
#   sh scripts/need-packages.sh LIST...
#
# Nothing missing: prints nothing, exits 0 (one dpkg-query, no network).
# Missing, as root: `apt-get update`, then installs only the missing ones,
# non-interactively and without recommends; exits 0, or 1 if apt failed.
# Missing, not root: prints the one command that installs them and exits 1,
# so make stops before a build that would fail halfway.
set -eu

[ $# -ge 1 ] || { echo "usage: need-packages.sh LIST..." >&2; exit 2; }
wanted=$(sed 's/#.*//' "$@" | xargs)
[ -n "$wanted" ] || exit 0

# dpkg-query names every package it knows; unknown ones go to stderr only
# shellcheck disable=SC2086
have=$(dpkg-query -W -f '${Package} ${db:Status-Status}\n' $wanted \
    2>/dev/null | awk '$2 == "installed" { print $1 }' | xargs) || true
missing=
for p in $wanted; do
	case " $have " in
	*" $p "*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "need-packages.sh: missing Debian packages:$missing" >&2
	echo "run as root, then make again:" >&2
	echo "  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi
echo "need-packages.sh: installing the missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || { echo "need-packages.sh: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2 ||
    { echo "need-packages.sh: apt-get install failed" >&2; exit 1; }
