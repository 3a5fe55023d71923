#!/usr/bin/env bash
# lteproxy installer: one command on Debian 12/13 or Ubuntu 24.04, idempotent; running it again upgrades.
#
#   sudo ./appliance/install.sh                      install or upgrade this box
#   sudo ./appliance/install.sh --dry-run            show what would change, change nothing
#   sudo ./appliance/install.sh --root /srv/image    stage into an image root; nothing is started
#
# What it changes on the box is listed in docs/install.md. The release tarball and the repository share a layout:
# this script sits in appliance/, next to udev/, systemd/ and the lteproxy binary.
set -euo pipefail
umask 022

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$SCRIPT_DIR")

ROOT=""
DRY_RUN=0
BINARY=""
HTTP_PORT_OPT=""
LAN_OPT=""
PORTS_OPT=""
ENGINE_OPT="auto"
SKIP_PACKAGES=0
IGNORE_OS=0
READY_TIMEOUT=120

PACKAGES=(postgresql libqmi-utils udhcpc iproute2 nftables)
UNITS=(lteproxy.service lteproxy-proxy.service lteproxy-dns-relay.service lteproxy-db-setup.service 3proxy@.service)
DEFAULT_LAN="10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16"

usage() {
  cat <<'EOF'
Usage: install.sh [options]

  --binary PATH        the lteproxy executable (default: lteproxy or lteproxy-linux-<arch> next to appliance/,
                       or dist/lteproxy-linux-<arch>)
  --root DIR           install into DIR (an image root) without starting anything or touching this system;
                       apt and useradd run through chroot when DIR holds a Debian userland
  --dry-run            print every change instead of making it
  --http-port N        panel port for a new configuration (default 8080)
  --lan CIDR[,CIDR]    networks allowed to reach the proxy ports and the panel (default: this box's LAN)
  --proxy-ports A-B    proxy port range for a new configuration (default 3128-4127)
  --engine E           builtin, 3proxy or auto (default auto: 3proxy when the distribution offers it)
  --no-packages        do not run apt (packages are managed elsewhere)
  --ignore-os          install on an OS other than Debian 12/13 or Ubuntu 24.04
  --ready-timeout S    seconds to wait for /readyz (default 120)
  -h, --help           this text

Options for a new configuration are ignored when /etc/lteproxy/lteproxy.toml exists: edit that file and run the
installer again to apply firewall changes.
EOF
}

while (($#)); do
  case "$1" in
    --binary) BINARY="${2:?--binary needs a path}"; shift 2 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --http-port) HTTP_PORT_OPT="${2:?--http-port needs a number}"; shift 2 ;;
    --lan) LAN_OPT="${2:?--lan needs networks}"; shift 2 ;;
    --proxy-ports) PORTS_OPT="${2:?--proxy-ports needs A-B}"; shift 2 ;;
    --engine) ENGINE_OPT="${2:?--engine needs builtin, 3proxy or auto}"; shift 2 ;;
    --no-packages) SKIP_PACKAGES=1; shift ;;
    --ignore-os) IGNORE_OS=1; shift ;;
    --ready-timeout) READY_TIMEOUT="${2:?--ready-timeout needs seconds}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

for f in lib.sh install-system.sh install-services.sh; do
  [[ -f "$SCRIPT_DIR/$f" ]] || { echo "error: $SCRIPT_DIR/$f is missing: the appliance/ folder is incomplete" >&2; exit 1; }
done
# shellcheck source=appliance/lib.sh
. "$SCRIPT_DIR/lib.sh"
# shellcheck source=appliance/install-system.sh
. "$SCRIPT_DIR/install-system.sh"
# shellcheck source=appliance/install-services.sh
. "$SCRIPT_DIR/install-services.sh"

TOTAL_STEPS=10
trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR
trap cleanup EXIT

# --- 1 -----------------------------------------------------------------------------------------------------------
step "Checking the system"
if [[ -n "$ROOT" ]]; then
  [[ -d "$ROOT" ]] || die "--root $ROOT is not a directory"
  ROOT=$(cd "$ROOT" && pwd)
  [[ "$ROOT" != "/" ]] || die "--root / would change this system: run without --root instead"
  info "staging into $ROOT: nothing will be started"
fi
[[ $(id -u) -eq 0 ]] || ((DRY_RUN)) || die "run as root (sudo $0 ...)"
((DRY_RUN)) && info "dry run: nothing will be changed"

check_os
check_arch
if [[ -z "$ROOT" ]] && ! ((DRY_RUN)); then
  [[ -d /run/systemd/system ]] || die "systemd is not running here; stage an image with --root DIR instead"
