# shellcheck shell=bash
# Helpers shared by install.sh and uninstall.sh (installed as /usr/local/lib/lteproxy/lib.sh so that the installed
# uninstaller works after the release tarball is gone). Sourced, never run.
#
# Conventions: paths are written as they are on the target system ("/etc/lteproxy"); P() prefixes the staging root.
# run() makes a change (or prints it under --dry-run); q_root() only looks.

set -E
STEP=0
STEP_TITLE=""
TOTAL_STEPS=${TOTAL_STEPS:-1}
LAST_CHANGED=0
TMP_FILES=()
POLICY_RC_CREATED=0
# Set when the target has no users to chown to (a bare --root): one warning instead of one per file.
QUIET_OWNER=0
RUN_CMD=""

step() {
  STEP=$((STEP + 1))
  STEP_TITLE="$1"
  printf '\n[%d/%d] %s\n' "$STEP" "$TOTAL_STEPS" "$1"
}
info() { printf '      %s\n' "$*"; }
warn() { printf '      warning: %s\n' "$*" >&2; }
die() {
  printf '\nerror: %s\n' "$*" >&2
  [[ $STEP -gt 0 ]] && printf '       (step %d/%d: %s)\n' "$STEP" "$TOTAL_STEPS" "$STEP_TITLE" >&2
  exit 1
}
on_error() {
  local code=$1 line=$2 cmd=$3
  # Inside run() the failing command is "$@": name the real one.
  [[ "$cmd" == '"$@"' && -n "$RUN_CMD" ]] && cmd=$RUN_CMD
  printf '\nerror: step %d/%d (%s) failed: `%s` exited with %d (line %d)\n' \
    "$STEP" "$TOTAL_STEPS" "$STEP_TITLE" "$cmd" "$code" "$line" >&2
  exit "$code"
}
cleanup() {
  local f
  for f in "${TMP_FILES[@]}"; do rm -f "$f"; done
  if ((POLICY_RC_CREATED)); then rm -f "$ROOT/usr/sbin/policy-rc.d"; fi
}

P() { printf '%s%s' "$ROOT" "$1"; }

run() {
  if ((DRY_RUN)); then
    printf '      would run:'
    printf ' %q' "$@"
    printf '\n'
    return 0
  fi
  RUN_CMD="$*"
  "$@"
}
in_root() { if [[ -n "$ROOT" ]]; then run chroot "$ROOT" "$@"; else run "$@"; fi; }
q_root() { if [[ -n "$ROOT" ]]; then chroot "$ROOT" "$@"; else "$@"; fi; }

uid_of() { awk -F: -v n="$1" '$1 == n { print $3; exit }' "$(P /etc/passwd)" 2>/dev/null || true; }
gid_of() { awk -F: -v n="$1" '$1 == n { print $3; exit }' "$(P /etc/group)" 2>/dev/null || true; }
user_exists() { [[ -n "$(uid_of "$1")" ]]; }
group_exists() { [[ -n "$(gid_of "$1")" ]]; }
in_group() { awk -F: -v g="$1" -v u="$2" '$1 == g { n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) f = 1 } END { exit !f }' "$(P /etc/group)" 2>/dev/null; }

