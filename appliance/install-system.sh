# shellcheck shell=bash
# install.sh steps 1-3: checks, packages, users (sourced by install.sh after lib.sh).

check_os() {
  local osr id ver name
  osr=$(P /etc/os-release)
  [[ -f "$osr" ]] || osr=$(P /usr/lib/os-release)
  if [[ ! -f "$osr" ]]; then
    ((IGNORE_OS)) && { warn "no os-release file; continuing (--ignore-os)"; return 0; }
    die "cannot tell the OS: no /etc/os-release${ROOT:+ in $ROOT} (--ignore-os to try anyway)"
  fi
  # shellcheck disable=SC1090
  IFS='|' read -r id ver name < <(. "$osr"; printf '%s|%s|%s\n' "${ID:-}" "${VERSION_ID:-}" "${PRETTY_NAME:-unknown}")
  case "$id:$ver" in
    debian:12 | debian:13 | ubuntu:24.04) info "OS: $name" ;;
    *)
      ((IGNORE_OS)) && { warn "untested OS $name; continuing (--ignore-os)"; return 0; }
      die "unsupported OS $name: lteproxy supports Debian 12/13 and Ubuntu 24.04 (--ignore-os to try anyway)" ;;
  esac
}

check_arch() {
  local arch
  if [[ -n "$ROOT" && -x "$ROOT/usr/bin/dpkg" ]] && arch=$(chroot "$ROOT" dpkg --print-architecture 2>/dev/null); then :; else arch=$(uname -m); fi
  case "$arch" in
    amd64 | x86_64) ARCH_NAME=x64 ;;
    arm64 | aarch64) ARCH_NAME=arm64 ;;
    *) die "unsupported architecture $arch: lteproxy is built for x86_64 and arm64" ;;
  esac
  info "architecture: $arch"
}

find_binary() {
  local c
  BIN_SRC=""
  if [[ -n "$BINARY" ]]; then
    [[ -f "$BINARY" ]] || die "--binary $BINARY does not exist"
    BIN_SRC=$BINARY
  else
    for c in "$SRC_DIR/lteproxy" "$SRC_DIR/lteproxy-linux-$ARCH_NAME" "$SRC_DIR/dist/lteproxy-linux-$ARCH_NAME" "$SRC_DIR/dist/lteproxy"; do
      if [[ -f "$c" ]]; then BIN_SRC=$c; break; fi
    done
    [[ -n "$BIN_SRC" ]] || die "no lteproxy binary next to the installer (looked for lteproxy, lteproxy-linux-$ARCH_NAME, dist/); pass --binary PATH"
  fi
  BIN_SRC=$(cd "$(dirname "$BIN_SRC")" && pwd)/$(basename "$BIN_SRC")
  if VERSION=$(timeout 20 "$BIN_SRC" version 2>/dev/null | head -n 1) && [[ -n "$VERSION" ]]; then
    info "binary: $BIN_SRC ($VERSION)"
  elif [[ -n "$ROOT" ]]; then
    VERSION="unknown"
    warn "$BIN_SRC does not run here (another architecture?); installing it anyway"
  else
    die "$BIN_SRC does not run (\`$BIN_SRC version\` failed): wrong architecture or a damaged download"
  fi
}

have_3proxy_binary() {
  local p
  for p in /usr/bin/3proxy /usr/local/bin/3proxy /usr/local/3proxy/bin/3proxy /opt/3proxy/bin/3proxy; do
    [[ -x "$(P "$p")" ]] && { THREEPROXY_BIN=$p; return 0; }
  done
  return 1
}

# The engine: kept from an existing config; otherwise --engine, where auto = 3proxy when it is installed or packaged.
decide_engine() {
  local cfg existing candidate
  cfg=$(P /etc/lteproxy/lteproxy.toml)
  existing=$(toml_get "$cfg" proxy engine)
  if [[ -n "$existing" ]]; then
    ENGINE=$existing
    [[ "$ENGINE_OPT" == auto || "$ENGINE_OPT" == "$ENGINE" ]] || warn "--engine $ENGINE_OPT ignored: the configuration says engine = \"$ENGINE\""
    return 0
  fi
  case "$ENGINE_OPT" in builtin | 3proxy | auto) ;; *) die "--engine must be builtin, 3proxy or auto" ;; esac
  if [[ "$ENGINE_OPT" == builtin ]]; then ENGINE=builtin; return 0; fi
  if have_3proxy_binary; then ENGINE=3proxy; return 0; fi
  candidate=""
  if ((CAN_APT)); then
    candidate=$(q_root apt-cache policy 3proxy 2>/dev/null | awk '/Candidate:/ { print $2 }')
  fi
  if [[ -n "$candidate" && "$candidate" != "(none)" ]]; then
    ENGINE=3proxy
    WANT_3PROXY_PACKAGE=1
  elif [[ "$ENGINE_OPT" == 3proxy ]]; then
    die "--engine 3proxy: 3proxy is not installed and this distribution does not package it"
  else
    ENGINE=builtin
    info "3proxy is not packaged for this distribution: keeping the built-in engine"
  fi
}

