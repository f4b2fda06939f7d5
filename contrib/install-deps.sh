#!/bin/bash
# Installs what building, running and testing Cairn needs on Debian 12,
# with apt-get, and only what is missing. Run as root (or with sudo).
set -euo pipefail

PACKAGES=(
    gcc make autoconf automake libtool pkg-config
    libzmq3-dev libczmq-dev libmsgpack-dev libjansson-dev libcgroup-dev
    libmicrohttpd-dev libcurl4-openssl-dev libsqlite3-dev
    # Master high availability: ZooKeeper's C client, and the server (a
    # Java jar) that the HA tests start as a three-server ensemble.
    libzookeeper-mt-dev libzookeeper-java default-jre-headless
    curl jq procps bc prometheus sqlite3
    qemu-system-x86 busybox-static cpio xz-utils
    # cairn-fetcher extracts task archives with tar, which runs xz (above)
    # and bzip2 for .tar.xz and .tar.bz2, and with unzip for .zip; its
    # unit test builds a .zip with zip.
    unzip bzip2 zip
    # The service framework's tests serve HTTP with python3 -m http.server.
    python3
    # The web UI's browser test loads /ui/ in headless Chromium (it skips
    # without it).
    chromium
    # make check-ui drives it from Node.js with playwright-core, which
    # npm installs from tests/ui/package-lock.json (added below).
    # Optional, for make bench only: the scale plots (tests/bench/plot.sh;
    # without gnuplot the benchmarks still run and the plots are skipped).
    gnuplot-nox
)

# Node.js and npm only where there is no node at all: a newer one
# installed some other way (NodeSource, nvm) stays. playwright-core needs
# node >= 20; Debian 12's is 18, so there make check-ui says so and fails.
if ! command -v node >/dev/null; then
    PACKAGES+=(nodejs npm)
elif ! command -v npm >/dev/null; then
    PACKAGES+=(npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
        SUDO=sudo
    else
        echo "install-deps: these packages are missing and I am not root: ${missing[*]}" >&2
        exit 1
    fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet.
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
