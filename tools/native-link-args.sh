#!/usr/bin/env bash
# native-link-args.sh — the MSBuild properties that link the NativeAOT binary against Debian 11's
# glibc 2.31 (tools/make-sysroot.sh) with clang, so that it runs on glibc 2.31 and newer hosts.
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
echo "-p:SysRoot=$sysroot -p:CppCompilerAndLinker=clang"
