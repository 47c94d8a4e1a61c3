#!/usr/bin/env bash
# Installs every Debian 12 package that Samsa's build and tests need. Idempotent: when all
# are present it does nothing and needs no network; otherwise it runs `apt-get update` once
# and installs only what is missing. Uses sudo when not run as root.
set -euo pipefail

packages=(
    build-essential pkg-config
    libzookeeper-mt-dev zookeeper openjdk-17-jre-headless
    libevent-dev libprotobuf-c-dev protobuf-c-compiler
    libcriterion-dev kcat librdkafka-dev
    zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
    clang-format clang netcat-openbsd iperf3
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
# Node.js and npm: a machine may already have them from another source (e.g. NodeSource,
# whose nodejs bundles npm and conflicts with Debian's npm package). Accept any working pair.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
