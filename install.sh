#!/bin/sh
# install.sh: installs, upgrades or removes invsync as a systemd service on
# Debian, Raspberry Pi OS and Ubuntu.
#
#   sh install.sh                     install, or upgrade in place
#   sh install.sh --uninstall         remove service, binary and man pages;
#                                     keep /etc/invsync and /var/lib/invsync
#   sh install.sh --uninstall --purge also remove config, tokens, state, user
#   sh install.sh --instance NAME     install or upgrade, and set up the
#                                     instance invsync@NAME of another store
#                                     group (/etc/invsync/NAME.conf, state in
#                                     /var/lib/invsync/NAME)
#   sh install.sh --uninstall --instance NAME [--purge]
#                                     stop and disable invsync@NAME (--purge:
#                                     and remove its config, secrets, state);
#                                     the rest stays for the other services
#
# Options: --prefix DIR (default /usr/local), --arch ARCH (default: this
# machine's), --no-start (install but do not enable or start), -h.
# DESTDIR=/some/root installs below that root for packagers and tests:
# then no user is created, no systemctl runs (each is printed as
# "would run: ..."), owners are set only when the user exists here, and
# neither root nor systemd is required.
#
# The binary comes from bin/invsync-ARCH next to this script (release
# tarball) or, in a source checkout, from "make ARCH=ARCH".
# Test hooks: INVSYNC_USER (default invsync) names the service account;
# INVSYNC_CA_FILES replaces the list of CA bundles looked for.
#
# Exit status: 0 done (the service may still wait for the config: read
# the output), 1 error, 2 usage.
set -eu

PROG=install.sh
PREFIX=/usr/local
ARCH=
ACTION=install
PURGE=0
START=1
INSTANCE=
INSTANCE_SET=0
DESTDIR=${DESTDIR:-}
SVC_USER=${INVSYNC_USER:-invsync}
CA_FILES=${INVSYNC_CA_FILES:-/etc/ssl/certs/ca-certificates.crt \
/etc/pki/tls/certs/ca-bundle.crt \
/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem /etc/ssl/ca-bundle.pem \
/etc/ssl/cert.pem}

CONF_DIR=/etc/invsync
CONF=$CONF_DIR/invsync.conf
STATE_DIR=/var/lib/invsync
UNIT_DIR=/etc/systemd/system
UNIT=invsync.service

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}

say() {
	printf '%s\n' "$*"
}

usage() {
	cat >&2 <<'EOF'
usage: install.sh [--prefix DIR] [--arch ARCH] [--no-start] [--instance NAME]
       install.sh --uninstall [--purge] [--prefix DIR] [--instance NAME]
  --prefix DIR  install the binary in DIR/bin, man pages in DIR/share/man
                (default /usr/local)
  --arch ARCH   x86_64, aarch64, armhf or armel (default: this machine's)
  --no-start    install, but do not enable or start the service
  --uninstall   remove the service, binary and man pages; keep the config
                (/etc/invsync) and the state (/var/lib/invsync)
  --purge       with --uninstall: also remove config, tokens, state and the
                invsync user
  --instance NAME  the service invsync@NAME (NAME of a-z, 0-9 and '-') for
                /etc/invsync/NAME.conf, beside the plain invsync service;
                with --uninstall only that instance is removed
DESTDIR=DIR in the environment installs below DIR (packagers, tests).
EOF
	exit 2
}

# Runs "$@", or only prints it when DESTDIR is set (no system changes).
sys() {
	if [ -n "$DESTDIR" ]; then
		say "would run: $*"
	else
		"$@"
	fi
}

# Prints whether user $SVC_USER exists on this machine (exit status).
user_exists() {
	getent passwd "$SVC_USER" >/dev/null 2>&1
}

# chown "$@" when we can: always as root without DESTDIR; with DESTDIR
# only when running as root and the user exists here.
own() {
	if [ -z "$DESTDIR" ]; then
		chown "$@"
	elif [ "$(id -u)" -eq 0 ] && user_exists; then
		chown "$@"
	else
		say "would run: chown $*"
	fi
}

while [ $# -gt 0 ]; do
	case $1 in
	--prefix)
		[ $# -ge 2 ] || usage
		PREFIX=$2
		shift 2
		;;
	--prefix=*)
		PREFIX=${1#--prefix=}
		shift
		;;
	--arch)
		[ $# -ge 2 ] || usage
		ARCH=$2
		shift 2
		;;
	--arch=*)
		ARCH=${1#--arch=}
		shift
		;;
	--uninstall) ACTION=uninstall; shift ;;
	--purge) PURGE=1; shift ;;
	--no-start) START=0; shift ;;
	--instance)
		[ $# -ge 2 ] || usage
		INSTANCE=$2
		INSTANCE_SET=1
		shift 2
		;;
	--instance=*)
		INSTANCE=${1#--instance=}
		INSTANCE_SET=1
		shift
		;;
	-h | --help) usage ;;
	*) printf '%s: unknown argument: %s\n' "$PROG" "$1" >&2; usage ;;
	esac
