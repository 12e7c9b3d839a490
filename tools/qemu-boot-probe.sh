#!/usr/bin/env bash
# qemu-boot-probe.sh — boot a q35 topology of pcie-root-ports on real QEMU (TCG) with real
# firmware and a tiny Linux guest, and report what the firmware and the guest did with PCI I/O
# space. The firmware-limit tests hold the tool's predictions to this.
#
#   qemu-boot-probe.sh FIRMWARE PORTS IORESERVE KIND [FILLED]
#     FIRMWARE   seabios | ovmf
#     PORTS      pcie-root-ports on pcie.0, in libvirt's layout (slot 2 onwards, 8 functions a
#                slot, multifunction='on' on function 0, chassis 1.., port 0x10..)
#     IORESERVE  default | BYTES (0 adds -global pcie-root-port.io-reserve=0)
#     KIND       empty | virtio | virtio-trans | e1000e | br-e1000 | br-rtl8139: the device behind
#                each filled port (br-*: a pcie-to-pci-bridge with that NIC behind it)
#     FILLED     how many of the first ports get a device (default: all; 0 for empty)
#   Environment: MACHINE (default q35), TIMEOUT seconds (default 300), KEEP=DIR keeps the logs,
#     ROOT=DIR boots with the QEMU, SeaBIOS and OVMF installed in that root (a Debian chroot made by
#     tools/libvirt-sandbox.sh: another release's firmware), in a private mount namespace; needs root.
#     FIRMWARE_RELEASE=1 prints the releases used (qemu=, seabios=, ovmf=) on the line too.
#   machine=missing ends the line when this QEMU has no such machine type (pc-q35-6.1 on QEMU 5.2).
#
# Prints one line of key=value:
#   end=guest_poweroff|fw_panic|no_guest_output|timeout   how the run ended
#   boot=ok|no                    the guest kernel reached its init and reported
#   fw_bars_unassigned=N          BARs the guest found unprogrammed by the firmware
#   fw_root_bars_unassigned=N     of those, on bus 0 (the chipset's AHCI, SMBus): OVMF gave up as a whole
#   rp=N rp_noio_linux=N          root ports, and those Linux could give no I/O window
#   devs_io=N devs_io_hw_missing=N   NICs with an I/O BAR, and those whose I/O BAR is not
#                                 programmed or sits behind a bridge that forwards no I/O
# Needs: qemu-system-x86 (QEMU's SeaBIOS), ovmf, a kernel in /boot (linux-image-amd64),
# busybox-static, cpio, gzip.
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
fw=$1 ports=$2 ioreserve=$3 kind=$4
filled=${5:-$([ "$kind" = empty ] && echo 0 || echo "$ports")}
machine=${MACHINE:-q35} timeout_s=${TIMEOUT:-300}
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
busybox=$(command -v busybox || true)
[ -n "$kernel" ] && [ -n "$busybox" ] || { echo "qemu-boot-probe: needs a kernel in /boot and busybox-static" >&2; exit 2; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/libvirt-pci/probe
mkdir -p "$cache"
# The guest: report PCI facts on the serial console from sysfs and config space, then power off.
initrd=$(bash "$(dirname "$0")/guest-initrd.sh" ioguest <<'GUEST'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys
cfg() { od -An -tx1 -j "$2" -N "$3" "/sys/bus/pci/devices/$1/config" | tr -d ' \n'; }
echo "@@@BEGIN"
for d in /sys/bus/pci/devices/*; do
  b=${d##*/}; id=$(cat "$d/vendor"):$(cat "$d/device"); class=$(cat "$d/class")
  parent=$(basename "$(dirname "$(readlink -f "$d")")")
  # the bridge I/O window Linux gave (resource 13): IORESOURCE_IO set, not unset/disabled
  win=no; i=0
  while read -r s e f; do
    if [ $i -eq 13 ] && [ $((f & 0x100)) -ne 0 ] && [ $((f & 0x30000000)) -eq 0 ] && [ $((e)) -gt $((s)) ]; then win=yes; fi
    i=$((i + 1))
  done < "$d/resource"
  cmd=$(cfg "$b" 4 1); io_decode=$(( 0x$cmd & 1 ))
  case $class in
    0x0604*) # bridge: I/O base and limit registers (0x1c, 0x1d) say whether it forwards I/O
      base=$(cfg "$b" 28 1); limit=$(cfg "$b" 29 1)
      fwd=no; [ $(( 0x$base & 0xf0 )) -le $(( 0x$limit & 0xf0 )) ] && [ $io_decode -eq 1 ] && fwd=yes
      echo "PCI $b id=$id bridge=1 parent=$parent linux_io_window=$win forwards_io=$fwd" ;;
    *) # endpoint: an I/O BAR as programmed in config space (bit 0 set, address not 0)
      iobar=none
      for off in 16 20 24 28 32 36; do
        v=$(od -An -tx4 -j $off -N4 "$d/config" | tr -d ' ')
        if [ $(( 0x$v & 1 )) -eq 1 ]; then iobar=$([ $(( 0x$v & 0xfffc )) -ne 0 ] && echo set || echo unset); break; fi
      done
      echo "PCI $b id=$id bridge=0 parent=$parent iobar=$iobar" ;;
  esac
