#!/usr/bin/env bash
# tests/install/test_install.sh: install.sh, the systemd unit and the man
# pages.  Runs install.sh from a release-tarball layout built in a temp dir
# into a DESTDIR root and checks every file, owner and mode; re-runs
# (upgrade, config and state kept); --prefix; token handling; uninstall and
# purge; each clear error; the machine-architecture choice (fake uname and
# dpkg); shellcheck; systemd-analyze verify and security; mandoc -Tlint.
#
# Prints PASS/FAIL/SKIP lines; exits 1 when anything failed.  Run from the
# repository root after "make" (uses build/invsync).  Owners are checked
# when run as root, with the existing user "daemon" standing in for
# invsync (INVSYNC_USER), so that no user is created on this machine.
set -u

ROOT=$(pwd)
BIN=${INVSYNC_BIN:-build/invsync}
failures=0
T=$(mktemp -d "${TMPDIR:-/tmp}/test_install.XXXXXX")
trap 'rm -rf "$T"' EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failures=$((failures + 1)); }
skip() { echo "SKIP $1: $2"; }

# check NAME CONDITION-COMMAND... : PASS when the command succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "$*"; fi
}

# grep_out NAME PATTERN FILE: FILE holds a line matching fixed PATTERN.
grep_out() {
	if grep -qF -- "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "no '$2' in output: $(head -c 600 "$3" | tr '\n' '|')"
	fi
}

# no_out NAME PATTERN FILE: FILE has no line matching fixed PATTERN.
no_out() {
	if grep -qF -- "$2" "$3"; then
		fail "$1" "unexpected '$2' in output"
	else
		pass "$1"
	fi
}

if [ ! -x "$BIN" ] || ! "$BIN" version >/dev/null 2>&1; then
	skip test_install "$BIN missing or not runnable here: run make first"
	exit 0
fi

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
SVC=daemon
getent passwd daemon >/dev/null 2>&1 || IS_ROOT=0

# A release-tarball layout (what scripts/dist.sh ships) in $1.
make_release() {
	mkdir -p "$1/bin"
	cp "$ROOT/install.sh" "$ROOT/README.md" "$1/" 2>/dev/null ||
		cp "$ROOT/install.sh" "$1/"
	cp -r "$ROOT/conf" "$ROOT/man" "$ROOT/LICENSES" "$1/"
	cp "$BIN" "$1/bin/invsync-x86_64"
}
REL=$T/rel
make_release "$REL"

# run_install OUT ARGS...: DESTDIR=$R install.sh ARGS, output to OUT.
run_install() {
	local out=$1
	shift
	DESTDIR=$R INVSYNC_USER=$SVC sh "$REL/install.sh" --arch x86_64 "$@" \
	    >"$out" 2>&1
}

# want_file NAME PATH MODE OWNER: a regular file or dir with that mode and
# (as root) owner.
want_file() {
	local name=$1 path=$2 mode=$3 owner=$4 got
	if [ ! -e "$path" ]; then
		fail "$name" "$path missing"
		return
	fi
	got=$(stat -c %a "$path")
	if [ "$got" != "$mode" ]; then
		fail "$name" "$path mode $got, want $mode"
		return
	fi
	if [ "$IS_ROOT" -eq 1 ]; then
		got=$(stat -c %U:%G "$path")
		if [ "$got" != "$owner" ]; then
			fail "$name" "$path owner $got, want $owner"
			return
		fi
	fi
	pass "$name"
}

# ---- static checks ---------------------------------------------------------
if command -v shellcheck >/dev/null 2>&1; then
	check shellcheck_install shellcheck install.sh
	if [ -f scripts/dist.sh ]; then
		check shellcheck_dist shellcheck scripts/dist.sh
	fi
	check shellcheck_test shellcheck -s bash tests/install/test_install.sh
else
	skip shellcheck "shellcheck not installed"
fi
if command -v dash >/dev/null 2>&1; then
	check install_posix_syntax dash -n install.sh
else
	skip install_posix_syntax "dash not installed"
fi

