#!/usr/bin/env bash
# libvirt-sandbox.sh — a private libvirtd that the integration tests ask what libvirt stores for a
# domain XML: the host's libvirt (Debian 12: 9.0), or with --debian SUITE the libvirt of another
# Debian release installed in a chroot (bullseye: 7.0 with QEMU 5.2; trixie: 11.3 with QEMU 10.0;
# trixie-backports: 12.9 with QEMU 11.1).
#
#   libvirt-sandbox.sh [--debian SUITE] [--validate] [--raw] FILE|-     (SUITE: bullseye, bookworm, trixie, trixie-backports)
#                              define under a throw-away name, print `dumpxml --inactive`, undefine
#   libvirt-sandbox.sh [--debian SUITE] start | stop | status | uri | version
#                              manage the daemon (start is idempotent); version prints X.Y.Z
#   libvirt-sandbox.sh --debian SUITE make
#                              build the chroot once (debootstrap, then libvirt, QEMU, OVMF in it;
#                              ~5 min, ~800 MB; kept, and reused by every later start)
#
# The host daemon runs as root in a mount namespace of its own: /etc/libvirt, /var/lib/libvirt,
# /run/libvirt, /var/log/libvirt and /var/cache/libvirt are bind-mounted from a state folder, so
# the host's libvirt (if any) is never touched and the two never meet. A chroot's daemon runs in a
# mount namespace too (proc, /sys and /dev mounted into the chroot there, so nothing is left mounted
# on the host); its /run/libvirt is the chroot's own, and the host's virsh talks to it through the
# socket path. QEMU runs as root, TCG, without cgroups, namespaces or a security driver.
#
# By default the output carries the input's <name> and <uuid> again (or no <uuid> when the input
# had none), so two runs compare equal; --raw prints libvirt's bytes as they are.
#
# Exit: 0 ok; 2 usage; 3 libvirt refused the XML (its message on stderr); 4 the daemon did not
# start (or the chroot is not made); 5 dumpxml failed.
# Environment: LIBVIRT_SANDBOX_DIR (state, default /var/tmp/libvirt-pci-sandbox, with --debian
# /var/tmp/libvirt-pci-SUITE), LIBVIRT_SANDBOX_WAIT (seconds for a first start, which probes QEMU;
# default 90), LIBVIRT_PCI_DEBIAN_MIRROR (for make; default: the archive apt is configured with; none is written here).
# Needs: root, util-linux (unshare, flock), virsh, xmlstarlet; libvirtd on the host, or debootstrap
# for make.
set -u
suite=
if [ "${1:-}" = --debian ]; then
  suite=${2:-}
  case "$suite" in bullseye|bookworm|trixie|trixie-backports) ;; *) echo "libvirt-sandbox: --debian takes bullseye, bookworm, trixie or trixie-backports" >&2; exit 2 ;; esac
  shift 2
fi
wait_s=${LIBVIRT_SANDBOX_WAIT:-90}
if [ -z "$suite" ]; then
  state=${LIBVIRT_SANDBOX_DIR:-/var/tmp/libvirt-pci-sandbox}
  sock=$state/run/libvirt-sock
  pidfile=$state/libvirtd.pid
  daemon_log=$state/log/libvirtd.log
else
  state=${LIBVIRT_SANDBOX_DIR:-/var/tmp/libvirt-pci-$suite}
  root=$state/root
  sock=$root/run/libvirt/libvirt-sock
  pidfile=$root/run/libvirtd.pid
  daemon_log=$root/var/log/libvirt/libvirtd.log
fi
uri="qemu:///system?socket=$sock"

fail() { local code=$1; shift; echo "libvirt-sandbox: $*" >&2; exit "$code"; }
virsh_() { virsh -q -c "$uri" "$@"; }
answers() { [ -S "$sock" ] && timeout 10 virsh -q -c "$uri" uri >/dev/null 2>&1; }

running_pid() { # the daemon's pid when the pid file names a live libvirtd
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = libvirtd ] && echo "$pid"
}

