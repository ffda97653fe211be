#!/usr/bin/env bash
# Installs the Debian packages the tests, demo and benchmarks use, once (idempotent, quiet when present).
# keepalived is the reference and interop peer; qemu/busybox/ipvsadm run the IPVS tests in a real kernel.
set -euo pipefail
pkgs=(iproute2 keepalived ipvsadm qemu-system-x86 busybox-static tcpdump iputils-ping procps psmisc openssl)
if [ "$(id -u)" != 0 ]; then
  echo "setup-system: not root; skipping apt (tests that need root will say so)" >&2
  exit 0
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-system: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts keepalived as a service on install; the tests run their own copies.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now keepalived >/dev/null 2>&1 || true; fi
exit 0