# ---- fresh install ---------------------------------------------------------
R=$T/root1
mkdir -p "$R"
if run_install "$T/out1"; then pass fresh_exit0; else fail fresh_exit0 "exit $?: $(cat "$T/out1")"; fi
want_file fresh_bin "$R/usr/local/bin/invsync" 755 root:root
want_file fresh_man8 "$R/usr/local/share/man/man8/invsync.8" 644 root:root
want_file fresh_man5 "$R/usr/local/share/man/man5/invsync.conf.5" 644 root:root
want_file fresh_unit "$R/etc/systemd/system/invsync.service" 644 root:root
want_file fresh_conf_dir "$R/etc/invsync" 750 root:$SVC
want_file fresh_conf "$R/etc/invsync/invsync.conf" 640 root:$SVC
want_file fresh_conf_example "$R/etc/invsync/invsync.conf.example" 644 root:root
want_file fresh_state_dir "$R/var/lib/invsync" 700 $SVC:$SVC
for l in curl BearSSL LMDB jsmn musl; do
	want_file "fresh_licence_$l" "$R/usr/local/share/doc/invsync/LICENSES/$l.txt" 644 root:root
done
check fresh_bin_same cmp -s "$BIN" "$R/usr/local/bin/invsync"
check fresh_conf_is_example cmp -s conf/invsync.conf.example "$R/etc/invsync/invsync.conf"
# nothing else: every file installed is one of the above
find "$R" -type f | sed "s|^$R||" | sort >"$T/files1"
cat >"$T/want1" <<'EOF'
/etc/invsync/invsync.conf
/etc/invsync/invsync.conf.example
/etc/systemd/system/invsync.service
/etc/systemd/system/invsync@.service
/usr/local/bin/invsync
/usr/local/share/doc/invsync/LICENSES/BearSSL.txt
/usr/local/share/doc/invsync/LICENSES/LMDB.txt
/usr/local/share/doc/invsync/LICENSES/README
/usr/local/share/doc/invsync/LICENSES/curl.txt
/usr/local/share/doc/invsync/LICENSES/jsmn.txt
/usr/local/share/doc/invsync/LICENSES/musl.txt
/usr/local/share/man/man5/invsync.conf.5
/usr/local/share/man/man8/invsync.8
EOF
[ -f "$REL/README.md" ] && echo /usr/local/share/doc/invsync/README.md >>"$T/want1"
sort -o "$T/want1" "$T/want1"
if diff "$T/want1" "$T/files1" >"$T/diff1"; then pass fresh_file_list
else fail fresh_file_list "$(tr '\n' '|' <"$T/diff1")"; fi
check fresh_no_temp_files test -z "$(find "$R" -name '*.new.*')"
grep_out fresh_unit_execstart "ExecStart=/usr/local/bin/invsync -c /etc/invsync/invsync.conf run" "$R/etc/systemd/system/invsync.service"
grep_out fresh_unit_user "User=$SVC" "$R/etc/systemd/system/invsync.service"
grep_out fresh_says_token_cmd "sudo install -m 600 -o $SVC -g $SVC /dev/stdin /etc/invsync/source.token" "$T/out1"
grep_out fresh_says_dest_token "/etc/invsync/destination.token does not exist" "$T/out1"
grep_out fresh_says_shop "shop = urbanwear-eu.myshopify.com is the example" "$T/out1"
grep_out fresh_not_started "invsync is installed but not started" "$T/out1"
grep_out fresh_says_check "/usr/local/bin/invsync check" "$T/out1"
grep_out fresh_no_useradd_for_existing_user "would run: systemctl daemon-reload" "$T/out1"
if grep -q "would run: systemctl enable" "$T/out1"; then
	fail fresh_no_enable "enabled with an incomplete config"
else
	pass fresh_no_enable
fi