qemu_conf() {
  printf '%s\n' 'user = "root"' 'group = "root"' 'dynamic_ownership = 0' 'remember_owner = 0' \
    'security_driver = "none"' 'namespaces = [ ]' 'cgroup_controllers = [ ]' 'stdio_handler = "file"'
}

configure() {
  mkdir -p "$state"/{etc,lib,run,log,cache}
  printf '%s\n' 'unix_sock_dir = "/run/libvirt"' 'unix_sock_rw_perms = "0700"' 'unix_sock_ro_perms = "0700"' \
    'auth_unix_rw = "none"' 'auth_unix_ro = "none"' 'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"' \
    > "$state/etc/libvirtd.conf"
  qemu_conf > "$state/etc/qemu.conf"
  # libvirtd looks up its built-in QEMU user (libvirt-qemu) before it reads qemu.conf and stops
  # when that user is unknown; the namespace gets passwd/group files that have it.
  cp /etc/passwd "$state/passwd"; cp /etc/group "$state/group"
  grep -q '^libvirt-qemu:' "$state/passwd" || echo 'libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin' >> "$state/passwd"
  grep -q '^libvirt-qemu:' "$state/group" || echo 'libvirt-qemu:x:64055:' >> "$state/group"
}

launch_host() {
  command -v libvirtd >/dev/null || [ -x /usr/sbin/libvirtd ] || fail 4 "libvirtd is not installed (apt-get install libvirt-daemon-driver-qemu libvirt-daemon libvirt-clients qemu-system-x86)"
  configure
  rm -f "$state"/run/libvirt-sock* "$state"/run/libvirt-admin-sock "$pidfile"
  mkdir -p /etc/libvirt /var/lib/libvirt /run/libvirt /var/log/libvirt /var/cache/libvirt
  STATE=$state unshare --mount --propagation private /bin/sh -ec '
    for pair in etc:/etc/libvirt lib:/var/lib/libvirt run:/run/libvirt log:/var/log/libvirt cache:/var/cache/libvirt \
                passwd:/etc/passwd group:/etc/group; do
      mount --bind "$STATE/${pair%%:*}" "${pair#*:}"
    done
    exec /usr/sbin/libvirtd --daemon --pid-file "$STATE/libvirtd.pid" --config /etc/libvirt/libvirtd.conf
  ' </dev/null >>"$state/log/start.log" 2>&1 || fail 4 "libvirtd did not start; see $state/log/start.log"
}

launch_chroot() {
  [ -x "$root/usr/sbin/libvirtd" ] || fail 4 "no $suite chroot at $root (make it once: $0 --debian $suite make)"
  mkdir -p "$state/log" "$root/run/libvirt"
  printf '%s\n' 'unix_sock_rw_perms = "0700"' 'unix_sock_ro_perms = "0700"' 'auth_unix_rw = "none"' 'auth_unix_ro = "none"' \
    'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"' > "$root/etc/libvirt/libvirtd.conf"
  qemu_conf > "$root/etc/libvirt/qemu.conf"
  rm -f "$root"/run/libvirt/libvirt-sock* "$root"/run/libvirt/libvirt-admin-sock "$pidfile"
  ROOT=$root unshare --mount --propagation private /bin/sh -ec '
    mount -t proc proc "$ROOT/proc"
    mount --rbind /sys "$ROOT/sys"
    mount --rbind /dev "$ROOT/dev"
    exec chroot "$ROOT" /usr/sbin/libvirtd --daemon --pid-file /run/libvirtd.pid --config /etc/libvirt/libvirtd.conf
  ' </dev/null >>"$state/log/start.log" 2>&1 || fail 4 "libvirtd did not start in $root; see $state/log/start.log"
}

start() {
  answers && return 0
  [ "$(id -u)" = 0 ] || fail 4 "needs root (a private mount namespace)"
  mkdir -p "$state"
  exec 9>"$state/.lock"
  flock -w "$wait_s" 9 || fail 4 "$state/.lock is held"
  if ! answers && ! running_pid >/dev/null; then
    if [ -z "$suite" ]; then launch_host; else launch_chroot; fi
  fi
  local i
  for ((i = 0; i < wait_s * 4; i++)); do
    answers && { flock -u 9; return 0; }
    if [ "$i" -ge 8 ] && ! running_pid >/dev/null; then break; fi
    sleep 0.25
  done
  flock -u 9
  fail 4 "libvirtd does not answer on $sock; see $daemon_log"
}