# owner "user:group" → "uid:gid", empty when either is unknown (a user not created yet under --dry-run).
numeric_owner() {
  local u=${1%%:*} g=${1##*:} uid gid
  uid=$(uid_of "$u")
  gid=$(gid_of "$g")
  [[ "$u" == root ]] && uid=${uid:-0}
  [[ "$g" == root ]] && gid=${gid:-0}
  [[ -n "$uid" && -n "$gid" ]] && printf '%s:%s' "$uid" "$gid"
  return 0
}

# Mode and owner of an existing path; sets LAST_CHANGED=1 when something had to change.
set_owner_mode() {
  local dest=$1 mode=$2 owner=$3 t num
  t=$(P "$dest")
  [[ -e "$t" || -L "$t" ]] || return 0
  if [[ "$(stat -c %a "$t")" != "${mode#0}" ]]; then run chmod "$mode" "$t"; LAST_CHANGED=1; fi
  num=$(numeric_owner "$owner")
  if [[ -z "$num" ]]; then
    ((DRY_RUN || QUIET_OWNER)) || warn "cannot give $dest to $owner: no such user or group in $(P /etc/passwd)"
    return 0
  fi
  if [[ "$(stat -c %u:%g "$t")" != "$num" ]]; then run chown "$num" "$t"; LAST_CHANGED=1; fi
}

ensure_dir() {
  local dest=$1 mode=$2 owner=$3
  LAST_CHANGED=0
  if [[ ! -d "$(P "$dest")" ]]; then
    run mkdir -p "$(P "$dest")"
    info "+ $dest/"
    LAST_CHANGED=1
  fi
  set_owner_mode "$dest" "$mode" "$owner"
}

# Installs src as dest when the content differs (+ new, ~ updated, = unchanged); always fixes mode and owner.
put_file() {
  local src=$1 dest=$2 mode=$3 owner=$4 t tmp num
  t=$(P "$dest")
  LAST_CHANGED=0
  if [[ -f "$t" ]] && cmp -s "$src" "$t"; then
    set_owner_mode "$dest" "$mode" "$owner"
    info "= $dest"
    return 0
  fi
  local mark="+"
  [[ -e "$t" ]] && mark="~"
  LAST_CHANGED=1
  if ((DRY_RUN)); then
    info "$mark $dest (would write, mode $mode, $owner)"
    return 0
  fi
  mkdir -p "$(dirname "$t")"
  tmp="$t.lteproxy-new"
  cp "$src" "$tmp"
  chmod "$mode" "$tmp"
  num=$(numeric_owner "$owner")
  if [[ -n "$num" ]]; then chown "$num" "$tmp"; elif ((!QUIET_OWNER)); then warn "cannot give $dest to $owner: no such user or group"; fi
  mv -f "$tmp" "$t"
  info "$mark $dest"
}

# Like put_file, but never replaces an existing file (defaults the operator is expected to edit).
put_file_once() {
  local src=$1 dest=$2 mode=$3 owner=$4
  if [[ -e "$(P "$dest")" ]]; then
    LAST_CHANGED=0
    set_owner_mode "$dest" "$mode" "$owner"
    info "= $dest (kept)"
    return 0
  fi
  put_file "$src" "$dest" "$mode" "$owner"
}

# put_file with the content on stdin.
put_content() {
  local tmp
  tmp=$(mktemp)
  TMP_FILES+=("$tmp")
  cat >"$tmp"
  put_file "$tmp" "$@"
}

ensure_symlink() {
  local target=$1 link=$2 t
  t=$(P "$link")
  if [[ -L "$t" && "$(readlink "$t")" == "$target" ]]; then return 0; fi
  run mkdir -p "$(dirname "$t")"
  run ln -sfn "$target" "$t"
  info "+ $link -> $target"
}

remove_path() {
  local dest=$1 t
  t=$(P "$dest")
  if [[ -e "$t" || -L "$t" ]]; then
    run rm -rf "$t"
    info "- $dest"
  fi
}

# A key from a flat TOML file: `toml_get FILE SECTION KEY` prints the value without quotes ("" when absent).
toml_get() {
  [[ -f "$1" ]] || return 0
  awk -v s="$2" -v k="$3" '
    /^[[:space:]]*#/ { next }
    /^[[:space:]]*\[/ { sec = $0; gsub(/[][[:space:]]/, "", sec); next }
    sec == s {
      if (match($0, "^[[:space:]]*" k "[[:space:]]*=")) {
        v = substr($0, RLENGTH + 1)
        gsub(/^[[:space:]]+|[[:space:]]+$/, "", v)
        if (v ~ /^".*"$/) v = substr(v, 2, length(v) - 2)
        print v
        exit
      }
    }' "$1"
}

# ["a", "b"] → a, b
toml_list() { printf '%s' "$1" | tr -d '[]"' | sed 's/[[:space:]]*,[[:space:]]*/, /g; s/^[[:space:]]*//; s/[[:space:]]*$//'; }

unit_file() {
  local u=$1 d
  for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
    if [[ -f "$(P "$d/$u")" ]]; then printf '%s' "$d/$u"; return 0; fi
  done
  return 1
}

# systemctl enable, or under --root the symlinks it would make ([Install] WantedBy=).
enable_unit() {
  local u=$1 path targets t
  if [[ -z "$ROOT" ]]; then
    if ! systemctl is-enabled --quiet "$u" 2>/dev/null; then
      run systemctl enable --quiet "$u"
      ((DRY_RUN)) || info "enabled $u"
    fi
    return 0
  fi
  if ! path=$(unit_file "$u"); then
    if ((DRY_RUN)); then info "would enable $u"; else warn "no unit file for $u in $ROOT: not enabled"; fi
    return 0
  fi
  targets=$(awk -F= '/^\[/ { s = $0 } s == "[Install]" && $1 == "WantedBy" { print $2 }' "$(P "$path")" | tr ' ' '\n' | sed '/^$/d')
  for t in $targets; do ensure_symlink "$path" "/etc/systemd/system/$t.wants/$u"; done
}

disable_unit() {
  local u=$1 l
  if [[ -z "$ROOT" ]]; then
    if systemctl is-enabled --quiet "$u" 2>/dev/null; then
      run systemctl disable --quiet "$u"
      ((DRY_RUN)) || info "disabled $u"
    fi
    return 0
  fi
  for l in "$(P /etc/systemd/system)"/*.wants/"$u"; do
    [[ -L "$l" ]] && { run rm -f "$l"; info "- ${l#"$ROOT"}"; }
  done
  return 0
}

# 32 random bytes as hex (no openssl on a minimal box).
gen_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
gen_password() {
  local s
  s=$(head -c 96 /dev/urandom | base64 -w0 | tr -dc 'A-HJ-NP-Za-km-z2-9')
  printf '%s' "${s:0:16}"
}
