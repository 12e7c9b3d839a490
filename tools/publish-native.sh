#!/usr/bin/env bash
# Builds the NativeAOT single binary: tools/publish-native.sh [OUT_DIR]  (default out/native)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/native}
dotnet publish src/LibvirtPci.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$out" -nologo -v quiet
rm -f "$out"/*.dbg "$out"/*.pdb
echo "$out/libvirt-pci"