mirror() { # the Debian archive apt is configured with (the corpus fetcher does the same)
  local m=${LIBVIRT_PCI_DEBIAN_MIRROR:-}
  [ -n "$m" ] || m=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
                     grep -v security | awk '{print $2}' | head -1)
  [ -n "$m" ] || fail 4 "no Debian archive in apt's configuration (set LIBVIRT_PCI_DEBIAN_MIRROR to one)"
  echo "$m"
}

# What the chroot holds: libvirt's QEMU driver and client, QEMU (with the SPICE modules: qxl video
# is a module in Debian 13), OVMF for UEFI domains, and virtinst (virt-xml 5.0, whose --convert-to-q35
# the conversion tests compare with).
# Debian 11 (bullseye) builds SPICE into QEMU 5.2; there is no modules package. trixie-backports is
# Debian 13 with libvirt and QEMU taken from its backports (libvirt 12.x, QEMU 11.x).
chroot_packages="libvirt-daemon-driver-qemu libvirt-daemon libvirt-clients qemu-system-x86 ovmf virtinst man-db"
[ "$suite" = bullseye ] || chroot_packages="$chroot_packages qemu-system-modules-spice"
base_suite=${suite%-backports}
target_release=
[ "$suite" = "$base_suite" ] || target_release="-t $suite"

install_in() { # ROOT: install (or complete) the packages inside, with proc mounted in a private namespace
  ROOT=$1 PKGS=$chroot_packages TARGET=$target_release unshare --mount --propagation private /bin/sh -ec '
    mount -t proc proc "$ROOT/proc"
    chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $TARGET $PKGS
    chroot "$ROOT" apt-get clean
  ' >>"$state/log/make.log" 2>&1 || fail 4 "installing libvirt in the chroot failed; see $state/log/make.log"
}

prepare_root() { # ROOT: what the suite's packages need before they install
  local r=$1
  if [ -n "$target_release" ]; then # the backports suite, from the same archive as the base
    echo "deb $archive $suite main" > "$r/etc/apt/sources.list.d/backports.list"
    chroot "$r" apt-get update >>"$state/log/make.log" 2>&1 || fail 4 "apt-get update in the chroot failed; see $state/log/make.log"
  fi
  # libvirtd looks up its built-in QEMU user and the kvm group before it reads qemu.conf (bullseye's
  # stops at start without them; see configure)
  grep -q '^kvm:' "$r/etc/group" || echo 'kvm:x:64056:' >> "$r/etc/group"
  grep -q '^libvirt-qemu:' "$r/etc/group" || echo 'libvirt-qemu:x:64055:' >> "$r/etc/group"
  grep -q '^libvirt-qemu:' "$r/etc/passwd" || echo 'libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin' >> "$r/etc/passwd"
}

make_chroot() { # debootstrap, then the packages inside (systemd's pre-dependency breaks a one-stage --include)
  [ -n "$suite" ] || fail 2 "make is for --debian SUITE"
  [ "$(id -u)" = 0 ] || fail 4 "needs root"
  mkdir -p "$state/log"
  if [ -x "$root/usr/sbin/libvirtd" ]; then
    # made by an older version of this script: add what the list has gained (QEMU's capabilities are probed again)
    # shellcheck disable=SC2086
    if ! chroot "$root" dpkg-query -W $chroot_packages >/dev/null 2>&1; then
      stop; install_in "$root"; rm -rf "$root"/var/cache/libvirt/qemu/capabilities
    fi
    echo "libvirt-sandbox: $root is made: libvirt $(chroot "$root" dpkg-query -W -f '${Version}' libvirt-daemon)" >&2
    return 0
  fi
  command -v debootstrap >/dev/null || fail 4 "debootstrap is not installed (apt-get install debootstrap)"
  archive=$(mirror) || exit 4
  local partial=$state/root.partial
  rm -rf "$partial"
  echo "libvirt-sandbox: debootstrap $suite from $archive (log: $state/log/make.log)" >&2
  debootstrap --variant=minbase "$base_suite" "$partial" "$archive" >"$state/log/make.log" 2>&1 ||
    fail 4 "debootstrap failed; see $state/log/make.log"
  printf '#!/bin/sh\nexit 101\n' > "$partial/usr/sbin/policy-rc.d"; chmod +x "$partial/usr/sbin/policy-rc.d"
  prepare_root "$partial"
  install_in "$partial"
  rm -rf "$root"; mv "$partial" "$root"
  echo "libvirt-sandbox: $suite chroot made: libvirt $(chroot "$root" dpkg-query -W -f '${Version}' libvirt-daemon)" >&2
}

