#!/usr/bin/env bash
# Every test: the whole suite (unit, conformance, snapshot, property, CLI, Git hook, packaging,
# libvirt and firmware integration), then the CLI and Ansible tests again against the NativeAOT
# binary, with the tests that need it (Category=NativeBinary: the binary on a Debian 11 host).
# Integration tests need root + libvirt/QEMU/firmware (see .ci/run); without them they are reported
# Skipped, with the reason, and fail under CI. The conformance tests need libvirt's test corpus,
# which this script fetches first (tools/fetch-libvirt-corpus.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0

echo "== libvirt's own test corpus (fetched from Debian's source package, cached outside the repository)"
bash tools/fetch-libvirt-corpus.sh 7.0.0 9.0.0 11.3.0 ||
  echo "corpus not fetched: its tests skip (and fail under CI); run tools/fetch-libvirt-corpus.sh 7.0.0 9.0.0 11.3.0"

rm -f out/harness.txt
echo "== dotnet test (all)"
dotnet test LibvirtPci.sln --filter "Category!=NativeBinary" "$@" 2>&1 | tee -a "$log" || rc=1

echo "== NativeAOT binary, then the CLI tests against it"
if native=$(bash tools/publish-native.sh out/native); then
  LIBVIRT_PCI_BINARY="$PWD/$native" dotnet test LibvirtPci.sln --no-build --filter "Category=Cli|Category=Ansible|Category=NativeBinary" 2>&1 | tee -a "$log" || rc=1
else
  echo "NativeAOT publish failed"; rc=1
fi

if [ -x tools/bench/run.sh ]; then
  echo "== benchmark smoke (it runs and prints; timings are not asserted)"
  bash tools/bench/run.sh --smoke 2>&1 | tee -a "$log" || rc=1
fi

if [ -s out/harness.txt ]; then
  echo "== measured against real parts: the differential harness (a line per daemon), the booted guests"
  cat out/harness.txt
fi

passed=$(grep -oE 'Passed:\s+[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed:\s+[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped:\s+[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
