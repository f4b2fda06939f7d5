#!/bin/bash
# tests/vm/build-vm.sh - fetches Debian's current amd64 kernel and prepares
# it for the test VM: an ELF vmlinux that QEMU boots directly (PVH), which
# takes about 3 s under TCG where the compressed bzImage takes 5 to 17 s.
#
# Usage: build-vm.sh
#   Prints the path of the prepared vmlinux on stdout; exit status 1, with
#   the reason on stderr, if there is none and none can be made.
#
# The kernel is the package `apt-cache depends linux-image-amd64` names
# (Debian's archive is the only network these machines have). It is
# downloaded with `apt-get download` (not installed), its vmlinuz is
# unpacked with dpkg-deb, and the xz stream embedded in it is decompressed
# to the ELF vmlinux. Only that file is kept, in a cache keyed by the
# package name, so repeated runs (and CI's two test passes) download once:
#   $CAIRN_VM_CACHE, else /var/cache/cairn-vm for root, else
#   ${XDG_CACHE_HOME:-$HOME/.cache}/cairn-vm (or, if that cannot be
#   written, ${TMPDIR:-/tmp}/cairn-vm-UID)
# e.g. /var/cache/cairn-vm/linux-image-6.1.0-56-amd64/vmlinux. When apt
# cannot name or fetch a kernel (offline, no package lists), the newest
# kernel already in the cache is used. Concurrent runs serialise on a lock
# in the cache; a kernel appears there only complete (renamed into place).
# Every network step is bounded by a timeout.
set -u

say () { echo "build-vm: $*" >&2; }

if [ -n "${CAIRN_VM_CACHE:-}" ]; then
    cache=$CAIRN_VM_CACHE
elif [ "$(id -u)" -eq 0 ]; then
    cache=/var/cache/cairn-vm
else
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/cairn-vm
fi

# The kernel package linux-image-amd64 depends on, e.g.
# linux-image-6.1.0-56-amd64; empty if apt does not know it.
s_kernel_package () {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }'
}

# The newest prepared kernel in the cache, if any.
s_newest_cached () {
    ls -d "$cache"/linux-image-*/vmlinux 2>/dev/null | sort -V | tail -1
}

# s_fallback REASON: uses a cached kernel, or fails with REASON.
s_fallback () {
    local old
    old=$(s_newest_cached)
    if [ -n "$old" ]; then
        say "$1; using the cached $old"
        echo "$old"
        exit 0
    fi
    say "$1"
    exit 1
}

for tool in apt-get apt-cache dpkg-deb xz tar grep flock timeout; do
    command -v $tool >/dev/null || s_fallback "$tool is not installed"
done

pkg=$(s_kernel_package)
if [ -n "$pkg" ] && [ -f "$cache/$pkg/vmlinux" ]; then
    echo "$cache/$pkg/vmlinux"
    exit 0
fi
if ! { mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ]; }; then
    # A user without a writable home still gets a cache, per machine boot.
    [ -z "${CAIRN_VM_CACHE:-}" ] && cache=${TMPDIR:-/tmp}/cairn-vm-$(id -u)
    mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] && [ -O "$cache" ] ||
        s_fallback "cannot write the cache $cache (set CAIRN_VM_CACHE)"
fi

# One preparation at a time; the others wait and then find it done.
exec 9>"$cache/.lock"
flock -w 600 9 || s_fallback "timed out waiting for the lock on $cache"

work=$(mktemp -d "$cache/.build.XXXXXX") || s_fallback "cannot create a directory in $cache"
trap 'rm -rf "$work"' EXIT

# s_download PKG: apt-get download into $work, bounded in time.
s_download () {
    (cd "$work" && timeout 300 apt-get download -q \
        -o APT::Sandbox::User="$(id -un)" \
        -o Acquire::http::Timeout=30 -o Acquire::Retries=2 "$1") \
        >"$work/apt.log" 2>&1
}

start=$(date +%s)
if [ -z "$pkg" ] || ! s_download "$pkg"; then
    # No package lists, or stale ones naming a kernel the archive no
    # longer has: refresh them once if we may.
    if [ "$(id -u)" -eq 0 ]; then
        say "refreshing the package lists (apt-get update)"
        timeout 300 apt-get update -q >"$work/update.log" 2>&1
        pkg=$(s_kernel_package)
        if [ -n "$pkg" ] && [ -f "$cache/$pkg/vmlinux" ]; then
            echo "$cache/$pkg/vmlinux"
            exit 0
        fi
        [ -n "$pkg" ] && s_download "$pkg"
    else
        false
    fi || {
        [ -f "$work/apt.log" ] && tail -3 "$work/apt.log" | sed 's/^/build-vm:   /' >&2
        s_fallback "cannot download ${pkg:-a kernel: apt-cache does not know linux-image-amd64}"
    }
fi
[ -n "$pkg" ] && [ -f "$cache/$pkg/vmlinux" ] && { echo "$cache/$pkg/vmlinux"; exit 0; }
deb=$(ls "$work"/"$pkg"_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || s_fallback "apt-get download of $pkg left no .deb"
say "downloaded $(basename "$deb") in $(( $(date +%s) - start )) s"

(cd "$work" && dpkg-deb --fsys-tarfile "$deb" | tar -x --wildcards './boot/vmlinuz-*') ||
    s_fallback "cannot unpack boot/vmlinuz-* from $deb"
vmlinuz=$(ls "$work"/boot/vmlinuz-* 2>/dev/null | head -1)
[ -n "$vmlinuz" ] || s_fallback "$deb has no boot/vmlinuz-*"

# The bzImage carries the kernel as an xz stream after its decompressor
# stub: try each xz magic (FD 37 7A 58 5A 00) until one gives an ELF.
found=
for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1 | head -5); do
    if tail -c +$((off + 1)) "$vmlinuz" | xz -dc --single-stream >"$work/vmlinux" 2>/dev/null &&
       [ "$(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]; then
        found=$off
        break
    fi
done
[ -n "$found" ] || s_fallback "no xz-compressed ELF kernel found in $(basename "$vmlinuz")"

mkdir "$work/$pkg" && mv "$work/vmlinux" "$work/$pkg/vmlinux" &&
    basename "$deb" >"$work/$pkg/source" || s_fallback "cannot write to $work"
rm -rf "${cache:?}/$pkg"
mv "$work/$pkg" "$cache/$pkg" || s_fallback "cannot move the kernel into $cache"
# Older kernels are never used again while this one exists.
for old in "$cache"/linux-image-*; do
    [ "$old" = "$cache/$pkg" ] || rm -rf "$old"
done
say "prepared $cache/$pkg/vmlinux in $(( $(date +%s) - start )) s"
echo "$cache/$pkg/vmlinux"
