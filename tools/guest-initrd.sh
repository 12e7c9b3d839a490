#!/usr/bin/env bash
# guest-initrd.sh NAME [FILE...] < INIT — the tiny Linux guest of the boot probes: busybox-static,
# the /init script read from stdin and each FILE at its own absolute path (host binaries, their
# libraries, kernel modules), packed as a gzip'd cpio and cached by content under
# ~/.cache/libvirt-pci/probe/NAME-HASH.cpio.gz (XDG_CACHE_HOME honoured). Prints its path.
# Needs: busybox-static, cpio, gzip.
set -euo pipefail
name=${1:?usage: guest-initrd.sh NAME [FILE...] < INIT}
shift
files=("$@")
busybox=$(command -v busybox) || { echo "guest-initrd: busybox-static is not installed" >&2; exit 2; }
cache=${XDG_CACHE_HOME:-$HOME/.cache}/libvirt-pci/probe
mkdir -p "$cache"
init=$(cat)
initrd=$cache/$name-$({ printf '%s' "$init"; printf '%s\n' "${files[@]}"; cat "$busybox" "${files[@]}"; } | sha256sum | cut -c1-12).cpio.gz
(
  flock 8
  if [ ! -s "$initrd" ]; then
    root=$(mktemp -d "$cache/root.XXXXXX")
    mkdir -p "$root"/{bin,proc,sys,dev}
    cp "$busybox" "$root/bin/busybox"
    printf '%s\n' "$init" > "$root/init"
    chmod 755 "$root/init"
    for f in "${files[@]}"; do mkdir -p "$root$(dirname "$f")"; cp -L "$f" "$root$f"; done
    tmp=$(mktemp "$initrd.XXXXXX")
    (cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -9) > "$tmp"
    mv -f "$tmp" "$initrd"
    rm -rf "$root"
  fi
) 8>"$cache/.lock"
echo "$initrd"
