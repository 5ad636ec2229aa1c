#!/usr/bin/env bash
# Installs Debian's redis-server for the shared-limits tests, unless one is already there;
# prints its path.
set -euo pipefail
for binary in /usr/bin/redis-server /usr/local/bin/redis-server; do
  if [ -x "$binary" ]; then
    echo "$binary"
    exit 0
  fi
done
sudo=()
[ "$(id -u)" -ne 0 ] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y --no-install-recommends redis-server >&2 ||
  { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y --no-install-recommends redis-server >&2; }
# The package starts a server of its own; the tests start theirs on free ports.
if command -v systemctl >/dev/null 2>&1; then
  "${sudo[@]}" systemctl disable --now redis-server >&2 2>/dev/null || true
fi
echo /usr/bin/redis-server
