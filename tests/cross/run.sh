#!/usr/bin/env bash
# tests/cross/run.sh INVSYNC_BIN TLSPROBE: the cross-test of one ARCH (make
# cross-test).  Environment: ARCH, QEMU (empty for native), STRIP, PYTHON
# (the server's interpreter; default Debian's /usr/bin/python3).
# Starts tests/cross/server.py (waits for its readiness line) and checks:
#   version     $QEMU INVSYNC_BIN version exits 0 and prints something
#   probe-ok    the probe with the test CA: HTTPS POST, JSON, LMDB all pass
#   no-stall    the TLS handshake does not stall (docs/build.md §7.1): in each of
#               5 runs, curl always named a socket to wait on during the
#               handshake (blind=0; the bug shows as blind>0 whenever a
#               handshake read would block) and the time off the CPU stayed
#               under 0.5 s (the stall costs 0.2 or 1.2 s; load alone adds
#               up to ~0.15 s on a busy 2-core machine)
#   wrong-ca    the probe with an unrelated CA fails with curl error 60 and
#               the error buffer says why (X.509)
#   static      file(1) says statically linked
#   size        the stripped INVSYNC_BIN is under 2 MB
# Prints PASS/FAIL lines; exits 1 if any check failed.
set -u
bin=${1:?usage: run.sh INVSYNC_BIN TLSPROBE}
probe=${2:?usage: run.sh INVSYNC_BIN TLSPROBE}
arch=${ARCH:-x86_64}
qemu=${QEMU:-}
strip=${STRIP:-strip}
tls=build/tls
work=build/$arch/cross-test
max_size=$((2 * 1024 * 1024))
max_idle=0.5
failed=0

pass() { echo "PASS $arch-$1"; }
fail() { echo "FAIL $arch-$1: $2"; failed=1; }

rm -rf "$work"
mkdir -p "$work"
sh tests/tls/mkcerts.sh "$tls" || { fail setup "mkcerts.sh failed"; exit 1; }

# The server exits by itself after 120 s; it is also stopped on our exit.
exec 3< <(exec "${PYTHON:-/usr/bin/python3}" tests/cross/server.py "$tls/localhost.pem" \
    "$tls/localhost.key" 120 2>"$work/server.log")
server=$!
trap 'kill "$server" 2>/dev/null' EXIT
port=
if read -r -t 30 -u 3 word p && [ "$word" = READY ]; then
	port=$p
else
	fail server "no readiness line from tests/cross/server.py"
	cat "$work/server.log"
	exit 1
fi
url=https://localhost:$port/api
echo "cross-test $arch: server on port $port, runner '${qemu:-native}'"

# version
if out=$($qemu "$bin" version 2>&1); then
	printf '%s\n' "$out" | sed 's/^/    /'
	if [ -n "$out" ]; then pass version; else fail version "printed nothing"; fi
else
	printf '%s\n' "$out" | sed 's/^/    /'
	fail version "$bin version exited $?"
fi

# probe with the right CA, five times (the stall did not hit every handshake)
worst=0
blind=0
for i in 1 2 3 4 5; do
	out=$($qemu "$probe" "$url" "$tls/ca.pem" "$work/db" 2>&1)
	rc=$?
	[ "$i" -eq 1 ] && printf '%s\n' "$out" | sed 's/^/    /'
	[ "$i" -gt 1 ] && printf '%s\n' "$out" | grep timing | sed 's/^/    /'
	if [ "$rc" -ne 0 ] || ! printf '%s\n' "$out" | grep -q '^tlsprobe: ok$'; then
		[ "$i" -gt 1 ] && printf '%s\n' "$out" | sed 's/^/    /'
		fail probe-ok "run $i exited $rc"
		worst=
		break
	fi
	idle=$(printf '%s\n' "$out" | sed -n 's/.* idle=\([0-9.]*\).*/\1/p')
	b=$(printf '%s\n' "$out" | sed -n 's/.* blind=\([0-9]*\).*/\1/p')
	blind=$((blind + ${b:-1}))
	worst=$(awk -v a="$worst" -v b="${idle:-99}" 'BEGIN { print (b > a) ? b : a }')
done
if [ -n "$worst" ]; then
	pass probe-ok
	if [ "$blind" -ne 0 ]; then
		fail no-stall "$blind blind waits during TLS handshakes (is deps/patches/curl-*-bearssl-handshake-poll.patch applied?)"
	elif awk -v a="$worst" -v m="$max_idle" 'BEGIN { exit !(a < m) }'; then
		pass no-stall
	else
		fail no-stall "handshake idle up to ${worst}s (limit ${max_idle}s)"
	fi
fi

# probe with the wrong CA: must fail verification
out=$($qemu "$probe" "$url" "$tls/wrong-ca.pem" "$work/db" 2>&1)
rc=$?
printf '%s\n' "$out" | grep 'curl error' | sed 's/^/    /'
if [ "$rc" -eq 3 ] && printf '%s\n' "$out" | grep -q '^tlsprobe: curl error 60: .*X\.509'; then
	pass wrong-ca
else
	fail wrong-ca "expected curl error 60 with an X.509 message, got exit $rc"
fi

# static, and the stripped size
info=$(file -b "$bin")
case $info in
*statically\ linked*) pass static ;;
*) fail static "$info" ;;
esac
"$strip" -o "$work/invsync.stripped" "$bin" && "$strip" -o "$work/tlsprobe.stripped" "$probe"
size=$(stat -c %s "$work/invsync.stripped" 2>/dev/null || echo 0)
psize=$(stat -c %s "$work/tlsprobe.stripped" 2>/dev/null || echo 0)
echo "    stripped: invsync $size B, tlsprobe $psize B"
if [ "$size" -gt 0 ] && [ "$size" -lt "$max_size" ]; then
	pass size
else
	fail size "stripped $bin is $size B (limit $max_size B)"
fi
exit $failed