# ---- re-run: upgrade keeps config, tokens and state ------------------------
printf '# edited by the merchant\n' >>"$R/etc/invsync/invsync.conf"
cp "$R/etc/invsync/invsync.conf" "$T/conf.saved"
printf 'state\n' >"$R/var/lib/invsync/data.mdb"
printf 'shpat_x\n' >"$R/etc/invsync/source.token"
chmod 644 "$R/etc/invsync/source.token"
printf 'echo new\n' >>"$REL/bin/invsync-x86_64"	# a "new release"
if run_install "$T/out2"; then pass rerun_exit0; else fail rerun_exit0 "exit $?: $(cat "$T/out2")"; fi
check rerun_conf_kept cmp -s "$T/conf.saved" "$R/etc/invsync/invsync.conf"
grep_out rerun_says_kept "kept /etc/invsync/invsync.conf" "$T/out2"
grep_out rerun_says_upgraded "upgraded /usr/local/bin/invsync" "$T/out2"
check rerun_state_kept grep -q state "$R/var/lib/invsync/data.mdb"
check rerun_bin_new cmp -s "$REL/bin/invsync-x86_64" "$R/usr/local/bin/invsync"
check rerun_token_kept grep -q shpat_x "$R/etc/invsync/source.token"
want_file rerun_token_mode_fixed "$R/etc/invsync/source.token" 600 root:root
grep_out rerun_says_mode_fixed "removed group/other access from /etc/invsync/source.token" "$T/out2"
no_out rerun_source_token_not_missing "source.token does not exist" "$T/out2"
want_file rerun_conf "$R/etc/invsync/invsync.conf" 640 root:$SVC
want_file rerun_state_dir "$R/var/lib/invsync" 700 $SVC:$SVC
cp "$BIN" "$REL/bin/invsync-x86_64"

# ---- complete config: would check, then enable ------------------------------
sed -i -e 's/urbanwear-eu/my-eu-shop/' -e 's/urbanwear-us/my-us-shop/' \
    "$R/etc/invsync/invsync.conf"
printf 'shpat_y\n' >"$R/etc/invsync/destination.token"
chmod 600 "$R/etc/invsync/destination.token"
run_install "$T/out3"
grep_out complete_would_check "would run: runuser -u $SVC -- /usr/local/bin/invsync -c /etc/invsync/invsync.conf check" "$T/out3"
grep_out complete_would_enable "would run: systemctl enable invsync" "$T/out3"
no_out complete_nothing_missing "does not exist" "$T/out3"
run_install "$T/out3b" --no-start
no_out no_start_no_enable "systemctl enable invsync" "$T/out3b"

# ---- the unit --------------------------------------------------------------
U=$R/etc/systemd/system/invsync.service
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify needs ExecStart= to exist on this machine: point it at DESTDIR
	sed "s|/usr/local/bin/invsync|$R/usr/local/bin/invsync|" "$U" \
	    >"$T/invsync.service"
	if systemd-analyze verify --man=false "$T/invsync.service" \
	    >"$T/verify" 2>&1 && [ ! -s "$T/verify" ]; then
		pass unit_verify
	else
		fail unit_verify "$(tr '\n' '|' <"$T/verify")"
	fi
	if systemd-analyze security --offline=true "$T/invsync.service" \
	    >"$T/security" 2>&1; then
		score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/security")
		echo "# systemd-analyze security: exposure $score"
		if [ -n "$score" ] &&
		    awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
			pass unit_security_exposure
		else
			fail unit_security_exposure "exposure '$score' > 2.0"
		fi
	else
		skip unit_security_exposure "systemd-analyze security --offline unsupported"
	fi
else
	skip unit_verify "systemd-analyze not installed"
fi
for k in Type=notify WatchdogSec= Restart=on-failure \
    RestartPreventExitStatus=78 StateDirectory=invsync \
    NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
    PrivateDevices=yes "CapabilityBoundingSet=" \
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
    SystemCallFilter=@system-service MemoryMax= UMask=0077; do
	if grep -q "^$k" conf/invsync.service; then pass "unit_has_$k"
	else fail "unit_has_$k" "missing from conf/invsync.service"; fi
done

# ---- --prefix --------------------------------------------------------------
R=$T/root2
mkdir -p "$R"
run_install "$T/out4" --prefix /opt/invsync
want_file prefix_bin "$R/opt/invsync/bin/invsync" 755 root:root
want_file prefix_man8 "$R/opt/invsync/share/man/man8/invsync.8" 644 root:root
grep_out prefix_unit_execstart "ExecStart=/opt/invsync/bin/invsync -c" "$R/etc/systemd/system/invsync.service"
check prefix_no_usr_local test ! -e "$R/usr/local"
DESTDIR=$R INVSYNC_USER=$SVC sh "$REL/install.sh" --uninstall \
    --prefix /opt/invsync >"$T/out4u" 2>&1
