#!/usr/bin/env bash
# lteproxy uninstaller: withdraws lteproxy's routes and rules, stops its services and removes what
# appliance/install.sh added. The database, the configuration (it holds the database password) and the data
# directory stay unless --purge. Also installed as /usr/local/lib/lteproxy/uninstall.sh.
#
#   sudo /usr/local/lib/lteproxy/uninstall.sh            remove lteproxy, keep its data
#   sudo /usr/local/lib/lteproxy/uninstall.sh --purge    also drop the database, config, data, logs and users
set -euo pipefail
umask 022

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=""
DRY_RUN=0
PURGE=0

usage() {
  cat <<'EOF'
Usage: uninstall.sh [--purge] [--dry-run] [--root DIR]

  --purge      also drop the lteproxy database and role, /etc/lteproxy, /var/lib/lteproxy, the 3proxy logs and
               counters, and the users lteproxy and lteproxy-3proxy
  --dry-run    print every change instead of making it
  --root DIR   remove from a staging root made with install.sh --root (nothing is stopped)
EOF
}

while (($#)); do
  case "$1" in
    --purge) PURGE=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

[[ -f "$SCRIPT_DIR/lib.sh" ]] || { echo "error: $SCRIPT_DIR/lib.sh is missing" >&2; exit 1; }
# shellcheck source=appliance/lib.sh
. "$SCRIPT_DIR/lib.sh"
TOTAL_STEPS=5
trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR
trap cleanup EXIT

UNITS=(lteproxy.service lteproxy-proxy.service lteproxy-dns-relay.service lteproxy-db-setup.service 3proxy@.service)
CFG=/etc/lteproxy/lteproxy.toml

# ip rules pointing at our routing tables, and the tables themselves: what `lteproxy down` does, for when the
# binary is gone or fails. Tables are [proxy] table_min..table_max (default 100-999).
withdraw_routes_fallback() {
  local tmin tmax fam pref table t tables=()
  tmin=$(toml_get "$(P "$CFG")" proxy table_min)
  tmax=$(toml_get "$(P "$CFG")" proxy table_max)
  tmin=${tmin:-100} tmax=${tmax:-999}
  for fam in -4 -6; do
    while read -r pref table; do
      [[ "$table" =~ ^[0-9]+$ ]] && ((table >= tmin && table <= tmax)) || continue
      run ip "$fam" rule del pref "${pref%:}" && info "- ip $fam rule $pref lookup $table"
    done < <(ip "$fam" rule show 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "lookup") print $1, $(i + 1) }')
    while read -r t; do
      ((t >= tmin && t <= tmax)) || continue
      tables+=("$t")
    done < <(ip "$fam" route show table all 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "table" && $(i + 1) ~ /^[0-9]+$/) print $(i + 1) }' | sort -un)
    for t in "${tables[@]}"; do run ip "$fam" route flush table "$t" && info "- ip $fam route table $t"; done
    tables=()
  done
}

# --- 1 -----------------------------------------------------------------------------------------------------------
step "Checking"
if [[ -n "$ROOT" ]]; then
  [[ -d "$ROOT" ]] || die "--root $ROOT is not a directory"
  ROOT=$(cd "$ROOT" && pwd)
  [[ "$ROOT" != "/" ]] || die "--root / would change this system: run without --root instead"
fi
[[ $(id -u) -eq 0 ]] || ((DRY_RUN)) || die "run as root (sudo $0 ...)"
if ((DRY_RUN)); then info "dry run: nothing will be changed"; fi
if ((PURGE)); then info "purge: the database, configuration, data and users go too"; fi

# --- 2 -----------------------------------------------------------------------------------------------------------
step "Stopping lteproxy and withdrawing its routes"
if [[ -z "$ROOT" ]]; then
  # The control plane first, so that it cannot put back what `down` removes.
  if systemctl is-active --quiet lteproxy.service 2>/dev/null; then run systemctl stop lteproxy.service; fi
  if [[ -x /usr/local/bin/lteproxy ]] && run timeout 60 /usr/local/bin/lteproxy down; then
    info "lteproxy down: proxies, routes and rules withdrawn"
  else
    warn "lteproxy down not available or failed: removing rules and tables in the configured range directly"
    withdraw_routes_fallback
  fi
  mapfile -t instances < <(systemctl list-units --all --plain --no-legend '3proxy@*.service' 2>/dev/null | awk '{ print $1 }')
  for u in lteproxy-proxy.service "${instances[@]}" lteproxy-dns-relay.service lteproxy-db-setup.service; do
    if systemctl is-active --quiet "$u" 2>/dev/null; then run systemctl stop "$u"; info "stopped $u"; fi
  done
fi
for u in lteproxy.service lteproxy-proxy.service lteproxy-dns-relay.service lteproxy-db-setup.service; do disable_unit "$u"; done

# --- 3 -----------------------------------------------------------------------------------------------------------
step "Removing files"
for u in "${UNITS[@]}"; do remove_path "/etc/systemd/system/$u"; done
remove_path /etc/systemd/system/3proxy@.service.d/50-lteproxy-limits.conf
remove_path /etc/systemd/system/3proxy@.service.d/40-lteproxy-binary.conf
if [[ -d "$(P /etc/systemd/system/3proxy@.service.d)" ]] && [[ -z "$(ls -A "$(P /etc/systemd/system/3proxy@.service.d)")" ]]; then
  remove_path /etc/systemd/system/3proxy@.service.d