stop() {
  local pid d i
  pid=$(running_pid) || { rm -f "$pidfile"; return 0; }
  if answers; then # guests it started would outlive it
    for d in $(virsh_ list --name 2>/dev/null); do virsh_ destroy "$d" >/dev/null 2>&1; done
  fi
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null
  rm -f "$pidfile"
}

store() { # FILE VALIDATE RAW: what libvirt stores for FILE
  local file=$1 validate=$2 raw=$3 name uuid temp out rc
  command -v xmlstarlet >/dev/null || fail 2 "xmlstarlet is not installed"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/libvirt-sandbox.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  if [ "$file" = - ]; then cat > "$tmp/in.xml"; else cat -- "$file" > "$tmp/in.xml" || fail 2 "cannot read $file"; fi
  name=$(xmlstarlet sel -t -v '/domain/name' "$tmp/in.xml" 2>/dev/null) || fail 2 "the input has no /domain/name"
  uuid=$(xmlstarlet sel -t -v '/domain/uuid' "$tmp/in.xml" 2>/dev/null)
  start || exit 4
  # a fresh name and no uuid: tests define in parallel
  temp=sandbox-$$-$RANDOM$RANDOM
  xmlstarlet ed -P -d '/domain/uuid' -u '/domain/name' -v "$temp" "$tmp/in.xml" > "$tmp/define.xml" || fail 2 "not XML"
  if ! out=$(virsh_ define ${validate:+--validate} "$tmp/define.xml" 2>&1 >/dev/null); then
    printf '%s\n' "$out" >&2; exit 3
  fi
  out=$(virsh_ dumpxml --inactive "$temp" 2>&1); rc=$?
  virsh_ undefine --nvram "$temp" >/dev/null 2>&1 || virsh_ undefine "$temp" >/dev/null 2>&1
  [ $rc -eq 0 ] || { printf '%s\n' "$out" >&2; exit 5; }
  if [ -z "$raw" ]; then
    # back to the input's name (libvirt derives paths such as the NVRAM file from it) and uuid
    name=$(printf '%s' "$name" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')
    out=${out//"$temp"/"$name"}
    if [ -n "$uuid" ]; then out=$(printf '%s\n' "$out" | sed "0,/<uuid>[^<]*<\/uuid>/s//<uuid>$uuid<\/uuid>/")
    else out=$(printf '%s\n' "$out" | sed '0,/^ *<uuid>[^<]*<\/uuid>$/{//d}'); fi
  fi
  printf '%s\n' "$out"
}

case "${1:-}" in
  start|--start) start; exit $? ;;
  stop|--stop) stop; exit 0 ;;
  status|--status) answers && { echo "answering on $uri"; exit 0; }; echo "not answering"; exit 1 ;;
  uri|--uri) echo "$uri"; exit 0 ;;
  version|--version) start || exit 4; virsh_ version --daemon | sed -n 's/^Running against daemon: *//p'; exit 0 ;;
  make|--make) make_chroot; exit $? ;;
  ''|-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac
validate= raw= input= tmp=
for a in "$@"; do
  case "$a" in
    --validate) validate=1 ;;
    --raw) raw=1 ;;
    -) input=- ;;
    -*) fail 2 "unknown option $a" ;;
    *) [ -z "$input" ] || fail 2 "one input only"; input=$a ;;
  esac
done
[ -n "$input" ] || fail 2 "no input"
store "$input" "$validate" "$raw"