check prefix_uninstall_bin_gone test ! -e "$R/opt/invsync/bin/invsync"

# ---- uninstall, purge ------------------------------------------------------
R=$T/root1
if DESTDIR=$R INVSYNC_USER=$SVC sh "$REL/install.sh" --uninstall \
    >"$T/out5" 2>&1; then pass uninstall_exit0
else fail uninstall_exit0 "exit $?: $(cat "$T/out5")"; fi
check uninstall_bin_gone test ! -e "$R/usr/local/bin/invsync"
check uninstall_unit_gone test ! -e "$R/etc/systemd/system/invsync.service"
check uninstall_man_gone test ! -e "$R/usr/local/share/man/man8/invsync.8"
check uninstall_doc_gone test ! -e "$R/usr/local/share/doc/invsync"
check uninstall_conf_kept grep -q "edited by the merchant" "$R/etc/invsync/invsync.conf"
check uninstall_token_kept test -f "$R/etc/invsync/source.token"
check uninstall_state_kept grep -q state "$R/var/lib/invsync/data.mdb"
grep_out uninstall_would_disable "would run: systemctl disable --now invsync" "$T/out5"
if DESTDIR=$R INVSYNC_USER=$SVC sh "$REL/install.sh" --uninstall --purge \
    >"$T/out6" 2>&1; then pass purge_exit0
else fail purge_exit0 "exit $?: $(cat "$T/out6")"; fi
check purge_conf_gone test ! -e "$R/etc/invsync"
check purge_state_gone test ! -e "$R/var/lib/invsync"
grep_out purge_would_userdel "would run: userdel $SVC" "$T/out6"
if DESTDIR=$R INVSYNC_USER=$SVC sh "$REL/install.sh" --uninstall --purge \
    >"$T/out7" 2>&1; then pass purge_again_ok
else fail purge_again_ok "exit $?: $(cat "$T/out7")"; fi