done
[ "$PURGE" -eq 0 ] || [ "$ACTION" = uninstall ] ||
	die "--purge only goes with --uninstall"
case $INSTANCE in
*[!a-z0-9-]*) die "--instance NAME must be of a-z, 0-9 and '-', not '$INSTANCE'" ;;
invsync) die "--instance invsync would be the plain service's config; choose another name" ;;
esac
[ -n "$INSTANCE" ] || [ "$INSTANCE_SET" -eq 0 ] || die "--instance needs a NAME"
case $PREFIX in
/*) PREFIX=${PREFIX%/} ;;
*) die "--prefix must be an absolute path, not '$PREFIX'" ;;
esac
case $SVC_USER in
'' | *[!a-z0-9_-]*) die "INVSYNC_USER must be a user name, not '$SVC_USER'" ;;
esac
if [ -n "$DESTDIR" ]; then
	case $DESTDIR in
	/*) DESTDIR=${DESTDIR%/} ;;
	*) die "DESTDIR must be an absolute path, not '$DESTDIR'" ;;
	esac
fi

BIN=$PREFIX/bin/invsync
MAN8=$PREFIX/share/man/man8/invsync.8
MAN5=$PREFIX/share/man/man5/invsync.conf.5
DOC=$PREFIX/share/doc/invsync
SRC=$(cd "$(dirname "$0")" && pwd)
D=$DESTDIR

# The service this run sets up: invsync, or the instance invsync@NAME of
# the template unit, with its own config and state directory.
TEMPLATE=invsync@.service
SERVICE=invsync
INST_STATE=
if [ -n "$INSTANCE" ]; then
	SERVICE=invsync@$INSTANCE
	CONF=$CONF_DIR/$INSTANCE.conf
	INST_STATE=$STATE_DIR/$INSTANCE
fi
CHECK="$BIN check"
[ -z "$INSTANCE" ] || CHECK="$BIN -c $CONF check"

# Checks the machine: root, systemd (both only without DESTDIR).
check_root() {
	[ -n "$DESTDIR" ] && return 0
	[ "$(id -u)" -eq 0 ] ||
		die "must be run as root: sudo sh $0${1:+ $1}"
}

check_systemd() {
	[ -n "$DESTDIR" ] && return 0
	if [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null
	then
		die "systemd is not running here (no /run/systemd/system);" \
		    "invsync's installer needs systemd (Debian, Raspberry Pi" \
		    "OS, Ubuntu).  Elsewhere run '$BIN run' under your init" \
		    "system, or use DESTDIR=DIR to only lay out the files."
	fi
}

# Prints the invsync ARCH of this machine: the userland's, which is what
# systemd's SystemCallArchitectures=native means (a 32-bit Raspberry Pi OS
# on a 64-bit kernel reports "uname -m" aarch64 but needs armhf; Raspbian's
# armhf on an ARMv6 Pi Zero/1 needs armel).
detect_arch() {
	m=$(uname -m)
	d=
	if command -v dpkg >/dev/null 2>&1; then
		d=$(dpkg --print-architecture 2>/dev/null) || d=
	fi
	case $d in
	amd64) echo x86_64 ;;
	arm64) echo aarch64 ;;
	armhf)
		case $m in
		armv6* | armv5*) echo armel ;;
		*) echo armhf ;;
		esac
		;;
	armel) echo armel ;;
	'')
		case $m in
		x86_64 | amd64) echo x86_64 ;;
		aarch64 | arm64) echo aarch64 ;;
		armv7* | armv8*) echo armhf ;;
		armv6* | armv5*) echo armel ;;
		*) echo "unsupported:$m" ;;
		esac
		;;
	*) echo "unsupported:$d ($m)" ;;
	esac
}

check_arch() {
	[ -n "$ARCH" ] || ARCH=$(detect_arch)
	case $ARCH in
	x86_64 | aarch64 | armhf | armel) ;;
	unsupported:*)
		die "unsupported machine architecture ${ARCH#unsupported:};" \
		    "invsync is built for x86_64, aarch64, armhf (ARMv7) and" \
		    "armel (ARMv6, Pi Zero/1)"
		;;
	*) die "unsupported --arch '$ARCH': use x86_64, aarch64, armhf or armel" ;;
	esac
}

# Sets NEWBIN to the binary to install: the release tarball's, or a fresh
# build in a source checkout.
find_binary() {
	if [ -f "$SRC/bin/invsync-$ARCH" ]; then
		NEWBIN=$SRC/bin/invsync-$ARCH
	elif [ -f "$SRC/Makefile" ] && [ -f "$SRC/agent/main.c" ]; then
		if [ "$ARCH" = x86_64 ]; then
			NEWBIN=$SRC/build/invsync
		else
			NEWBIN=$SRC/build/$ARCH/invsync
		fi
		if [ "$(uname -m)" = x86_64 ]; then
			say "building invsync for $ARCH (make ARCH=$ARCH)"
			if [ -n "${SUDO_USER:-}" ] && [ "$(id -u)" -eq 0 ] &&
			    command -v runuser >/dev/null 2>&1; then
				runuser -u "$SUDO_USER" -- \
				    make -C "$SRC" ARCH="$ARCH" >&2 ||
				    die "make ARCH=$ARCH failed in $SRC"
			else
				make -C "$SRC" ARCH="$ARCH" >&2 ||
				    die "make ARCH=$ARCH failed in $SRC"
			fi
		elif [ ! -f "$NEWBIN" ]; then
			die "no $NEWBIN: the build cross-compiles on x86_64 only;" \
			    "run 'make dist' there and use the tarball's install.sh"
		fi
	else
		die "no bin/invsync-$ARCH next to $0 (and not a source" \
		    "checkout): use the release tarball for this machine"
	fi
	[ -f "$NEWBIN" ] || die "$NEWBIN is missing"
	for f in conf/invsync.conf.example conf/invsync.service \
	    conf/invsync@.service man/invsync.8 man/invsync.conf.5; do
		[ -f "$SRC/$f" ] || die "$SRC/$f is missing (incomplete tarball?)"
	done
}

# Checks that the binary runs here (the right architecture).
check_binary_runs() {
	[ -n "$DESTDIR" ] && [ "$ARCH" != "$(detect_arch)" ] && return 0
	"$NEWBIN" version >/dev/null 2>&1 ||
		die "$NEWBIN does not run on this machine (wrong architecture" \
		    "'$ARCH'? this machine is $(uname -m))"
}

# Finds a CA bundle for TLS; an error without DESTDIR, a note with it.
check_ca() {
	if [ -n "${SSL_CERT_FILE:-}" ] && [ -r "$SSL_CERT_FILE" ]; then
		return 0
	fi
	looked=
	for f in $CA_FILES; do
		[ -r "$f" ] && return 0
		looked="$looked $f"
	done
	if [ -n "$DESTDIR" ]; then
		say "note: no CA certificate bundle here; the target machine needs one (package ca-certificates)"
		return 0
	fi
	die "no CA certificate bundle found (looked for:$looked);" \
	    "invsync needs one for HTTPS: apt-get install ca-certificates"
}

# Creates the system user and group (prints it with DESTDIR).
make_user() {
	if user_exists; then
		return 0
	fi
	if [ -n "$DESTDIR" ]; then
		say "would run: useradd --system --user-group --home-dir $STATE_DIR --no-create-home --shell /usr/sbin/nologin --comment invsync $SVC_USER"
		return 0
	fi
	if command -v useradd >/dev/null 2>&1; then
		useradd --system --user-group --home-dir "$STATE_DIR" \
		    --no-create-home --shell /usr/sbin/nologin \
		    --comment invsync "$SVC_USER"
	elif command -v adduser >/dev/null 2>&1; then
		adduser -S -D -H -h "$STATE_DIR" -s /sbin/nologin "$SVC_USER"
	else
		die "neither useradd nor adduser found: create system user $SVC_USER"
	fi
	say "created system user $SVC_USER"
}

# Installs file $1 as $2 with mode $3, atomically (a temporary file
# renamed over the old one, so a running binary is never half written).
put() {
	tmp=$2.new.$$
	install -m "$3" "$1" "$tmp"
	mv -f "$tmp" "$2"
}

# Lists the secret files the config names, resolved as invsync does when
# run by hand: "STORE LINE KEY PATH", and shops: "STORE LINE shop VALUE".
conf_entries() {
	awk '
	function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
	{
		line = $0
		sub(/\r$/, "", line)
		if (line ~ /^[ \t]*#/) next
		sub(/[ \t]#.*$/, "", line)
		line = trim(line)
		if (line == "") next
		if (line ~ /^\[/) {
			store = ""
			if (line ~ /^\[[ \t]*store[ \t]/) {
				store = line
				sub(/^\[[ \t]*store[ \t]+/, "", store)
				sub(/[ \t]*\].*$/, "", store)
			}
			next
		}
		if (store == "" || index(line, "=") == 0) next
		key = trim(substr(line, 1, index(line, "=") - 1))
		val = trim(substr(line, index(line, "=") + 1))
		if (key == "shop" || key == "token_file" || key == "client_secret_file")
			print store, NR, key, val
	}' "$1"
}

# Checks the installed config; prints what is missing.  Returns 0 when
# nothing obvious is missing (then "invsync check" decides).
conf_todo() {
	todo=0
	if [ ! -e "$D$CONF" ]; then
		say "  - $CONF does not exist: create it with"
		say "        sudo $BIN -c $CONF init"
		say "    (it asks for the stores and their tokens, then runs check)"
		return 1
	fi
	if cmp -s "$D$CONF" "$SRC/conf/invsync.conf.example"; then
		say "  - $CONF is the example: set each [store NAME] to your shops,"
		say "    or let 'sudo $BIN init' ask for them and write it"
		todo=1
	fi
	conf_entries "$D$CONF" >"$WORK/entries"
	while read -r store line key val; do
		case $key in
		shop)
			case $val in
			urbanwear-eu.myshopify.com | urbanwear-us.myshopify.com)
				say "  - $CONF line $line: [store $store] shop = $val is the example; put your NAME.myshopify.com"
				todo=1
				;;
			esac
			;;
		token_file | client_secret_file)
			case $val in
			/*) path=$val ;;
			*) path=$CONF_DIR/$val ;;
			esac
			if [ -e "$D$path" ]; then
				fix_secret "$path"
				continue
			fi
			todo=1
			what="Admin API access token (shpat_...)"
			[ "$key" = token_file ] || what="app client secret"
			say "  - $CONF line $line: [store $store] $key $path does not exist; create it with"
			say "        sudo install -m 600 -o $SVC_USER -g $SVC_USER /dev/stdin $path"
			say "    then paste the $what, press Enter and Ctrl-D"
			;;
		esac
	done <"$WORK/entries"
	return "$todo"
}

# An existing secret file keeps its content; group/other bits are removed.
fix_secret() {
	mode=$(stat -c %a "$D$1")
	case $mode in
	*00) ;;
	*)
		chmod go= "$D$1"
		say "removed group/other access from $1 (was mode $mode)"
		;;
	esac
}

# Runs "invsync check" as the service user, so that it also proves the
# user can read the config and the tokens; as root when a drop-in passes
# the tokens with LoadCredential= (then only root and systemd read them).
run_check() {
	if grep -qs '^LoadCredential' "$UNIT_DIR/$SERVICE.service.d"/*.conf \
	    "$UNIT_DIR/$TEMPLATE.d"/*.conf; then
		"$BIN" -c "$CONF" check
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$SVC_USER" -- "$BIN" -c "$CONF" check
	else
		su -s /bin/sh "$SVC_USER" -c "'$BIN' -c '$CONF' check"
	fi
}

do_install() {
	check_root
	check_arch
	find_binary
	check_binary_runs
	check_ca
	check_systemd

	upgrade=0
	[ -e "$D$BIN" ] && upgrade=1
	make_user

	install -d -m 755 "$D$PREFIX/bin" "$D$PREFIX/share/man/man8" \
	    "$D$PREFIX/share/man/man5" "$D$DOC" "$D$UNIT_DIR"
	put "$NEWBIN" "$D$BIN" 755
	put "$SRC/man/invsync.8" "$D$MAN8" 644
	put "$SRC/man/invsync.conf.5" "$D$MAN5" 644
	for f in README.md LICENSES/*; do
		[ -f "$SRC/$f" ] || continue
		install -d -m 755 "$D$DOC/$(dirname "$f")"
		put "$SRC/$f" "$D$DOC/$f" 644
	done

	# config: the example is always refreshed, the config never replaced
	install -d -m 750 "$D$CONF_DIR"
	own "root:$SVC_USER" "$D$CONF_DIR"
	put "$SRC/conf/invsync.conf.example" "$D$CONF_DIR/invsync.conf.example" 644
	if [ -e "$D$CONF" ]; then
		say "kept $CONF"
	elif [ -z "$INSTANCE" ]; then
		install -m 640 "$SRC/conf/invsync.conf.example" "$D$CONF"
		say "created $CONF from the example"
	fi
	if [ -e "$D$CONF" ]; then
		chmod 640 "$D$CONF"
		own "root:$SVC_USER" "$D$CONF"
	fi

	install -d -m 700 "$D$STATE_DIR"
	own "$SVC_USER:$SVC_USER" "$D$STATE_DIR"
	if [ -n "$INSTANCE" ]; then
		install -d -m 700 "$D$INST_STATE"
		own "$SVC_USER:$SVC_USER" "$D$INST_STATE"
	fi

	# both units, always: an upgrade keeps them in step with the binary
	for u in "$UNIT" "$TEMPLATE"; do
		sed -e "s|/usr/local/bin/invsync|$BIN|g" \
		    -e "s|^User=invsync\$|User=$SVC_USER|" \
		    -e "s|^Group=invsync\$|Group=$SVC_USER|" \
		    "$SRC/conf/$u" >"$WORK/$u"
		put "$WORK/$u" "$D$UNIT_DIR/$u" 644
	done
	sys systemctl daemon-reload

	if [ "$upgrade" -eq 1 ]; then
		say "upgraded $BIN to $("$NEWBIN" version 2>/dev/null | head -n 1)"
		if instances | grep -qvx "$INSTANCE"; then
			say "other instances run the old binary until:" \
			    "sudo systemctl try-restart 'invsync@*'"
		fi
	else
		say "installed $BIN ($ARCH)"
	fi

	say ""
	if ! conf_todo; then
		say ""
		say "$SERVICE is installed but not started: fill in the above, then"
		say "  sudo -u $SVC_USER $CHECK"
		say "  sudo systemctl enable --now $SERVICE"
		say "(or run this script again).  See: man invsync.conf"
		return 0
	fi
	if [ "$START" -eq 0 ]; then
		say "--no-start: when ready run: sudo systemctl enable --now $SERVICE"
		return 0
	fi
	if [ -n "$DESTDIR" ]; then
		say "would run: runuser -u $SVC_USER -- $BIN -c $CONF check"
		say "would run: systemctl enable $SERVICE"
		say "would run: systemctl restart $SERVICE"
		return 0
	fi
	was_active=0
	systemctl is-active --quiet "$SERVICE" && was_active=1
	say "checking the configuration: $BIN -c $CONF check"
	set +e
	run_check
	rc=$?
	set -e
	case $rc in
	0)
		systemctl enable "$SERVICE"
		systemctl restart "$SERVICE"
		say ""
		say "$SERVICE is running: systemctl status $SERVICE;" \
		    "journalctl -u $SERVICE -f;" \
		    "sudo -u $SVC_USER $BIN${INSTANCE:+ -c $CONF} status"
		;;
	78)
		say ""
		say "$SERVICE is installed but not started: $CONF has the errors" \
		    "listed above (FILE:LINE: message).  Fix them, then run"
		say "  sudo -u $SVC_USER $CHECK"
		say "  sudo systemctl enable --now $SERVICE"
		;;
	*)
		if [ "$was_active" -eq 1 ]; then
			systemctl restart "$SERVICE"
			say ""
			say "'invsync check' found the problems listed above" \
			    "(exit $rc); the service was running and now runs" \
			    "the new binary: systemctl status $SERVICE"
			return 0
		fi
		say ""
		say "$SERVICE is installed but not started: 'invsync check'" \
		    "found the problems listed above (exit $rc).  Fix them" \
		    "(man invsync: troubleshooting), then run"
		say "  sudo -u $SVC_USER $CHECK"
		say "  sudo systemctl enable --now $SERVICE"
		;;
	esac
}

# Prints the instance names that have a config: /etc/invsync/NAME.conf.
instances() {
	for c in "$D$CONF_DIR"/*.conf; do
		[ -f "$c" ] || continue
		n=${c##*/}
		n=${n%.conf}
		case $n in
		invsync | '' | *[!a-z0-9-]*) ;;
		*) echo "$n" ;;
		esac
	done
}

