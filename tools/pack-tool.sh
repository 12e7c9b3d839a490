#!/usr/bin/env bash
# Packs the dotnet tool into a local feed: tools/pack-tool.sh [FEED] [--native]
#   default   LibvirtPci.Tool (+ .linux-x64): ReadyToRun code, JIT for the rest
#   --native  the linux-x64 package holds the NativeAOT binary instead (starts in ~4 ms)
# Install: dotnet tool install LibvirtPci.Tool --tool-path DIR --add-source FEED   (or -g)
set -euo pipefail
cd "$(dirname "$0")/.."
feed=${1:-out/feed}; rm -rf "$feed"
dotnet pack src/LibvirtPci.Cli -c Release -o "$feed" -nologo -v quiet
if [ "${2:-}" = --native ]; then
  rm -f "$feed"/LibvirtPci.Tool.linux-x64.*.nupkg
  dotnet pack src/LibvirtPci.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$feed" -nologo -v quiet
fi
ls "$feed"
