#!/usr/bin/env bash
# A stand-in for systemctl (systemd does not run in CI): appends every call to $FAKE_SYSTEMCTL_DIR/calls and runs
# the "units" as plain processes, one pid file per unit.
#   lteproxy-proxy.service  -> $FAKE_PROXY_CMD (the real `lteproxy proxy`); reload = SIGHUP
#   3proxy@<imei>.service   -> $FAKE_3PROXY_CMD $FAKE_3PROXY_ETC/<imei>.cfg (real 3proxy or fake-3proxy.ts); reload = SIGUSR1
#   any other unit          -> $FAKE_OTHER_CMD when set (e.g. "sleep 600" for lteproxy.service)
set -u
D=${FAKE_SYSTEMCTL_DIR:?}
echo "$*" >>"$D/calls"
verb=${1:-}
shift || true

pidfile() { echo "$D/$1.pid"; }
# A zombie counts as dead (PID 1 of a container may never reap the orphans this script leaves).
alive() {
  local p
  p=$(cat "$(pidfile "$1")" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 1
  ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null
}
start() {
  alive "$1" && return 0
  case "$1" in
    lteproxy-proxy.service) setsid $FAKE_PROXY_CMD >>"$D/proxy.out" 2>&1 </dev/null & ;;
    3proxy@*.service)
      local imei=${1#3proxy@}; imei=${imei%.service}
      [ -f "$FAKE_3PROXY_ETC/$imei.cfg" ] || { echo "Condition check failed: no $imei.cfg" >&2; return 0; }
      setsid $FAKE_3PROXY_CMD "$FAKE_3PROXY_ETC/$imei.cfg" >>"$D/$imei.out" 2>&1 </dev/null & ;;
    *)
      [ -n "${FAKE_OTHER_CMD:-}" ] || { echo "Unit $1 not found." >&2; return 5; }
      setsid $FAKE_OTHER_CMD >/dev/null 2>&1 </dev/null & ;;
  esac
  echo $! >"$(pidfile "$1")"
}
stop() {
  local p
  p=$(cat "$(pidfile "$1")" 2>/dev/null) || return 0
  kill "$p" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null || break; sleep 0.05; done
  kill -9 "$p" 2>/dev/null
  rm -f "$(pidfile "$1")"
}
reload() {
  alive "$1" || { echo "Job for $1 failed: unit not active" >&2; return 1; }
  case "$1" in
    lteproxy-proxy.service) kill -HUP "$(cat "$(pidfile "$1")")" ;;
    *) kill -USR1 "$(cat "$(pidfile "$1")")" ;;
  esac
}

case "$verb" in
  start) start "$1" ;;
  stop) stop "$1" ;;
  restart) stop "$1"; start "$1" ;;
  reload) reload "$1" ;;
  reload-or-restart) if alive "$1"; then reload "$1"; else start "$1"; fi ;;
  is-active) if alive "$1"; then echo active; else echo inactive; exit 3; fi ;;
  list-units)
    for f in "$D"/3proxy@*.service.pid; do
      [ -e "$f" ] || continue
      u=$(basename "$f" .pid)
      if alive "$u"; then echo "$u loaded active running 3proxy for modem"; else echo "$u loaded failed failed 3proxy for modem"; fi
    done ;;
  *) echo "fake systemctl: unsupported verb $verb" >&2; exit 1 ;;
esac