install_packages() {
  local p missing=() status
  CAN_APT=1
  WANT_3PROXY_PACKAGE=0
  if ((SKIP_PACKAGES)); then
    CAN_APT=0
    info "skipped (--no-packages)"
  elif [[ -n "$ROOT" && ! -x "$ROOT/usr/bin/apt-get" ]]; then
    CAN_APT=0
    warn "no apt-get in $ROOT: packages not installed (${PACKAGES[*]})"
  fi
  local need_lists=0
  APT_UPDATED=0
  if ((CAN_APT)); then
    for p in "${PACKAGES[@]}"; do
      status=$(q_root dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
      [[ "$status" == "install ok installed" ]] || missing+=("$p")
    done
    if ((${#missing[@]})) || [[ -z "$(toml_get "$(P /etc/lteproxy/lteproxy.toml)" proxy engine)" && "$ENGINE_OPT" != builtin ]]; then
      need_lists=1
    fi
  fi
  # Package lists written less than a day ago (ctime: apt keeps the server's mtime) are good enough to look for
  # 3proxy and to try installing; a failed install refreshes them and tries again.
  if ((need_lists)) && ! apt_lists_fresh; then apt_update; fi
  decide_engine
  info "proxy engine: $ENGINE"
  ((CAN_APT)) || return 0
  if ((WANT_3PROXY_PACKAGE)); then missing+=(3proxy); fi
  if [[ "$ENGINE" == 3proxy ]]; then
    status=$(q_root dpkg-query -W -f='${Status}' polkitd 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=(polkitd)
  fi
  if ((${#missing[@]} == 0)); then
    info "already installed: ${PACKAGES[*]}"
    return 0
  fi
  info "installing: ${missing[*]}"
  guard_services_in_root
  if apt_install "${missing[@]}"; then return 0; fi
  ((APT_UPDATED)) && die "apt-get install ${missing[*]} failed (see the output above)"
  info "retrying with fresh package lists"
  apt_update
  apt_install "${missing[@]}" || die "apt-get install ${missing[*]} failed (network? see the output above)"
}

apt_install() { in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"; }

apt_update() {
  guard_services_in_root
  in_root apt-get update -qq || warn "apt-get update failed; trying with the package lists already on the box"
  APT_UPDATED=1
}

apt_lists_fresh() {
  [[ -n "$(find "$(P /var/lib/apt/lists)" -maxdepth 1 -name '*Release' -cmin -1440 2>/dev/null | head -n 1)" ]]
}

# Under --root, packages must not start their daemons inside the chroot (Debian's policy-rc.d convention).
guard_services_in_root() {
  [[ -n "$ROOT" ]] || return 0
  ((DRY_RUN)) && return 0
  [[ -e "$ROOT/usr/sbin/policy-rc.d" ]] && return 0
  printf '#!/bin/sh\n# lteproxy install.sh --root: do not start services in a staging root\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
  POLICY_RC_CREATED=1
}

ensure_users() {
  if ((!HAVE_USERLAND)); then
    warn "no useradd in $ROOT: users lteproxy and lteproxy-3proxy not created, files stay owned by root"
    QUIET_OWNER=1
    return 0
  fi
  if ! group_exists lteproxy; then in_root groupadd --system lteproxy; info "+ group lteproxy"; fi
  if ! user_exists lteproxy; then
    in_root useradd --system --gid lteproxy --groups dialout --home-dir /var/lib/lteproxy --no-create-home \
      --shell /usr/sbin/nologin --comment "lteproxy" lteproxy
    info "+ user lteproxy (groups lteproxy, dialout)"
  elif ! in_group dialout lteproxy; then
    in_root usermod -a -G dialout lteproxy
    info "~ user lteproxy added to dialout"
  else
    info "= user lteproxy (in dialout)"
  fi
  if ! user_exists lteproxy-3proxy; then
    in_root useradd --system --gid lteproxy --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin \
      --comment "lteproxy 3proxy instances" lteproxy-3proxy
    info "+ user lteproxy-3proxy (group lteproxy)"
  else
    info "= user lteproxy-3proxy"
  fi
}