# Removes the secret files of config $1 that lie directly in $CONF_DIR.
purge_secrets() {
	conf_entries "$1" >"$WORK/entries"
	while read -r _ _ key val; do
		case $key in token_file | client_secret_file) ;; *) continue ;; esac
		case $val in
		/*) path=$val ;;
		*) path=$CONF_DIR/$val ;;
		esac
		case $path in
		"$CONF_DIR"/*/* | *..*) ;;
		"$CONF_DIR"/*) rm -f "$D$path" && say "removed $path" ;;
		esac
	done <"$WORK/entries"
}

# --uninstall --instance NAME: that instance only; the binary, man pages
# and both units stay for the other services.
uninstall_instance() {
	sys systemctl disable --now "$SERVICE" || true
	rm -rf "$D$UNIT_DIR/$SERVICE.service.d"
	say "stopped and disabled $SERVICE; kept $BIN and the units for" \
	    "the other services"
	if [ "$PURGE" -eq 0 ]; then
		say "kept $CONF and $INST_STATE; remove them with:" \
		    "sh $0 --uninstall --instance $INSTANCE --purge"
		return 0
	fi
	[ ! -f "$D$CONF" ] || purge_secrets "$D$CONF"
	rm -f "$D$CONF"
	rm -rf "$D$INST_STATE"
	say "removed $CONF and $INST_STATE"
}

do_uninstall() {
	check_root "--uninstall"
	check_systemd
	if [ -n "$INSTANCE" ]; then
		uninstall_instance
		return 0
	fi
	if [ -n "$DESTDIR" ] || [ -e "$UNIT_DIR/$UNIT" ]; then
		sys systemctl disable --now invsync || true
	fi
	for n in $(instances); do
		sys systemctl disable --now "invsync@$n" || true
	done
	rm -f "$D$UNIT_DIR/$UNIT" "$D$UNIT_DIR/$TEMPLATE" "$D$BIN" "$D$MAN8" \
	    "$D$MAN5"
	rm -rf "$D$DOC"
	sys systemctl daemon-reload
	say "removed the invsync services, $BIN and the man pages"
	if [ "$PURGE" -eq 0 ]; then
		say "kept $CONF_DIR (config, tokens) and $STATE_DIR (state);" \
		    "remove them with: sh $0 --uninstall --purge"
		return 0
	fi
	rm -rf "$D$CONF_DIR" "$D$STATE_DIR"
	say "removed $CONF_DIR and $STATE_DIR"
	if user_exists; then
		if [ -n "$DESTDIR" ]; then
			say "would run: userdel $SVC_USER"
		elif command -v userdel >/dev/null 2>&1; then
			userdel "$SVC_USER" && say "removed user $SVC_USER"
		else
			deluser "$SVC_USER" && say "removed user $SVC_USER"
		fi
	fi
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/invsync-install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 1' HUP INT TERM

if [ "$ACTION" = install ]; then
	do_install
else
	do_uninstall
fi
