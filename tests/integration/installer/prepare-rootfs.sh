#!/usr/bin/env bash
# Builds (once) a Debian bookworm minbase root for the installer end-to-end test and prints its path.
# The result is cached in $LTEPROXY_TEST_ROOTFS_CACHE (default /var/cache/lteproxy-test) and reused between runs;
# a half-built tree never becomes the cache because it is built under a temporary name and renamed at the end.
# Exit codes: 0 ready (path on stdout), 3 cannot run here (reason on stderr), other = real failure.
set -euo pipefail

CACHE_DIR="${LTEPROXY_TEST_ROOTFS_CACHE:-/var/cache/lteproxy-test}"
SUITE="${LTEPROXY_TEST_SUITE:-bookworm}"
MIRROR="${LTEPROXY_TEST_MIRROR:-http://deb.debian.org/debian}"
TARGET="$CACHE_DIR/$SUITE-minbase"

skip() { echo "cannot build the test root: $*" >&2; exit 3; }

[[ $(id -u) -eq 0 ]] || skip "debootstrap needs root"
if [[ -f "$TARGET/.lteproxy-complete" ]]; then echo "$TARGET"; exit 0; fi

if ! command -v debootstrap >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || skip "no debootstrap and no apt-get to install it"
  apt-get install -y debootstrap >&2 || { apt-get update >&2 && apt-get install -y debootstrap >&2; } \
    || skip "apt-get install debootstrap failed (no network?)"
fi

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.$SUITE.lock"
flock 9
# Another run may have finished while we waited for the lock.
if [[ -f "$TARGET/.lteproxy-complete" ]]; then echo "$TARGET"; exit 0; fi

WORK="$CACHE_DIR/.$SUITE-minbase.building"
rm -rf "$WORK"
if ! debootstrap --variant=minbase "$SUITE" "$WORK" "$MIRROR" >&2; then
  tail -n 20 "$WORK/debootstrap/debootstrap.log" >&2 2>/dev/null || true
  rm -rf "$WORK"
  skip "debootstrap $SUITE failed (no network or no mirror?)"
fi
# Package lists, so that the installer's apt step inside the chroot starts from a usable state.
chroot "$WORK" apt-get update >&2 || true
chroot "$WORK" apt-get clean >&2 || true
touch "$WORK/.lteproxy-complete"
rm -rf "$TARGET"
mv "$WORK" "$TARGET"
echo "$TARGET"
