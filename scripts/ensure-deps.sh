#!/usr/bin/env bash
# Installs the Debian packages the tests and the lab use, when missing and when we are root:
# PostgreSQL (the appliance's database), the lab's network tools, curl, and Chromium for browser tests.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have curl || need+=(curl)
have ip || need+=(iproute2)
have udhcpc || need+=(udhcpc)
have dnsmasq || need+=(dnsmasq-base)
have iptables || need+=(iptables)
have nft || need+=(nftables)
have chromium || need+=(chromium)
have zstd || need+=(zstd)
have systemd-analyze || need+=(systemd)
have promtool || need+=(prometheus)
have openssl || need+=(openssl)
have debootstrap || need+=(debootstrap)
[ -x /usr/lib/postgresql/15/bin/postgres ] || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-deps: missing ${need[*]}; install them as root (apt-get install ${need[*]}); tests that need them will skip" >&2
  exit 0
fi
echo "ensure-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
