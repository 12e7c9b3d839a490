#!/usr/bin/env bash
# The NativeAOT binary of an earlier commit, built once with that commit's own
# tools/publish-native.sh and cached: tools/bench/previous.sh COMMIT  → prints the binary's path.
# The benchmark runs it interleaved with this tree's binary (tools/bench/startup.py), so that a
# change in start-up is measured in one run, on one machine, under one load.
set -euo pipefail
cd "$(dirname "$0")/../.."
commit=$(git rev-parse --short=12 "${1:?usage: previous.sh COMMIT}^{commit}")
cache=${LIBVIRT_PCI_BENCH_CACHE:-/var/tmp/libvirt-pci-bench}/$commit
if [ -x "$cache/libvirt-pci" ]; then echo "$cache/libvirt-pci"; exit 0; fi
work=$(mktemp -d)
trap 'git worktree remove --force "$work/src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach -q "$work/src" "$commit"
echo "previous.sh: building $commit's binary (once; cached in $cache)" >&2
(cd "$work/src" && bash tools/publish-native.sh "$work/out" >/dev/null)
mkdir -p "$cache"
cp "$work/out/libvirt-pci" "$cache/libvirt-pci.tmp" && mv "$cache/libvirt-pci.tmp" "$cache/libvirt-pci"
echo "$cache/libvirt-pci"