# ---- instances: invsync@NAME beside the plain service ------------------------
R=$T/root5
mkdir -p "$R"
TU=$R/etc/systemd/system/invsync@.service
if run_install "$T/i1" --instance shop-a; then pass inst_exit0
else fail inst_exit0 "exit $?: $(cat "$T/i1")"; fi
want_file inst_template "$TU" 644 root:root
want_file inst_plain_unit "$R/etc/systemd/system/invsync.service" 644 root:root
want_file inst_bin "$R/usr/local/bin/invsync" 755 root:root
want_file inst_state_dir "$R/var/lib/invsync/shop-a" 700 $SVC:$SVC
check inst_no_conf_made test ! -e "$R/etc/invsync/shop-a.conf"
check inst_no_plain_conf test ! -e "$R/etc/invsync/invsync.conf"
grep_out inst_says_init "sudo /usr/local/bin/invsync -c /etc/invsync/shop-a.conf init" "$T/i1"
grep_out inst_says_enable "sudo systemctl enable --now invsync@shop-a" "$T/i1"
no_out inst_no_enable_yet "would run: systemctl enable" "$T/i1"
grep_out inst_unit_execstart "ExecStart=/usr/local/bin/invsync -c /etc/invsync/%i.conf run" "$TU"
grep_out inst_unit_user "User=$SVC" "$TU"
grep_out inst_unit_state "StateDirectory=invsync/%i" "$TU"
grep_out inst_unit_journal "SyslogIdentifier=invsync@%i" "$TU"
# a complete config (as init writes it): checked and enabled
cat >"$R/etc/invsync/shop-a.conf" <<'EOF'
[sync]
state_dir = /var/lib/invsync/shop-a
[store source]
shop = a-eu.myshopify.com
token_file = shop-a-source.token
[store destination]
shop = a-us.myshopify.com
token_file = shop-a-destination.token
EOF
printf 'shpat_a\n' >"$R/etc/invsync/shop-a-source.token"
printf 'shpat_b\n' >"$R/etc/invsync/shop-a-destination.token"
chmod 600 "$R/etc/invsync/shop-a-"*.token
cp "$R/etc/invsync/shop-a.conf" "$T/shop-a.saved"
run_install "$T/i2" --instance=shop-a
grep_out inst_would_check "would run: runuser -u $SVC -- /usr/local/bin/invsync -c /etc/invsync/shop-a.conf check" "$T/i2"
grep_out inst_would_enable "would run: systemctl enable invsync@shop-a" "$T/i2"
grep_out inst_conf_kept_says "kept /etc/invsync/shop-a.conf" "$T/i2"
check inst_conf_kept cmp -s "$T/shop-a.saved" "$R/etc/invsync/shop-a.conf"
want_file inst_conf_mode "$R/etc/invsync/shop-a.conf" 640 root:$SVC
# a second instance leaves the first alone
if run_install "$T/i3" --instance shop-b; then pass inst_second_exit0
else fail inst_second_exit0 "exit $?: $(cat "$T/i3")"; fi
want_file inst_second_state "$R/var/lib/invsync/shop-b" 700 $SVC:$SVC
check inst_second_first_kept cmp -s "$T/shop-a.saved" "$R/etc/invsync/shop-a.conf"
printf '[sync]\n# b\n' >"$R/etc/invsync/shop-b.conf"
printf 'state a\n' >"$R/var/lib/invsync/shop-a/data.mdb"
printf 'state b\n' >"$R/var/lib/invsync/shop-b/data.mdb"
# removing one instance (with --purge) leaves the other and the rest
if DESTDIR=$R INVSYNC_USER=$SVC sh "$REL/install.sh" --uninstall \
    --instance shop-a --purge >"$T/i4" 2>&1; then pass inst_remove_exit0
else fail inst_remove_exit0 "exit $?: $(cat "$T/i4")"; fi
grep_out inst_remove_disables "would run: systemctl disable --now invsync@shop-a" "$T/i4"
no_out inst_remove_not_b "invsync@shop-b" "$T/i4"
check inst_remove_conf_gone test ! -e "$R/etc/invsync/shop-a.conf"
check inst_remove_token1_gone test ! -e "$R/etc/invsync/shop-a-source.token"
check inst_remove_token2_gone test ! -e "$R/etc/invsync/shop-a-destination.token"
check inst_remove_state_gone test ! -e "$R/var/lib/invsync/shop-a"
check inst_remove_b_conf_kept grep -q '# b' "$R/etc/invsync/shop-b.conf"
check inst_remove_b_state_kept grep -q 'state b' "$R/var/lib/invsync/shop-b/data.mdb"
check inst_remove_bin_kept test -x "$R/usr/local/bin/invsync"
check inst_remove_template_kept test -f "$TU"
check inst_remove_plain_kept test -f "$R/etc/systemd/system/invsync.service"
# without --purge an instance keeps its config and state
DESTDIR=$R INVSYNC_USER=$SVC sh "$REL/install.sh" --uninstall \
    --instance shop-b >"$T/i5" 2>&1
check inst_keep_b_conf test -f "$R/etc/invsync/shop-b.conf"
check inst_keep_b_state test -f "$R/var/lib/invsync/shop-b/data.mdb"
grep_out inst_keep_says "kept /etc/invsync/shop-b.conf and /var/lib/invsync/shop-b" "$T/i5"
# the plain --uninstall stops every instance and removes both units
DESTDIR=$R INVSYNC_USER=$SVC sh "$REL/install.sh" --uninstall >"$T/i6" 2>&1
grep_out inst_plain_uninstall_b "would run: systemctl disable --now invsync@shop-b" "$T/i6"
check inst_plain_uninstall_template_gone test ! -e "$TU"
# both units keep the same settings and sandbox: every line from
# [Service] on is equal but for the instance's paths and journal name
sed -n '/^\[Service\]/,$p' conf/invsync.service >"$T/u.plain"
sed -n '/^\[Service\]/,$p' conf/invsync@.service |
    sed -e 's|/etc/invsync/%i.conf|/etc/invsync/invsync.conf|' \
    -e 's|^StateDirectory=invsync/%i$|StateDirectory=invsync|' \
    -e 's|write /var/lib/invsync/%i\.$|write /var/lib/invsync.|' \
    -e '/^SyslogIdentifier=invsync@%i$/d' >"$T/u.inst"
