#!/bin/sh
# deps/build.sh ARCH: builds the third-party libraries for ARCH (x86_64,
# aarch64, armhf or armel) with musl into build/ARCH/sysroot/{include,lib}:
#   libbearssl.a (BearSSL 0.6, lib target, -Os), liblmdb.a (LMDB 0.9.24),
#   libcurl.a (curl 7.88.1, HTTP/HTTPS only, BearSSL backend, no CA bundle
#   compiled in, proxy support kept), and jsmn.h (from libjsmn-dev).
# Sources are the pinned files in build/src/ (deps/fetch.sh); they are unpacked
# per ARCH under build/ARCH/deps/ and built out of tree there.  curl gets
# Debian's patches minus the Debian-only 90_gnutls/99_nss, plus
# deps/patches/*.patch.
# Output: build/ARCH/deps.stamp.  Does nothing when the stamp is newer than
# deps/SHA256SUMS, deps/versions, deps/patches/*, the deps/ scripts and
# build/toolchain/ARCH.stamp (the compiler wrapper).
# Exit 1 with a message on any failure (the stamp is then absent).
# Environment: JOBS (default: number of CPUs) for make -j.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
deps=$top/deps
. "$deps/versions"
arch=${1:?usage: build.sh x86_64|aarch64|armhf|armel}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

die() { echo "build.sh: $*" >&2; exit 1; }

case $arch in
x86_64)		host=x86_64-linux-musl;	bu=x86_64-linux-gnu;
		cc=musl-gcc ;;
aarch64)	host=aarch64-linux-musl;	bu=aarch64-linux-gnu;
		cc=$top/build/toolchain/bin/aarch64-linux-musl-gcc ;;
armhf)		host=arm-linux-musleabihf;	bu=arm-linux-gnueabihf;
		cc=$top/build/toolchain/bin/arm-linux-musleabihf-gcc ;;
armel)		host=arm-linux-musleabi;	bu=arm-linux-gnueabi;
		cc=$top/build/toolchain/bin/arm-linux-musleabi-gcc ;;
*)		die "unknown ARCH '$arch' (x86_64, aarch64, armhf or armel)" ;;
esac

out=$top/build/$arch
stamp=$out/deps.stamp
# fresh: true when the stamp exists and is newer than every input
fresh() {
	[ -f "$stamp" ] && [ -z "$(find "$deps/SHA256SUMS" "$deps/versions" \
	    "$deps/patches" "$deps/fetch.sh" "$deps/build.sh" \
	    "$deps/toolchain.sh" "$top/build/toolchain/$arch.stamp" \
	    -newer "$stamp" 2>/dev/null)" ]
}
fresh && exit 0
# one build per ARCH at a time; a run that waited finds the work done
mkdir -p "$out"
exec 9>"$out/deps.lock"
flock 9
fresh && exit 0

"$deps/fetch.sh"
"$deps/toolchain.sh" "$arch"

t0=$(date +%s.%N)
lap() {	# lap WHAT: prints the seconds since the previous lap
	t1=$(date +%s.%N)
	echo "build.sh: $arch: $1 $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s" >&2
	t0=$t1
}

rm -f "$stamp"
work=$out/deps
sysroot=$out/sysroot
rm -rf "$work" "$sysroot"
mkdir -p "$work/src" "$sysroot/include" "$sysroot/lib"
src=$top/build/src
opt="-Os -ffunction-sections -fdata-sections"
export AR=$bu-ar RANLIB=$bu-ranlib

# Unpack (dpkg-source applies Debian's patch series) and patch curl.
cd "$work/src"
for d in curl_$CURL_VERSION bearssl_$BEARSSL_VERSION lmdb_$LMDB_VERSION; do
	dpkg-source --no-check -x "$src/$d.dsc" >/dev/null ||
	    die "dpkg-source -x $d.dsc failed"
done
cdir=$work/src/curl-${CURL_VERSION%-*}
bdir=$work/src/bearssl-${BEARSSL_VERSION%-*}
ldir=$work/src/lmdb-${LMDB_VERSION%-*}
for p in 99_nss 90_gnutls; do
	patch -s -R -p1 -d "$cdir" <"$cdir/debian/patches/$p.patch" ||
	    die "reversing Debian's $p.patch failed"
done
for p in "$deps"/patches/curl-*.patch; do
	[ -f "$p" ] || continue
	patch -s -p1 -d "$cdir" <"$p" || die "$(basename "$p") does not apply"
done
lap "unpack+patch"

