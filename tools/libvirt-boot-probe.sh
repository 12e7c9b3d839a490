#!/usr/bin/env bash
# libvirt-boot-probe.sh — boot a domain XML through the sandbox's real libvirt (TCG) with real
# firmware and a tiny Linux guest, and print what the guest sees of its PCI devices.
#
#   libvirt-boot-probe.sh DOMAIN.xml [seabios|ovmf]
#
# What is changed so that any domain can boot here, and nothing else: name and uuid (a throw-away
# domain), type qemu, 512 MiB and 1 vCPU, features TCG cannot give (<hyperv>, <kvm>, <pmu>,
# <vmport>, the hypervclock timer; the <cpu> element: host-passthrough needs KVM) removed, the kernel from /boot with a busybox initrd (direct
# kernel boot; OVMF: the pflash loader, a fresh NVRAM and the <acpi/> feature), every disk's source a scratch image of
# its own format, every network interface user networking (model, MAC, address and <acpi> kept),
# PCI hostdevs dropped (nothing to pass through), serial and console a log file. Devices, models
# and PCI addresses are the domain's own.
#
# Prints: boot=ok|no, then one line per PCI function the guest found, per hotplug slot the
# guest's kernel registered, and per NIC with the names the host's systemd-udev (udevadm, run
# inside the guest with its libraries) gives it:
#   dev BDF class=0x020000 id=8086:100e acpi_index=N|-
#   slot NAME 0000:BB:SS
#   nic BDF ID_NET_NAME_MAC=… [ID_NET_NAME_ONBOARD=…] [ID_NET_NAME_SLOT=…] ID_NET_NAME_PATH=…
# (BDF is the guest's bus:slot.function, the firmware's bus numbering).
# Exit: 0 the guest reported; 1 it did not (the log is printed); 2 usage; 4 no sandbox.
# Environment: TIMEOUT seconds (default 240), KEEP=FILE keeps the domain as defined,
# LIBVIRT_SANDBOX_* (see libvirt-sandbox.sh).
# Needs: root, libvirt-sandbox.sh's needs, qemu-utils, a kernel in /boot, busybox-static, cpio, ovmf.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
input=$1 fw=${2:-seabios} timeout_s=${TIMEOUT:-240}
here=$(cd "$(dirname "$0")" && pwd)
sandbox() { bash "$here/libvirt-sandbox.sh" "$@"; }
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
busybox=$(command -v busybox || true)
[ -n "$kernel" ] && [ -n "$busybox" ] || { echo "libvirt-boot-probe: needs a kernel in /boot and busybox-static" >&2; exit 2; }
sandbox start || exit 4
uri=$(sandbox uri)