done
dmesg | grep -E '^\[[ 0-9.]+\] pci 0000:' | sed 's/^/DMESG /'
echo "@@@END"
poweroff -f
GUEST
)

root=${ROOT:-}
if [ -n "$root" ]; then
  [ -x "$root/usr/bin/qemu-system-x86_64" ] || { echo "qemu-boot-probe: no qemu-system-x86_64 in $root" >&2; exit 2; }
  # QEMU sees paths inside the root: the run folder lives there, with the kernel and initrd copied in
  work=$(mktemp -d "$root/tmp/qemu-boot-probe.XXXXXX")
  [ -z "${KEEP:-}" ] || echo "qemu-boot-probe: logs in $work" >&2
  [ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
  cp "$kernel" "$work/vmlinuz"; cp "$initrd" "$work/initrd"
  inner=${work#"$root"} kernel=$inner/vmlinuz initrd=$inner/initrd
else
  work=${KEEP:-$(mktemp -d "$cache/run.XXXXXX")}
  mkdir -p "$work"
  [ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
  inner=$work
fi
args=(-machine "$machine" -accel tcg -m 512 -smp 1 -nodefaults -display none -monitor none -no-reboot
      -serial "file:$inner/serial.log" -chardev "file,id=fw,path=$inner/firmware.log" -device isa-debugcon,iobase=0x402,chardev=fw
      -kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 loglevel=7 log_buf_len=8M panic=-1")
case "$fw" in
  seabios) ;;
  ovmf) cp "$root/usr/share/OVMF/OVMF_VARS_4M.fd" "$work/vars.fd"
        args+=(-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
               -drive "if=pflash,format=raw,unit=1,file=$inner/vars.fd") ;;
  *) echo "qemu-boot-probe: firmware is seabios or ovmf" >&2; exit 2 ;;
esac
[ "$ioreserve" = default ] || args+=(-global "pcie-root-port.io-reserve=$ioreserve")
for ((i = 0; i < ports; i++)); do
  mf=$([ $((i % 8)) -eq 0 ] && echo ",multifunction=on" || true)
  args+=(-device "pcie-root-port,id=rp$i,bus=pcie.0,chassis=$((i + 1)),port=$((0x10 + i)),addr=$(printf '0x%x.0x%x' $((2 + i / 8)) $((i % 8)))$mf")
done
for ((i = 0; i < filled && i < ports; i++)); do
  case "$kind" in
    virtio) args+=(-device "virtio-net-pci,bus=rp$i") ;;
    virtio-trans) args+=(-device "virtio-net-pci,disable-legacy=off,bus=rp$i") ;;
    e1000e) args+=(-device "e1000e,bus=rp$i") ;;
    br-e1000|br-rtl8139) args+=(-device "pcie-pci-bridge,id=br$i,bus=rp$i" -device "${kind#br-},bus=br$i,addr=0x1") ;;
    empty) ;;
    *) echo "qemu-boot-probe: unknown kind $kind" >&2; exit 2 ;;
  esac
