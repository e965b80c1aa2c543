#!/usr/bin/env bash
# Installs the Debian packages the tests need (netns plumbing, nftables, the browser).
# Only as root; otherwise it says what is missing and the tests that need them skip.
set -euo pipefail

need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-liberation)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-packages: not root; missing ${need[*]} (tests that need them will skip)" >&2
  exit 0
fi
echo "system-packages: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