# BearSSL: the static library only.
make -s -C "$bdir" -j"$jobs" lib CONF=Unix BUILD="$work/bearssl" \
    CC="$cc" AR="$AR" CFLAGS="-W -Wall $opt" >"$work/bearssl.log" 2>&1 ||
    die "BearSSL build failed, see $work/bearssl.log"
cp "$work/bearssl/libbearssl.a" "$sysroot/lib/"
cp "$bdir"/inc/*.h "$sysroot/include/"
lap "BearSSL"

# LMDB: its Makefile builds in place, so build in a copy.
cp -r "$ldir/libraries/liblmdb" "$work/lmdb"
make -s -C "$work/lmdb" -j"$jobs" liblmdb.a CC="$cc" AR="$AR" OPT="$opt" \
    >"$work/lmdb.log" 2>&1 || die "LMDB build failed, see $work/lmdb.log"
cp "$work/lmdb/liblmdb.a" "$sysroot/lib/"
cp "$work/lmdb/lmdb.h" "$sysroot/include/"
lap "LMDB"

# jsmn: header only.
[ -f /usr/include/jsmn.h ] || die "/usr/include/jsmn.h missing (apt-get install libjsmn-dev)"
cp /usr/include/jsmn.h "$sysroot/include/"

# libcurl: HTTP and HTTPS over BearSSL; the CA file is chosen at run time.
mkdir -p "$work/curl"
cd "$work/curl"
"$cdir/configure" --host="$host" --prefix="$sysroot" \
    CC="$cc" AR="$AR" RANLIB="$RANLIB" STRIP="$bu-strip" CFLAGS="$opt" \
    CPPFLAGS="-I$sysroot/include" LDFLAGS="-static -L$sysroot/lib" \
    --disable-shared --enable-static --with-pic=no \
    --with-bearssl="$sysroot" \
    --without-zlib --without-brotli --without-zstd --without-libidn2 \
    --without-libpsl --without-nghttp2 --without-ngtcp2 --without-nghttp3 \
    --without-quiche --without-msh3 --without-libssh2 --without-libssh \
    --without-wolfssh --without-librtmp --without-hyper --without-gssapi \
    --without-libgsasl \
    --disable-ldap --disable-ldaps --disable-rtsp --disable-dict \
    --disable-telnet --disable-tftp --disable-pop3 --disable-imap \
    --disable-smtp --disable-gopher --disable-mqtt --disable-smb \
    --disable-file --disable-ftp --disable-ntlm --disable-ntlm-wb \
    --disable-alt-svc --disable-cookies --disable-hsts --disable-websockets \
    --disable-unix-sockets --disable-manual --disable-libcurl-option \
    --disable-netrc --disable-progress-meter --disable-mime --disable-doh \
    --disable-get-easy-options --disable-crypto-auth --disable-tls-srp \
    --enable-proxy --enable-threaded-resolver --enable-ipv6 \
    --without-ca-bundle --without-ca-path --disable-dependency-tracking \
    >"$work/curl-configure.log" 2>&1 ||
    die "curl configure failed, see $work/curl-configure.log and $work/curl/config.log"
grep -q 'SSL:.*enabled (BearSSL)' "$work/curl-configure.log" ||
    die "curl configure did not enable BearSSL, see $work/curl-configure.log"
lap "curl configure"
make -s -j"$jobs" -C lib >"$work/curl-make.log" 2>&1 &&
    make -s -C lib install >>"$work/curl-make.log" 2>&1 &&
    make -s -C include install >>"$work/curl-make.log" 2>&1 ||
    die "curl build failed, see $work/curl-make.log"
rm -rf "$sysroot/lib/pkgconfig" "$sysroot/lib/libcurl.la" "$sysroot/bin" \
    "$sysroot/share"
lap "curl make"

for f in include/curl/curl.h include/bearssl.h include/lmdb.h include/jsmn.h \
    lib/libcurl.a lib/libbearssl.a lib/liblmdb.a; do
	[ -f "$sysroot/$f" ] || die "$sysroot/$f was not produced"
done
{
	echo "arch=$arch host=$host cc=$cc"
	echo "curl=$CURL_VERSION bearssl=$BEARSSL_VERSION lmdb=$LMDB_VERSION musl=$MUSL_VERSION"
	sed -n 's/^ *\(SSL\|Protocols\|Features\|ca cert bundle\): */\1: /p' \
	    "$work/curl-configure.log"
} >"$stamp"
echo "build.sh: $arch: done, sysroot in build/$arch/sysroot" >&2
