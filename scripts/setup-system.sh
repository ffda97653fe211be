#!/usr/bin/env bash
# Installs the Debian 12 packages the tests, demo and benchmarks run, once (idempotent, quiet when present).
# Every command a test, bench or the demo spawns is listed here with the package that provides it, so that
# `npm test` as root on a fresh machine runs every real-kernel test instead of skipping it.
set -euo pipefail
pkgs=(
  iproute2        # ip (namespaces, links, addresses, ip monitor)
  keepalived      # the reference: interop peer, `-t` verdicts, benchmarks
  ipvsadm         # IPVS tables in the test guest, benchmarks
  qemu-system-x86 # the test guest with Debian's kernel (this host may lack IPVS)
  busybox-static  # the guest's initramfs, depmod
  cpio            # checks the guest's initramfs writer
  tcpdump         # captures on the namespace LAN
  tshark          # decodes captured VRRP / ARP / NA frames
  iputils-ping    # ping from namespace clients
  procps          # ps, sysctl
  psmisc
  openssl         # self-signed certificates for SSL_GET tests
  file            # checks busybox is statically linked
  xz-utils        # unpacks the guest kernel
  time            # /usr/bin/time in the config-parse benchmark
  pcre2-utils     # pcre2test: the HTTP_GET regex translation compared with PCRE2 itself
  nftables        # nft: vrrp_strict's firewall (the daemon runs it) and the nft list ruleset comparisons
  zookeeperd      # the split-brain guard's ZooKeeper server (tests start their own in a namespace)
  etcd-server     # the split-brain guard's etcd cluster (tests start their own in a namespace)
  dnsmasq-base    # dnsmasq (binary only, no system service): the DNS server DNS_CHECK tests start in a namespace
  prometheus      # promtool check metrics: a real /metrics scrape through Prometheus's own linter (19 MB .deb)
)
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
  # wireshark-common (pulled in by tshark) asks whether non-superusers may capture; answer it here so the
  # install never stops on a prompt. The tests capture as root, so the default "no" is right.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  still=()
  for p in "${missing[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || still+=("$p")
  done
  if [ ${#still[@]} -gt 0 ]; then
    echo "setup-system: apt-get did not install: ${still[*]}" >&2
    exit 1
  fi
fi
# Debian starts keepalived as a service on install; the tests run their own copies.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now keepalived >/dev/null 2>&1 || true; fi
# zookeeperd and etcd-server start their services on install too; the guard tests run their own servers.
for svc in zookeeper etcd; do
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
  if [ -x "/etc/init.d/$svc" ]; then "/etc/init.d/$svc" stop >/dev/null 2>&1 || true; fi
done
exit 0
