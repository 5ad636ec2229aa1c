#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests, unless one is already there; prints its path.
set -euo pipefail
for binary in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$binary" ]; then
    echo "$binary"
    exit 0
  fi
done
sudo=()
[ "$(id -u)" -ne 0 ] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y --no-install-recommends chromium >&2 ||
  { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y --no-install-recommends chromium >&2; }
echo /usr/bin/chromium
