# shellcheck shell=bash
# install.sh steps 4-10: configuration, firewall, database, services, summary (sourced by install.sh after lib.sh).

valid_cidr() { [[ "$1" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?$ || "$1" =~ ^[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*(/[0-9]{1,3})?$ ]]; }

# Networks of the interface that carries the default route (never a modem's), else the private ranges.
detect_lan() {
  local dev nets
  if [[ -z "$ROOT" ]] && command -v ip >/dev/null 2>&1; then
    dev=$(ip -o -4 route show default 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
    if [[ -n "$dev" && "$dev" != ww* ]]; then
      nets=$(ip -o -4 route show dev "$dev" scope link proto kernel 2>/dev/null | awk '{ print $1 }' | paste -sd, - | sed 's/,/, /g')
      if [[ -n "$nets" ]]; then printf '%s' "$nets"; return 0; fi
    fi
  fi
  printf '%s' "$DEFAULT_LAN"
}

# Reads the settings the later steps need, from the existing file or from what was just generated.
load_settings() {
  local cfg
  cfg=$(P /etc/lteproxy/lteproxy.toml)
  if [[ -f "$cfg" ]]; then
    HTTP_PORT=$(toml_get "$cfg" http port)
    PORT_MIN=$(toml_get "$cfg" proxy port_min)
    PORT_MAX=$(toml_get "$cfg" proxy port_max)
    LAN_LIST=$(toml_list "$(toml_get "$cfg" proxy lan_networks)")
    DB_URL=$(toml_get "$cfg" database url)
    TLS_CERT=$(toml_get "$cfg" http tls_cert)
  fi
  HTTP_PORT=${HTTP_PORT:-8080}
  PORT_MIN=${PORT_MIN:-3128}
  PORT_MAX=${PORT_MAX:-4127}
  TLS_CERT=${TLS_CERT:-}
}

write_config() {
  local cfg=/etc/lteproxy/lteproxy.toml env=/etc/lteproxy/lteproxy.env lan ports net lan_toml=""
  ensure_dir /etc/lteproxy 0750 root:lteproxy
  CONFIG_WRITTEN=0
  if [[ -f "$(P "$cfg")" ]]; then
    set_owner_mode "$cfg" 0600 lteproxy:lteproxy
    info "= $cfg (kept, with its secrets)"
    [[ -z "$HTTP_PORT_OPT$LAN_OPT$PORTS_OPT" ]] || warn "--http-port/--lan/--proxy-ports ignored: edit $cfg instead"
    load_settings
  else
    HTTP_PORT=${HTTP_PORT_OPT:-8080}
    [[ "$HTTP_PORT" =~ ^[0-9]+$ ]] && ((HTTP_PORT >= 1 && HTTP_PORT <= 65535)) || die "--http-port must be 1-65535"
    ports=${PORTS_OPT:-3128-4127}
    [[ "$ports" =~ ^([0-9]+)-([0-9]+)$ ]] || die "--proxy-ports must look like 3128-4127"
    PORT_MIN=${BASH_REMATCH[1]} PORT_MAX=${BASH_REMATCH[2]}
    ((PORT_MIN >= 1 && PORT_MIN <= PORT_MAX && PORT_MAX <= 65535)) || die "--proxy-ports: need 1 <= A <= B <= 65535"
    lan=${LAN_OPT:-$(detect_lan)}
    [[ -n "$LAN_OPT" || -z "$ROOT" ]] || info "no --lan given: allowing the private ranges ($DEFAULT_LAN)"
    LAN_LIST=""
    for net in ${lan//,/ }; do
      valid_cidr "$net" || die "--lan: $net is not an address or network"
      LAN_LIST+="${LAN_LIST:+, }$net"
      lan_toml+="${lan_toml:+, }\"$net\""
    done
    [[ -n "$LAN_LIST" ]] || die "--lan: no networks given"
    DB_URL="postgres://lteproxy:$(gen_hex 16)@127.0.0.1:5432/lteproxy"
    put_content "$cfg" 0600 lteproxy:lteproxy < <(sed -e "s|@HTTP_PORT@|$HTTP_PORT|" \
      -e "s|postgres://lteproxy:@DB_PASSWORD@@127.0.0.1:5432/lteproxy|$DB_URL|" \
      -e "s|@JWT_SECRET@|$(gen_hex 32)|" -e "s|@METRICS_TOKEN@|$(gen_hex 24)|" -e "s|@ENGINE@|$ENGINE|" \
      -e "s|@PORT_MIN@|$PORT_MIN|" -e "s|@PORT_MAX@|$PORT_MAX|" -e "s|@LAN_NETWORKS@|$lan_toml|" \
      "$SRC_DIR/appliance/lteproxy.toml.in")
    CONFIG_WRITTEN=1
  fi
  TLS_CERT=${TLS_CERT:-}

  # First-run admin password: the control plane creates "admin" with it when there are no users yet.
  ADMIN_PASSWORD=""
  if [[ -f "$(P "$env")" ]]; then
    set_owner_mode "$env" 0600 lteproxy:lteproxy
    ADMIN_PASSWORD=$(sed -n 's/^LTEPROXY_ADMIN_PASSWORD=//p' "$(P "$env")" | head -n 1)
    info "= $env"
  elif ((CONFIG_WRITTEN)); then
    ADMIN_PASSWORD=$(gen_password)
    put_content "$env" 0600 lteproxy:lteproxy < <(printf '%s\nLTEPROXY_ADMIN_PASSWORD=%s\n' \
      "# First-run admin password; the installer blanks it once the panel is up." "$ADMIN_PASSWORD")
  else
    # An existing install without the file: its admin exists already, a new password would mislead.
    put_content "$env" 0600 lteproxy:lteproxy < <(printf '# First-run admin password (already used).\nLTEPROXY_ADMIN_PASSWORD=\n')
  fi

  ensure_dir /var/lib/lteproxy 0700 lteproxy:lteproxy
  # Rendered 3proxy configs (proxy.engine = "3proxy"); group lteproxy lets the 3proxy user read them.
  ensure_dir /etc/3proxy 0750 lteproxy:lteproxy
}

install_3proxy_binary_dropin() {
  [[ "$ENGINE" == 3proxy ]] || return 0
  if ! have_3proxy_binary; then
    ((DRY_RUN)) || warn "3proxy binary not found: 3proxy@.service expects /usr/bin/3proxy"
    return 0
  fi
  [[ "$THREEPROXY_BIN" == /usr/bin/3proxy ]] && return 0
  put_content /etc/systemd/system/3proxy@.service.d/40-lteproxy-binary.conf 0644 root:root < <(printf \
    '# Written by install.sh: 3proxy lives at %s on this box.\n[Service]\nExecStart=\nExecStart=%s /etc/3proxy/%%i.cfg\n' \
    "$THREEPROXY_BIN" "$THREEPROXY_BIN")
}

write_firewall() {
  local v4="" v6="" net include='include "/etc/nftables.d/lteproxy.nft"' conf
  for net in ${LAN_LIST//,/ }; do
    if [[ "$net" == *:* ]]; then v6+="${v6:+, }$net"; else v4+="${v4:+, }$net"; fi
  done
  [[ -n "$v4" ]] && v4=$'\t\telements = { '"$v4"' }'
  [[ -n "$v6" ]] && v6=$'\t\telements = { '"$v6"' }'
  ensure_dir /etc/nftables.d 0755 root:root
  put_content /etc/nftables.d/lteproxy.nft 0644 root:root < <(awk -v v4="$v4" -v v6="$v6" \
    -v pmin="$PORT_MIN" -v pmax="$PORT_MAX" -v http="$HTTP_PORT" '
    $0 == "@LAN4_ELEMENTS@" { if (v4 != "") print v4; next }
    $0 == "@LAN6_ELEMENTS@" { if (v6 != "") print v6; next }
    { gsub(/@PORT_MIN@/, pmin); gsub(/@PORT_MAX@/, pmax); gsub(/@HTTP_PORT@/, http); print }
  ' "$SRC_DIR/appliance/nftables.nft.in")
  local fw_changed=$LAST_CHANGED
  conf=$(P /etc/nftables.conf)
  if [[ -f "$conf" ]]; then
    if grep -qxF "$include" "$conf"; then
      info "= /etc/nftables.conf (includes lteproxy.nft)"
    elif ((DRY_RUN)); then
      info "~ /etc/nftables.conf (would append: $include)"
    else
      printf '\n# lteproxy (added by appliance/install.sh; removed by uninstall.sh)\n%s\n' "$include" >>"$conf"
      info "~ /etc/nftables.conf (includes lteproxy.nft)"
    fi
  elif ((DRY_RUN)); then
    info "~ /etc/nftables.conf (would append, once nftables is installed: $include)"
  else
    warn "no /etc/nftables.conf: load /etc/nftables.d/lteproxy.nft from your own firewall setup"
  fi
  if [[ -z "$ROOT" ]] && { ((fw_changed)) || ! nft list table inet lteproxy >/dev/null 2>&1; }; then
    run nft -f /etc/nftables.d/lteproxy.nft || die "nft could not load /etc/nftables.d/lteproxy.nft"
  fi
  info "proxy ports $PORT_MIN-$PORT_MAX and panel port $HTTP_PORT open to: $LAN_LIST"
}

setup_database() {
  local re='^postgres(ql)?://lteproxy:[A-Za-z0-9]+@(127\.0\.0\.1|localhost)(:[0-9]+)?/lteproxy$'
  if [[ ! "$DB_URL" =~ $re ]]; then
    info "external database in [database] url: nothing to create"
    return 0
  fi
  if [[ -n "$ROOT" ]]; then
    info "deferred: lteproxy-db-setup.service creates the role and database on first boot"
    return 0
  fi
  run systemctl enable --quiet --now postgresql.service
  run /usr/local/lib/lteproxy/db-setup.sh /etc/lteproxy/lteproxy.toml || die "database setup failed (see above)"
}

http_status() {
  local url=$1 fd line
  if command -v curl >/dev/null 2>&1; then
    curl -sk -o /dev/null -w '%{http_code}' --max-time 3 "$url" || true
    return 0
  fi
  # No curl on a minimal box: plain HTTP through bash's /dev/tcp.
  [[ "$url" =~ ^http://([^:/]+):([0-9]+)(/.*)$ ]] || { printf '000'; return 0; }
  exec {fd}<>"/dev/tcp/${BASH_REMATCH[1]}/${BASH_REMATCH[2]}" 2>/dev/null || { printf '000'; return 0; }
  printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "${BASH_REMATCH[3]}" >&"$fd"
  read -r -t 3 line <&"$fd" || true
  exec {fd}>&-
  [[ "$line" =~ ^HTTP/[0-9.]+\ ([0-9]{3}) ]] && printf '%s' "${BASH_REMATCH[1]}" || printf '000'
}

wait_ready() {
  local scheme=http url i code=000
  [[ -n "$TLS_CERT" ]] && scheme=https
  url="$scheme://127.0.0.1:$HTTP_PORT/readyz"
  info "waiting for $url (up to ${READY_TIMEOUT}s)"
  for ((i = 0; i < READY_TIMEOUT; i++)); do
    code=$(http_status "$url")
    [[ "$code" == 200 ]] && { info "ready"; return 0; }
    if systemctl is-failed --quiet lteproxy.service; then break; fi
    sleep 1
  done
  systemctl --no-pager --lines=0 status lteproxy.service >&2 || true
  local hint=""
  [[ -n "$ADMIN_PASSWORD" ]] && hint=" The first-run admin password stays in /etc/lteproxy/lteproxy.env."
  die "lteproxy did not become ready (last /readyz answer: $code). See: journalctl -u lteproxy -n 100.$hint"
}

enable_and_start() {
  local u
  for u in postgresql.service nftables.service; do
    if unit_file "$u" >/dev/null; then enable_unit "$u"; else ((DRY_RUN)) || warn "$u not installed: not enabled"; fi
  done
  enable_unit lteproxy-db-setup.service
  enable_unit lteproxy.service
  if [[ "$ENGINE" == builtin ]]; then
    enable_unit lteproxy-proxy.service
    disable_unit lteproxy-dns-relay.service
  else
    disable_unit lteproxy-proxy.service
    enable_unit lteproxy-dns-relay.service
  fi
  if [[ -n "$ROOT" ]]; then
    info "staged: everything starts on the first boot of $ROOT"
    return 0
  fi
  if ((DRY_RUN)); then
    info "would start lteproxy and wait for /readyz"
    return 0
  fi
  run systemctl start lteproxy-db-setup.service
  if ((BINARY_CHANGED || UNITS_CHANGED || CONFIG_WRITTEN)) || ! systemctl is-active --quiet lteproxy.service; then
    # --no-block: wait_ready gives a better message than a hanging Type=notify start.
    run systemctl restart --no-block lteproxy.service
  else
    info "lteproxy.service is running and nothing changed"
  fi
  if [[ "$ENGINE" == builtin ]]; then
    if ! systemctl is-active --quiet lteproxy-proxy.service; then
      run systemctl start lteproxy-proxy.service
    elif ((BINARY_CHANGED)); then
      run systemctl restart lteproxy-proxy.service
      info "the data plane restarted on the new binary: open proxy connections were dropped once"
    fi
  elif ! systemctl is-active --quiet lteproxy-dns-relay.service || ((BINARY_CHANGED)); then
    run systemctl restart lteproxy-dns-relay.service
  fi
  wait_ready
  if [[ -n "$ADMIN_PASSWORD" ]]; then
    put_content /etc/lteproxy/lteproxy.env 0600 lteproxy:lteproxy < <(printf '%s\nLTEPROXY_ADMIN_PASSWORD=\n' \
      "# First-run admin password: used (blanked by the installer after the first start).")
  fi
}

panel_host() {
  local ip=""
  if [[ -z "$ROOT" ]] && command -v ip >/dev/null 2>&1; then
    ip=$(ip -o -4 addr show scope global 2>/dev/null | awk '$2 !~ /^ww/ { split($4, a, "/"); print a[1]; exit }')
  fi
  printf '%s' "${ip:-<this box>}"
}

summary() {
  local scheme=http
  [[ -n "$TLS_CERT" ]] && scheme=https
  printf '\n'
  if ((DRY_RUN)); then
    info "dry run complete: nothing was changed"
    return 0
  fi
  local what="lteproxy $VERSION"
  [[ "$VERSION" == lteproxy* ]] && what=$VERSION
  if [[ -n "$ROOT" ]]; then info "$what staged into $ROOT"; else info "$what is installed and running"; fi
  info "panel:    $scheme://$(panel_host):$HTTP_PORT/"
  if [[ -n "$ADMIN_PASSWORD" ]]; then
    info "login:    admin / $ADMIN_PASSWORD   (shown once; change it after logging in)"
  else
    info "login:    unchanged (the admin password was shown by the first install)"
  fi
  info "engine:   $ENGINE, proxy ports $PORT_MIN-$PORT_MAX"
  info "modems appear under /dev/modems/<slot>/; logs: journalctl -u lteproxy -f; checks: lteproxy doctor"
}