if diff "$T/u.plain" "$T/u.inst" >"$T/u.diff"; then pass units_consistent
else fail units_consistent "$(tr '\n' '|' <"$T/u.diff")"; fi
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|/usr/local/bin/invsync|$ROOT/$BIN|" conf/invsync@.service \
	    >"$T/invsync@test.service"
	if systemd-analyze verify --man=false "$T/invsync@test.service" \
	    >"$T/verify@" 2>&1 && [ ! -s "$T/verify@" ]; then
		pass inst_unit_verify
	else
		fail inst_unit_verify "$(tr '\n' '|' <"$T/verify@")"
	fi
else
	skip inst_unit_verify "systemd-analyze not installed"
fi

# ---- errors ----------------------------------------------------------------
# expect_error NAME PATTERN CMD...: CMD exits 1 and prints PATTERN.
expect_error() {
	local name=$1 pat=$2 rc
	shift 2
	"$@" >"$T/err" 2>&1
	rc=$?
	if [ "$rc" -ne 1 ]; then
		fail "$name" "exit $rc, want 1: $(head -c 400 "$T/err")"
	elif ! grep -qF -- "$pat" "$T/err"; then
		fail "$name" "no '$pat' in: $(head -c 400 "$T/err")"
	else
		pass "$name"
	fi
}
R=$T/root3
mkdir -p "$R"
if [ "$IS_ROOT" -eq 1 ] && command -v setpriv >/dev/null 2>&1; then
	chmod 755 "$T"
	expect_error err_not_root "must be run as root" \
	    setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    env -u DESTDIR sh "$REL/install.sh"
else
	skip err_not_root "needs root and setpriv"
fi
expect_error err_bad_arch_option "unsupported --arch 'sparc'" \
    env DESTDIR="$R" sh "$REL/install.sh" --arch sparc
expect_error err_no_binary_for_arch "no bin/invsync-aarch64" \
    env DESTDIR="$R" sh "$REL/install.sh" --arch aarch64
expect_error err_purge_alone "--purge only goes with --uninstall" \
    env DESTDIR="$R" sh "$REL/install.sh" --purge
check err_usage_exit2 test "$(sh "$REL/install.sh" --bogus >/dev/null 2>&1; echo $?)" = 2
if [ "$IS_ROOT" -eq 1 ]; then
	# no DESTDIR: stops at the CA check, before any change
	expect_error err_no_ca_bundle "no CA certificate bundle found" \
	    env -u DESTDIR -u SSL_CERT_FILE INVSYNC_CA_FILES=/nonexistent/ca.pem \
	    sh "$REL/install.sh" --arch x86_64
	if [ -d /run/systemd/system ]; then
		skip err_no_systemd "systemd runs here: would really install"
	else
		expect_error err_no_systemd "systemd is not running here" \
		    env -u DESTDIR sh "$REL/install.sh" --arch x86_64
	fi
else
	skip err_no_ca_bundle "needs root"
	skip err_no_systemd "needs root"
fi
check err_left_nothing test -z "$(find "$R" -mindepth 1)"
R=$T/root6
mkdir -p "$R"
expect_error inst_bad_name "must be of a-z, 0-9 and '-'" \
    env DESTDIR="$R" sh "$REL/install.sh" --instance 'Shop_A'
expect_error inst_name_slash "must be of a-z, 0-9 and '-'" \
    env DESTDIR="$R" sh "$REL/install.sh" --instance '../x'
expect_error inst_name_empty "--instance needs a NAME" \
    env DESTDIR="$R" sh "$REL/install.sh" --instance ''
expect_error inst_name_plain "would be the plain service's config" \
    env DESTDIR="$R" sh "$REL/install.sh" --instance invsync