# The guest: every PCI function with its class, ids and ACPI index; then every NIC with the names
# systemd-udev gives it. The names are udev's own: the host's udevadm (with its libraries) runs in
# the guest as `udevadm test-builtin net_id` over the guest's sysfs, after the NIC drivers (the
# kernel's modules, dependencies first) are loaded; the chosen name follows the default
# NamePolicy (99-default.link: onboard, then slot, then path). Then power off.
kver=${kernel#/boot/vmlinuz-}
modules=() seen=" "
add_module() { # dependencies first
  local m=$1 d
  case "$seen" in *" $m "*) return ;; esac
  seen="$seen$m "
  for d in $(modinfo -k "$kver" -F depends "$m" 2>/dev/null | tr ',' ' '); do add_module "$d"; done
  local f; f=$(modinfo -k "$kver" -F filename "$m" 2>/dev/null) || return 0
  case "$f" in /*) modules+=("$f") ;; esac
}
for m in virtio_pci virtio_net e1000 e1000e 8139cp 8139too ne2k-pci pcnet32 vmxnet3; do add_module "$m"; done
udevadm=$(command -v udevadm || true)
files=("${modules[@]}")
if [ -n "$udevadm" ]; then
  files+=("$udevadm" $(ldd "$udevadm" | grep -o '/[^ ]*'))
fi
initrd=$(bash "$(dirname "$0")/guest-initrd.sh" lsguest "${files[@]}" <<GUEST
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev 2>/dev/null
echo LIBVIRT-PCI-GUEST-UP
for m in ${modules[*]}; do insmod "\$m" 2>/dev/null; done
for d in /sys/bus/pci/devices/*; do
  echo "LIBVIRT-PCI-DEV \$(basename "\$d" | cut -d: -f2-) class=\$(cat "\$d/class") id=\$(cut -c3- "\$d/vendor"):\$(cut -c3- "\$d/device") acpi_index=\$(cat "\$d/acpi_index" 2>/dev/null || echo -)"
done
for s in /sys/bus/pci/slots/*; do [ -e "\$s/address" ] && echo "LIBVIRT-PCI-SLOT \$(basename "\$s") \$(cat "\$s/address")"; done
for n in /sys/class/net/*; do
  [ -e "\$n/device" ] || continue
  dev=\$(readlink -f "\$n/device"); case "\$(basename "\$dev")" in virtio*) dev=\$(dirname "\$dev") ;; esac
  bdf=\$(basename "\$dev" | cut -d: -f2-)
  ids=\$(${udevadm:-false} test-builtin net_id "\$n" 2>/dev/null | grep '^ID_NET_NAME_' | tr '\n' ' ')
  echo "LIBVIRT-PCI-NIC \$bdf \$ids"
done
echo LIBVIRT-PCI-GUEST-END
poweroff -f
GUEST
)

work=$(mktemp -d "${TMPDIR:-/tmp}/libvirt-boot-probe.XXXXXX")
name=bootprobe-$$-$RANDOM
cleanup() {
  virsh -q -c "$uri" destroy "$name" >/dev/null 2>&1 || true
  virsh -q -c "$uri" undefine --nvram "$name" >/dev/null 2>&1 || virsh -q -c "$uri" undefine "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
log=$work/serial.log
x=(xmlstarlet ed -P)
xml=$("${x[@]}" -d '/domain/uuid' -u '/domain/name' -v "$name" -u '/domain/@type' -v qemu \
  -d '/domain/memory' -d '/domain/currentMemory' -d '/domain/vcpu' -d '/domain/cpu' \
  -d '/domain/features/hyperv' -d '/domain/features/kvm' -d '/domain/features/pmu' -d '/domain/features/vmport' \
  -d '/domain/clock/timer[@name="hypervclock"]' \
  -s '/domain' -t elem -n memory -v 524288 -s '/domain' -t elem -n vcpu -v 1 \
  -d '/domain/os/boot' -d '/domain/os/loader' -d '/domain/os/nvram' -d '/domain/os/kernel' -d '/domain/os/initrd' -d '/domain/os/cmdline' \
  -s '/domain/os' -t elem -n kernel -v "$kernel" -s '/domain/os' -t elem -n initrd -v "$initrd" \
  -s '/domain/os' -t elem -n cmdline -v 'console=ttyS0 loglevel=4 panic=-1' \
  -d '/domain/devices/hostdev[@type="pci"]' -d '/domain/devices/serial' -d '/domain/devices/console' \
  -d '/domain/devices/channel[@type="spicevmc"]' -d '/domain/devices/redirdev' -d '/domain/devices/smartcard' \
  -d '/domain/devices/interface/source' -d '/domain/devices/interface/virtualport' -d '/domain/devices/interface/target' \
  -u '/domain/devices/interface/@type' -v user \
  -s '/domain/devices' -t elem -n serial -v '' "$input")
xml=$(printf '%s' "$xml" | "${x[@]}" -s '/domain/devices/serial[last()]' -t attr -n type -v file \
  -s '/domain/devices/serial[last()]' -t elem -n source -v '' -s '/domain/devices/serial[last()]/source' -t attr -n path -v "$log")
if [ "$fw" = ovmf ]; then # UEFI on x86 needs ACPI: the <acpi/> feature is added when missing
  cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/vars.fd"
  [ "$(printf '%s' "$xml" | xmlstarlet sel -t -v 'count(/domain/features)')" = 0 ] && xml=$(printf '%s' "$xml" | "${x[@]}" -s /domain -t elem -n features -v '')
  [ "$(printf '%s' "$xml" | xmlstarlet sel -t -v 'count(/domain/features/acpi)')" = 0 ] && xml=$(printf '%s' "$xml" | "${x[@]}" -s /domain/features -t elem -n acpi -v '')
  xml=$(printf '%s' "$xml" | "${x[@]}" -s '/domain/os' -t elem -n loader -v /usr/share/OVMF/OVMF_CODE_4M.fd \
    -s '/domain/os/loader' -t attr -n readonly -v yes -s '/domain/os/loader' -t attr -n type -v pflash \
    -s '/domain/os' -t elem -n nvram -v "$work/vars.fd")
fi
# every disk gets a scratch image of its own format
n=0
while read -r fmt; do
  n=$((n + 1)); img=$work/disk$n.img
  case "$fmt" in qcow2) qemu-img create -q -f qcow2 "$img" 16M ;; *) truncate -s 16M "$img" ;; esac
  xml=$(printf '%s' "$xml" | "${x[@]}" -d "(/domain/devices/disk)[$n]/source" -s "(/domain/devices/disk)[$n]" -t elem -n source -v '' \
    -s "(/domain/devices/disk)[$n]/source" -t attr -n file -v "$img" -u "(/domain/devices/disk)[$n]/@type" -v file)
done < <(printf '%s' "$xml" | xmlstarlet sel -t -m '/domain/devices/disk' -v 'concat(driver/@type, "-")' -n | sed 's/-$//')
printf '%s\n' "$xml" > "$work/domain.xml"
[ -n "${KEEP:-}" ] && cp "$work/domain.xml" "$KEEP"
virsh -q -c "$uri" define "$work/domain.xml" >/dev/null || { echo "boot=no"; echo "libvirt-boot-probe: libvirt refused the domain" >&2; exit 1; }
virsh -q -c "$uri" start "$name" >/dev/null || { echo "boot=no"; echo "libvirt-boot-probe: the domain did not start" >&2; exit 1; }
for ((i = 0; i < timeout_s * 2; i++)); do
  grep -q LIBVIRT-PCI-GUEST-END "$log" 2>/dev/null && break
  [ "$(virsh -q -c "$uri" domstate "$name" 2>/dev/null)" = "shut off" ] && break
  sleep 0.5
done
if grep -q LIBVIRT-PCI-GUEST-END "$log" 2>/dev/null; then
  echo "boot=ok"
  sed -n 's/^LIBVIRT-PCI-DEV /dev /p; s/^LIBVIRT-PCI-SLOT /slot /p; s/^LIBVIRT-PCI-NIC /nic /p' "$log" | tr -d '\r' | sed 's/ *$//'
  exit 0
fi
echo "boot=no"
tail -n 30 "$log" >&2 2>/dev/null || true
exit 1