fi
find_binary
for f in "udev/99-lteproxy-ec25.rules" "appliance/lteproxy.toml.in" "appliance/nftables.nft.in" \
  "appliance/sysctl.conf" "appliance/db-setup.sh" "appliance/uninstall.sh" "appliance/polkit-lteproxy.rules" \
  "systemd/3proxy@.service.d/50-lteproxy-limits.conf"; do
  [[ -f "$SRC_DIR/$f" ]] || die "missing $SRC_DIR/$f: run the installer from the release tarball or the repository"
done
for u in "${UNITS[@]}"; do [[ -f "$SRC_DIR/systemd/$u" ]] || die "missing $SRC_DIR/systemd/$u"; done
HAVE_USERLAND=0
if [[ -z "$ROOT" ]] || [[ -x "$ROOT/usr/sbin/useradd" && -x "$ROOT/usr/bin/dpkg-query" ]]; then HAVE_USERLAND=1; fi

# --- 2 -----------------------------------------------------------------------------------------------------------
step "Installing packages"
install_packages

# --- 3 -----------------------------------------------------------------------------------------------------------
step "Creating users"
ensure_users

# --- 4 -----------------------------------------------------------------------------------------------------------
step "Writing the configuration"
write_config

# --- 5 -----------------------------------------------------------------------------------------------------------
step "Installing the binary"
put_file "$BIN_SRC" /usr/local/bin/lteproxy 0755 root:root
BINARY_CHANGED=$LAST_CHANGED
put_file "$SRC_DIR/appliance/db-setup.sh" /usr/local/lib/lteproxy/db-setup.sh 0755 root:root
put_file "$SRC_DIR/appliance/uninstall.sh" /usr/local/lib/lteproxy/uninstall.sh 0755 root:root
put_file "$SRC_DIR/appliance/lib.sh" /usr/local/lib/lteproxy/lib.sh 0644 root:root
for doc in install.md operations.md architecture.md; do
  if [[ -f "$SRC_DIR/docs/$doc" ]]; then put_file "$SRC_DIR/docs/$doc" "/usr/local/share/doc/lteproxy/$doc" 0644 root:root; fi
done

# --- 6 -----------------------------------------------------------------------------------------------------------
step "Installing the udev rules"
put_file "$SRC_DIR/udev/99-lteproxy-ec25.rules" /etc/udev/rules.d/99-lteproxy-ec25.rules 0644 root:root
if [[ -z "$ROOT" ]] && udevadm control --ping >/dev/null 2>&1; then
  run udevadm control --reload
  # "change", not "add": a modem's wwan may be up already, and raw_ip can only be set on "add" (link down).
  run udevadm trigger --action=change --subsystem-match=usb --subsystem-match=tty --subsystem-match=usbmisc --subsystem-match=net
  run udevadm settle --timeout=30 || warn "udevadm settle timed out; links under /dev/modems may appear late"
else
  info "udev is not running here: the rules apply from the next boot"
fi

# --- 7 -----------------------------------------------------------------------------------------------------------
step "Installing the systemd units"
UNITS_CHANGED=0
for u in "${UNITS[@]}"; do
  put_file "$SRC_DIR/systemd/$u" "/etc/systemd/system/$u" 0644 root:root
  ((LAST_CHANGED)) && UNITS_CHANGED=1
done
# Limits are defaults the operator may tune: written once, never overwritten.
put_file_once "$SRC_DIR/systemd/3proxy@.service.d/50-lteproxy-limits.conf" \
  /etc/systemd/system/3proxy@.service.d/50-lteproxy-limits.conf 0644 root:root
install_3proxy_binary_dropin
put_file "$SRC_DIR/appliance/polkit-lteproxy.rules" /etc/polkit-1/rules.d/50-lteproxy.rules 0644 root:root
if [[ -z "$ROOT" ]] && ((UNITS_CHANGED)); then run systemctl daemon-reload; fi

# --- 8 -----------------------------------------------------------------------------------------------------------
step "Kernel settings and firewall"
put_file "$SRC_DIR/appliance/sysctl.conf" /etc/sysctl.d/90-lteproxy.conf 0644 root:root
if [[ -z "$ROOT" ]]; then
  run "$(command -v systemd-sysctl || echo /lib/systemd/systemd-sysctl)" /etc/sysctl.d/90-lteproxy.conf \
    || warn "some sysctl settings could not be applied now; they apply at boot"
fi
write_firewall

# --- 9 -----------------------------------------------------------------------------------------------------------
step "Setting up the database"
setup_database

# --- 10 ----------------------------------------------------------------------------------------------------------
step "Enabling and starting the services"
enable_and_start

summary
