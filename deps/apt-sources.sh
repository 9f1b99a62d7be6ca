#!/bin/sh
# deps/apt-sources.sh: prints, on stdout, the deb822 sources of a private apt
# directory, derived at run time from the system's own apt sources, so that no
# mirror is ever named in this repository.  Used by deps/fetch.sh (build/apt/)
# and deps/testdeps.sh (build/apt-test/); the system's apt state is not read
# beyond /etc/apt and /etc/os-release, and never written.
#
#   deps/apt-sources.sh             every suite the system uses, "deb deb-src"
#                                   (security suites "deb-src" only)
#   deps/apt-sources.sh --suite S   "deb" for suite S only (e.g. trixie), on
#                                   every archive that serves the system's own
#                                   release (VERSION_CODENAME in
#                                   /etc/os-release), with its components and
#                                   Signed-By
#
# Exit 1 with a message when nothing usable is found.
set -eu

die() { echo "apt-sources.sh: $*" >&2; exit 1; }

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

case ${1-} in
"")
	out=$(gen_sources)
	;;
--suite)
	suite=${2:?usage: apt-sources.sh [--suite SUITE]}
	# shellcheck disable=SC1091
	release=$(. /etc/os-release && echo "${VERSION_CODENAME-}")
	[ -n "$release" ] || die "no VERSION_CODENAME in /etc/os-release"
	out=$(gen_sources | awk -v rel="$release" -v suite="$suite" '
	BEGIN { RS = ""; ORS = "\n\n"; FS = "\n" }
	{
		keep = 0; s = ""
		for (i = 1; i <= NF; i++) {
			if ($i == "Suites: " rel) keep = 1
			if ($i ~ /^Types:/) s = s "Types: deb\n"
			else if ($i ~ /^Suites:/) s = s "Suites: " suite "\n"
			else s = s $i "\n"
		}
		if (keep) { sub(/\n$/, "", s); print s }
	}')
	;;
*)
	die "usage: apt-sources.sh [--suite SUITE]"
	;;
esac
[ -n "$out" ] || die "no usable apt sources found in /etc/apt"
printf '%s\n' "$out"