check inst_err_left_nothing test -z "$(find "$R" -mindepth 1)"

# ---- architecture choice: fake uname and dpkg -------------------------------
FAKE=$T/fakebin
mkdir -p "$FAKE" "$T/relarch/bin"
cp -r "$ROOT/install.sh" "$ROOT/conf" "$ROOT/man" "$T/relarch/"
for a in x86_64 aarch64 armhf armel; do
	printf '#!/bin/sh\necho "invsync fake %s"\n' "$a" >"$T/relarch/bin/invsync-$a"
	chmod 755 "$T/relarch/bin/invsync-$a"
done
# arch_case DPKG UNAME WANT: WANT "error" expects the unsupported message.
arch_case() {
	local d=$1 m=$2 want=$3 name="arch_${1:-nodpkg}_$2" got
	printf '#!/bin/sh\necho %s\n' "$m" >"$FAKE/uname"
	if [ -n "$d" ]; then
		printf '#!/bin/sh\necho %s\n' "$d" >"$FAKE/dpkg"
	else
		printf '#!/bin/sh\nexit 1\n' >"$FAKE/dpkg"
	fi
	chmod 755 "$FAKE/uname" "$FAKE/dpkg"
	rm -rf "$T/rootarch"
	mkdir -p "$T/rootarch"
	if [ "$want" = error ]; then
		expect_error "$name" "unsupported machine architecture" \
		    env PATH="$FAKE:$PATH" DESTDIR="$T/rootarch" \
		    sh "$T/relarch/install.sh"
		return
	fi
	PATH="$FAKE:$PATH" DESTDIR="$T/rootarch" sh "$T/relarch/install.sh" \
	    >"$T/arch.out" 2>&1
	got=$(sh "$T/rootarch/usr/local/bin/invsync" 2>/dev/null)
	if [ "$got" = "invsync fake $want" ]; then pass "$name"
	else fail "$name" "installed '$got', want $want: $(head -c 300 "$T/arch.out")"; fi
}
arch_case amd64 x86_64 x86_64
arch_case arm64 aarch64 aarch64
arch_case armhf aarch64 armhf		# 32-bit Pi OS on a 64-bit kernel
arch_case armhf armv7l armhf
arch_case armhf armv6l armel		# Raspbian armhf on a Pi Zero/1
arch_case armel armv5tel armel
arch_case "" x86_64 x86_64
arch_case "" aarch64 aarch64
arch_case "" armv7l armhf
arch_case "" armv6l armel
arch_case "" mips error
arch_case "" riscv64 error
arch_case i386 i686 error

# ---- man pages ---------------------------------------------------------------
if command -v mandoc >/dev/null 2>&1; then
	for m in man/invsync.8 man/invsync.conf.5; do
		# manuals not installed on this machine are not the page's fault
		mandoc -Tlint "$m" 2>&1 | grep -v -e 'referenced manual not found' \
		    -e 'outdated mandoc.db' >"$T/lint"
		if [ -s "$T/lint" ]; then
			fail "mandoc_lint_$(basename "$m")" "$(tr '\n' '|' <"$T/lint")"
		else
			pass "mandoc_lint_$(basename "$m")"
		fi
	done
else
	skip mandoc_lint "mandoc not installed"
fi
# every config key of agent/conf.c is documented in invsync.conf.5
sed -n 's/^[[:space:]]*\[S[KT]_[A-Z_]*\] = { "\([a-z_]*\)".*/\1/p' agent/conf.c \
    >"$T/keys"
check man_keys_found test -s "$T/keys"
while read -r k; do
	if grep -q "^\.It Ic $k " man/invsync.conf.5; then pass "man_key_$k"
	else fail "man_key_$k" "key $k not in man/invsync.conf.5"; fi
done <"$T/keys"
# every command of the usage text is documented in invsync.8
for c in init run once check status log pause resume version; do
	if grep -q "^\.It Cm $c\b" man/invsync.8 || grep -q "^\.Cm $c\b" man/invsync.8
	then pass "man_cmd_$c"
	else fail "man_cmd_$c" "command $c not in man/invsync.8"; fi
done

[ "$failures" -eq 0 ]