fi
remove_path /etc/udev/rules.d/99-lteproxy-ec25.rules
remove_path /etc/polkit-1/rules.d/50-lteproxy.rules
for d in /etc/polkit-1/rules.d /etc/polkit-1 /etc/udev/rules.d; do
  if [[ -d "$(P "$d")" ]] && [[ -z "$(ls -A "$(P "$d")")" ]] && ! q_root dpkg -S "$d" >/dev/null 2>&1; then remove_path "$d"; fi
done
remove_path /etc/sysctl.d/90-lteproxy.conf
remove_path /etc/nftables.d/lteproxy.nft
if [[ -d "$(P /etc/nftables.d)" ]] && [[ -z "$(ls -A "$(P /etc/nftables.d)")" ]]; then remove_path /etc/nftables.d; fi
conf=$(P /etc/nftables.conf)
if [[ -f "$conf" ]] && grep -qF 'include "/etc/nftables.d/lteproxy.nft"' "$conf"; then
  if ((DRY_RUN)); then
    info "~ /etc/nftables.conf (would drop the lteproxy include)"
  else
    # Our comment line, the include, and the blank line the installer put before them.
    awk '
      { line[NR] = $0 }
      END {
        for (i = 1; i <= NR; i++) {
          if (line[i] ~ /^# lteproxy \(added by appliance\/install\.sh/) { drop[i] = 1; if (i > 1 && line[i - 1] == "") drop[i - 1] = 1 }
          if (line[i] == "include \"/etc/nftables.d/lteproxy.nft\"") drop[i] = 1
        }
        for (i = 1; i <= NR; i++) if (!drop[i]) print line[i]
      }' "$conf" >"$conf.lteproxy-new"
    chmod --reference="$conf" "$conf.lteproxy-new"
    mv -f "$conf.lteproxy-new" "$conf"
    info "~ /etc/nftables.conf (lteproxy include removed)"
  fi
fi
# Rendered 3proxy configs hold proxy passwords: remove ours (the header says so) and their users files.
for cfg in "$(P /etc/3proxy)"/*.cfg; do
  [[ -f "$cfg" ]] && head -n 1 "$cfg" | grep -q '^# Generated by lteproxy' || continue
  rel=${cfg#"$ROOT"}
  remove_path "$rel"
  remove_path "${rel%.cfg}.passwd"
done
if [[ -d "$(P /etc/3proxy)" ]] && [[ -z "$(ls -A "$(P /etc/3proxy)")" ]]; then remove_path /etc/3proxy; fi
remove_path /usr/local/bin/lteproxy
remove_path /usr/local/share/doc/lteproxy
if [[ -z "$ROOT" ]]; then
  run systemctl daemon-reload
  if nft list table inet lteproxy >/dev/null 2>&1; then run nft delete table inet lteproxy; info "- nft table inet lteproxy"; fi
  if udevadm control --ping >/dev/null 2>&1; then run udevadm control --reload; fi
  info "kernel settings from 90-lteproxy.conf (rp_filter=2, ...) stay in effect until the next boot"
fi

# --- 4 -----------------------------------------------------------------------------------------------------------
step "Data"
if ((PURGE)); then
  url=$(toml_get "$(P "$CFG")" database url)
  re='^postgres(ql)?://lteproxy:[A-Za-z0-9]+@(127\.0\.0\.1|localhost)(:([0-9]+))?/lteproxy$'
  if [[ -z "$ROOT" && "$url" =~ $re ]]; then
    port=${BASH_REMATCH[4]:-5432}
    if ((DRY_RUN)); then
      info "would drop database lteproxy and role lteproxy on port $port"
    elif setpriv --reuid=postgres --regid=postgres --init-groups -- psql -X -q -p "$port" -d postgres \
      -c 'DROP DATABASE IF EXISTS lteproxy' -c 'DROP ROLE IF EXISTS lteproxy'; then
      info "- database lteproxy and role lteproxy"
    else
      warn "could not drop the database (is PostgreSQL running?); drop it by hand: DROP DATABASE lteproxy; DROP ROLE lteproxy"
    fi
  elif [[ -n "$url" && ! "$url" =~ $re ]]; then
    info "external database in [database] url: left alone"
  fi
  for d in /etc/lteproxy /var/lib/lteproxy /var/log/3proxy /var/lib/3proxy /run/lteproxy /run/3proxy; do remove_path "$d"; done
  if [[ -z "$ROOT" || -x "$ROOT/usr/sbin/userdel" ]]; then
    for u in lteproxy-3proxy lteproxy; do
      if user_exists "$u"; then in_root userdel "$u"; info "- user $u"; fi
    done
    if group_exists lteproxy; then in_root groupdel lteproxy; info "- group lteproxy"; fi
  fi
  remove_path /usr/local/lib/lteproxy
else
  info "kept: /etc/lteproxy (configuration and database password), /var/lib/lteproxy, the lteproxy database,"
  info "      users lteproxy and lteproxy-3proxy, and this uninstaller in /usr/local/lib/lteproxy (--purge removes them)"
fi

# --- 5 -----------------------------------------------------------------------------------------------------------
step "Done"
info "packages the installer may have added are kept (postgresql libqmi-utils udhcpc nftables ...):"
info "remove them with apt-get purge if nothing else on this box uses them"