done

if [ -n "$root" ]; then
  # unshare and chroot exec in place, so $! is QEMU itself; nothing stays mounted afterwards
  ROOT=$root unshare --mount --propagation private /bin/sh -ec '
    mount -t proc proc "$ROOT/proc"; mount --rbind /dev "$ROOT/dev"
    exec chroot "$ROOT" qemu-system-x86_64 "$@"' qemu "${args[@]}" > "$work/qemu.log" 2>&1 &
else
  qemu-system-x86_64 "${args[@]}" > "$work/qemu.log" 2>&1 &
fi
qemu=$!
end=timeout
for ((s = 0; s < timeout_s; s++)); do
  if ! kill -0 $qemu 2>/dev/null; then end=guest_poweroff; break; fi
  # SeaBIOS halts for good after "PCI: out of I/O address space"
  if grep -qaE 'out of [A-Za-z/ ]+ address space|panic' "$work/firmware.log" 2>/dev/null; then end=fw_panic; break; fi
  if [ $s -ge 150 ] && ! grep -q 'Linux version' "$work/serial.log" 2>/dev/null; then end=no_guest_output; break; fi
  sleep 1
done
kill $qemu 2>/dev/null || true
wait $qemu 2>/dev/null || true
[ "$end" = guest_poweroff ] && ! grep -q '@@@END' "$work/serial.log" 2>/dev/null && end=guest_died

releases=
if [ -n "${FIRMWARE_RELEASE:-}" ]; then
  q() { dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Version}' "$1" 2>/dev/null | sed 's/^[0-9]*://; s/[-+].*//'; }
  releases=" qemu=$(q qemu-system-x86) seabios=$(q seabios) ovmf=$(q ovmf)"
fi
touch "$work/serial.log"
nomachine=$(grep -qi 'unsupported machine type' "$work/qemu.log" 2>/dev/null && echo 1 || echo 0)
tr -d '\r' < "$work/serial.log" | awk -v end="$end" -v releases="$releases" -v nomachine="$nomachine" '
  /^@@@BEGIN/ { on = 1; next }  /^@@@END/ { done = 1; on = 0 }
  !on { next }
  /^PCI / {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    b = $2; parent[b] = f["parent"]; id[b] = f["id"]
    if (f["bridge"] == 1) { fwd[b] = f["forwards_io"]; if (id[b] == "0x1b36:0x000c") { rp++; if (f["linux_io_window"] != "yes") rpnoio++ } }
    else if (id[b] ~ /^0x8086:0x10d3$|^0x8086:0x100e$|^0x10ec:0x8139$|^0x1af4:0x1000$/ && b !~ /^0000:00:/) { dev[b] = f["iobar"] }
    delete f; next }
  # a BAR as the guest found it: unprogrammed when at 0 (6.1 backports: "BAR 0 [mem 0x0-..]", older: "reg 0x10: [...]"),
  # or an I/O BAR left as sized, all ones past 16 bits (OVMF 2020.11: "BAR 2 [io  0xffffffe0-0xffffffff]")
  /^DMESG / && /(BAR [0-9]|reg 0x[0-9a-f]+:) \[((io|mem) +0x0+|io +0x[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]+)-/ { unset++; if ($0 ~ / pci 0000:00:/) rootunset++ }
  END {
    for (b in dev) {
      if (dev[b] == "none") continue
      n++; ok = dev[b] == "set"
      for (p = parent[b]; p ~ /^0000:/ && ok; p = parent[p]) if (fwd[p] != "yes") ok = 0
      if (!ok) missing++
    }
    printf "end=%s boot=%s fw_bars_unassigned=%d fw_root_bars_unassigned=%d rp=%d rp_noio_linux=%d devs_io=%d devs_io_hw_missing=%d%s%s\n",
      end, done ? "ok" : "no", unset, rootunset, rp, rpnoio, n, missing, releases, (nomachine ? " machine=missing" : "")
  }'
