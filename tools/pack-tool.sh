#!/usr/bin/env bash
# Packs the dotnet tool into a local feed: tools/pack-tool.sh [FEED]
#   LibvirtPci.Tool            the pointer package `dotnet tool install` resolves
#   LibvirtPci.Tool.linux-x64  the NativeAOT binary (KVM hosts: starts like a C program)
#   LibvirtPci.Tool.any        framework-dependent fallback for every other platform (JIT)
# Install: dotnet tool install LibvirtPci.Tool --tool-path DIR --add-source FEED   (or -g)
set -euo pipefail
cd "$(dirname "$0")/.."
feed=${1:-out/feed}; rm -rf "$feed"
dotnet pack src/LibvirtPci.Cli -c Release -o "$feed" -nologo -v quiet
# shellcheck disable=SC2046
dotnet pack src/LibvirtPci.Cli -c Release -r linux-x64 $(bash tools/native-link-args.sh) -o "$feed" -nologo -v quiet
dotnet pack src/LibvirtPci.Cli -c Release -r any -o "$feed" -nologo -v quiet
ls "$feed"
