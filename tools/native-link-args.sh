#!/usr/bin/env bash
# native-link-args.sh — the MSBuild properties that link the NativeAOT binary against Debian 11's
# glibc 2.31 (tools/make-sysroot.sh) with clang, and binds libm's log/pow to their old versions, so
# that it runs on glibc 2.28 and newer hosts (RHEL 8, Debian 11, Ubuntu 20.04, …).
# Prints nothing (and says why on stderr) where that sysroot cannot be made here (not root, no
# clang): the binary is then linked against this machine's glibc and runs only on hosts as new.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang >/dev/null; then
  echo "native-link-args: clang is not installed (apt-get install clang): linking against this host's glibc" >&2; exit 0
fi
if ! sysroot=$(bash tools/make-sysroot.sh 2>/dev/null); then
  echo "native-link-args: no glibc 2.31 sysroot (tools/make-sysroot.sh needs root and the bullseye chroot): linking against this host's glibc" >&2; exit 0
fi
# log and pow bound to their GLIBC_2.2.5 versions (src/LibvirtPci.Cli/Native/glibc-compat.c): the
# binary then needs nothing newer than GLIBC_2.28 (RHEL 8)
compat=$sysroot/glibc-compat.o
clang --sysroot="$sysroot" -O2 -fPIC -c src/LibvirtPci.Cli/Native/glibc-compat.c -o "$compat.tmp" && mv "$compat.tmp" "$compat" \
  || { echo "native-link-args: glibc-compat.c did not compile" >&2; exit 1; }
echo "-p:SysRoot=$sysroot -p:CppCompilerAndLinker=clang -p:GlibcCompatObject=$compat"
