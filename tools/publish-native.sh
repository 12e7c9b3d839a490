#!/usr/bin/env bash
# Builds the NativeAOT single binary: tools/publish-native.sh [OUT_DIR]  (default out/native);
# it needs glibc 2.28 or newer (RHEL 8, Debian 11, Ubuntu 20.04 and newer hosts; see README, Install)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/native}
# Linked against Debian 11's glibc 2.31 (log/pow bound to GLIBC_2.2.5) where the sysroot can be made (tools/native-link-args.sh),
# so that the one binary runs on every host the tool supports.
# shellcheck disable=SC2046
dotnet publish src/LibvirtPci.Cli -c Release -r linux-x64 -p:PublishAot=true $(bash tools/native-link-args.sh) -o "$out" -nologo -v quiet
rm -f "$out"/*.dbg "$out"/*.pdb
echo "$out/libvirt-pci"
