#!/usr/bin/env bash
# Release tarballs: one per architecture, dist/lteproxy-<version>-linux-<arch>.tar.gz, holding
#   lteproxy-<version>/lteproxy                 the single executable (dist/lteproxy-linux-<arch>)
#   lteproxy-<version>/{appliance,udev,systemd}/ what install.sh lays down (it finds the binary next to appliance/)
#   lteproxy-<version>/docs/{install,operations,architecture}.md, README.md, LICENSE
# plus a .sha256 next to each. Reproducible: sorted names, root:root, mtime of the last commit.
#
#   scripts/release-tarball.sh                   package every dist/lteproxy-linux-{x64,arm64} that exists
#   scripts/release-tarball.sh --build           run `bun scripts/build.ts --release` first
#   scripts/release-tarball.sh --arch x64 --out /tmp/rel
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=0
OUT=dist
ARCHS=()
while (($#)); do
  case "$1" in
    --build) BUILD=1; shift ;;
    --arch) ARCHS+=("${2:?--arch needs x64 or arm64}"); shift 2 ;;
    --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release-tarball: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

VERSION=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' package.json | head -n 1)
[[ -n "$VERSION" ]] || { echo "release-tarball: no version in package.json" >&2; exit 1; }
if ((BUILD)); then bun scripts/build.ts --release; fi
if ((${#ARCHS[@]} == 0)); then
  for a in x64 arm64; do [[ -f "dist/lteproxy-linux-$a" ]] && ARCHS+=("$a"); done
  ((${#ARCHS[@]})) || { echo "release-tarball: no dist/lteproxy-linux-{x64,arm64}: run with --build (or bun run build:release)" >&2; exit 1; }
fi

# ELF e_machine (offset 18): 0x3e x86-64, 0xb7 AArch64. A binary of the wrong architecture must never be shipped.
machine() { od -An -tx1 -j18 -N1 "$1" | tr -d ' \n'; }
declare -A WANT=([x64]=3e [arm64]=b7)

EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
mkdir -p "$OUT"
for arch in "${ARCHS[@]}"; do
  [[ -n "${WANT[$arch]:-}" ]] || { echo "release-tarball: unknown architecture $arch (x64 or arm64)" >&2; exit 2; }
  bin="dist/lteproxy-linux-$arch"
  [[ -f "$bin" ]] || { echo "release-tarball: $bin is missing" >&2; exit 1; }
  [[ "$(machine "$bin")" == "${WANT[$arch]}" ]] || { echo "release-tarball: $bin is not a linux-$arch executable" >&2; exit 1; }
  name="lteproxy-$VERSION"
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/$name/docs"
  install -m 0755 "$bin" "$stage/$name/lteproxy"
  cp -a appliance udev systemd "$stage/$name/"
  for d in install.md operations.md architecture.md; do [[ -f "docs/$d" ]] && cp "docs/$d" "$stage/$name/docs/"; done
  cp README.md LICENSE "$stage/$name/"
  tarball="$OUT/$name-linux-$arch.tar.gz"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" -C "$stage" -cf - "$name" | gzip -n "-${GZIP_LEVEL:-6}" >"$tarball.tmp"
  mv "$tarball.tmp" "$tarball"
  (cd "$OUT" && sha256sum "$(basename "$tarball")" >"$(basename "$tarball").sha256")
  rm -rf "$stage"
  trap - EXIT
  echo "$tarball ($(du -h "$tarball" | cut -f1))"
done
