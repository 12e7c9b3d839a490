#!/usr/bin/env bash
# Every test: the whole suite (unit, conformance, snapshot, property, CLI, Git hook, packaging,
# libvirt and firmware integration), then the CLI tests again against the NativeAOT binary.
# Integration tests need root + libvirt/QEMU/firmware (see .ci/run); without them they report
# "skipped" locally and fail under CI=true.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0

echo "== dotnet test (all)"
dotnet test LibvirtPci.sln "$@" 2>&1 | tee -a "$log" || rc=1

echo "== NativeAOT binary, then the CLI tests against it"
if native=$(bash tools/publish-native.sh out/native); then
  LIBVIRT_PCI_BINARY="$PWD/$native" dotnet test LibvirtPci.sln --no-build --filter Category=Cli 2>&1 | tee -a "$log" || rc=1
else
  echo "NativeAOT publish failed"; rc=1
fi

if [ -x tools/bench/run.sh ]; then
  echo "== benchmark smoke (it runs and prints; timings are not asserted)"
  bash tools/bench/run.sh --smoke 2>&1 | tee -a "$log" || rc=1
fi

passed=$(grep -oE 'Passed:\s+[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed:\s+[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "$passed passed, $failed failed"
exit $rc
