#!/usr/bin/env bash
# make-sysroot.sh [DIR] — a sysroot with Debian 11's glibc 2.31 and gcc 10 runtime, for linking the
# NativeAOT binary so that it runs on every host whose glibc is 2.31 or newer (Debian 11, Ubuntu
# 20.10+, RHEL 9, …); linked on the build host it would need that host's glibc (Debian 12: 2.34+).
# The packages come from Debian's archive through the bullseye chroot's own apt
# (tools/libvirt-sandbox.sh --debian bullseye make), are unpacked with dpkg -x (nothing runs), and
# their absolute symlinks (libdl.so -> /lib/x86_64-linux-gnu/libdl.so.2) are made relative, so
# that they resolve inside the sysroot rather than on the build host. Made once, then reused.
# Prints the sysroot's path. Needs root (the chroot) and dpkg.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/var/tmp/libvirt-pci-sysroot-bullseye}
if [ -f "$out/.made" ]; then echo "$out"; exit 0; fi
bash tools/libvirt-sandbox.sh --debian bullseye make >&2
root=/var/tmp/libvirt-pci-bullseye/root
pkgs="libc6 libc6-dev libgcc-10-dev libgcc-s1 linux-libc-dev libcrypt1 libcrypt-dev"
rm -rf "$root/tmp/sysroot-debs"; mkdir -p "$root/tmp/sysroot-debs"
# shellcheck disable=SC2086
chroot "$root" sh -c "cd /tmp/sysroot-debs && apt-get download $pkgs" >&2
rm -rf "$out.partial"; mkdir -p "$out.partial"
for deb in "$root"/tmp/sysroot-debs/*.deb; do dpkg -x "$deb" "$out.partial"; done
rm -rf "$root/tmp/sysroot-debs"
find "$out.partial" -type l | while read -r link; do
  target=$(readlink "$link")
  case "$target" in
    /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$out.partial$target")" "$link" ;;
  esac
done
touch "$out.partial/.made"
rm -rf "$out"; mv "$out.partial" "$out"
echo "$out"
