#!/usr/bin/env bash
# fetch-libvirt-corpus.sh VERSION... — libvirt's own x86 pc/q35 xml->xml test pairs, from
# Debian's libvirt source package of that version, into a cache outside the repository.
#
#   VERSION   7.0.0 (Debian 11), 9.0.0 (Debian 12), 11.3.0 (Debian 13); 7.0, 9.0, 11.3 also work
#   --force   fetch and extract again even when the cache is complete
#   --print   print the cache folder of VERSION and exit (nothing is fetched)
#
# The upstream tarball inside the source package (libvirt_VERSION.orig.tar.xz) is what libvirt's
# tests are read from; Debian's patches are not applied. It comes from `apt-get source
# --download-only` where the machine has deb-src entries for that release, else from the
# archive's pool on the Debian mirror this machine's apt is configured with
# (LIBVIRT_PCI_DEBIAN_MIRROR overrides it). Either way its SHA-256 must be the one pinned below.
# tools/libvirt_corpus.py then reads the test program and copies the pairs with their
# capability kind (MANIFEST.tsv, CAPS.tsv). Nothing of libvirt's is committed to this repository.
#
# Cache: ${LIBVIRT_PCI_CORPUS_DIR:-${XDG_CACHE_HOME:-~/.cache}/libvirt-pci/corpus}/VERSION
# Exit: 0 ready; 1 download or checksum failed; 2 usage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${LIBVIRT_PCI_CORPUS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/libvirt-pci/corpus}

# version  Debian source version  release  SHA-256 of libvirt_VERSION.orig.tar.xz
known() {
  case "$1" in
    7.0.0)  echo "7.0.0-3+deb11u3 bullseye ca3833844d08c22867f1d1a46edc36bda7d6fe1a4f267e7d77100b79fc9ddd89" ;;
    9.0.0)  echo "9.0.0-4+deb12u2 bookworm deca5cff1b7baac297bca9663907c61f71a47183371dc7ac019c107806d5435a" ;;
    11.3.0) echo "11.3.0-3+deb13u3 trixie 6bcb0c42c4580436fea262ced56f68a6afe20f7390b1bea2116718cc034a0283" ;;
    *) return 1 ;;
  esac
}

usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

mirror() {
  if [ -n "${LIBVIRT_PCI_DEBIAN_MIRROR:-}" ]; then echo "${LIBVIRT_PCI_DEBIAN_MIRROR%/}"; return; fi
  # the first Debian archive (not -security) among apt's sources
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE '(https?://[^ ]+/debian)/?( |$)' | grep -v -- '-security' | head -n 1 | tr -d ' ' | sed 's:/$::'
}

download() { # VERSION DEBVER SHA DIR -> path of the verified orig tarball
  local v=$1 debver=$2 sha=$3 dir=$4 file="libvirt_$1.orig.tar.xz" base
  if ! (cd "$dir" && apt-get source --download-only -qq "libvirt=$debver" >/dev/null 2>&1) || [ ! -s "$dir/$file" ]; then
    base=$(mirror)
    [ -n "$base" ] || { echo "fetch-libvirt-corpus: no Debian mirror in apt's sources; set LIBVIRT_PCI_DEBIAN_MIRROR" >&2; return 1; }
    echo "fetch-libvirt-corpus: $file from $base/pool/main/libv/libvirt/" >&2
    if command -v curl >/dev/null; then curl -fsSL -o "$dir/$file" "$base/pool/main/libv/libvirt/$file"
    else wget -q -O "$dir/$file" "$base/pool/main/libv/libvirt/$file"; fi || {
      echo "fetch-libvirt-corpus: download of $file failed" >&2; return 1; }
  fi
  echo "$sha  $dir/$file" | sha256sum -c --quiet - >&2 || {
    echo "fetch-libvirt-corpus: $file does not have the pinned SHA-256 $sha" >&2; return 1; }
  echo "$dir/$file"
}

fetch() { # VERSION
  local v=$1 info debver release sha dest work tarball stamp
  info=$(known "$v") || { echo "fetch-libvirt-corpus: unknown version '$v' (known: 7.0.0 9.0.0 11.3.0)" >&2; exit 2; }
  read -r debver release sha <<<"$info"
  dest=$root/$v
  # the stamp names the tarball and the extractor: a changed extractor extracts again
  stamp="$sha $(sha256sum "$here/libvirt_corpus.py" | cut -c1-16)"
  if [ -z "$force" ] && [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$stamp" ]; then
    echo "fetch-libvirt-corpus: libvirt $v is in $dest" >&2; return 0
  fi
  mkdir -p "$root"
  work=$(mktemp -d "$root/.work-$v.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  tarball=$(download "$v" "$debver" "$sha" "$work") || exit 1
  tar -xJf "$tarball" -C "$work" --wildcards --no-wildcards-match-slash \
    "libvirt-$v/tests/qemuxml2xmltest.c" "libvirt-$v/tests/qemuxml2argvdata/*" "libvirt-$v/tests/qemuxml2xmloutdata/*" \
    "libvirt-$v/tests/qemuxmlconftest.c" "libvirt-$v/tests/qemuxmlconfdata/*" 2>/dev/null || true
  [ -d "$work/libvirt-$v/tests" ] || { echo "fetch-libvirt-corpus: no tests/ in $tarball" >&2; exit 1; }
  python3 "$here/libvirt_corpus.py" "$work/libvirt-$v" "$work/out" "$v"
  cat > "$work/out/README.md" <<EOF
# libvirt $v: x86 pc/q35 xml->xml test pairs

Extracted by tools/fetch-libvirt-corpus.sh from libvirt_$v.orig.tar.xz (SHA-256 $sha), the
upstream tarball of Debian's source package libvirt $debver ($release). libvirt is
LGPL-2.1-or-later; these files are its test data, unchanged. CASE.in.xml is the input,
CASE.out.xml what libvirt stores for it (inactive XML); MANIFEST.tsv and CAPS.tsv say which
QEMU capabilities libvirt's test used (see tools/libvirt_corpus.py).
EOF
  echo "$stamp" > "$work/out/.complete"
  rm -rf "$dest.old"; [ -d "$dest" ] && mv "$dest" "$dest.old"
  mv "$work/out" "$dest"; rm -rf "$dest.old" "$work"; trap - EXIT
  echo "fetch-libvirt-corpus: libvirt $v: $(($(wc -l < "$dest/MANIFEST.tsv") - 1)) pairs in $dest" >&2
}

force= print= versions=()
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --print) print=1 ;;
    -h|--help) usage ;;
    -*) echo "fetch-libvirt-corpus: unknown option $a" >&2; usage ;;
    *.*.*) versions+=("$a") ;;
    *.*) versions+=("$a.0") ;;
    *) echo "fetch-libvirt-corpus: '$a' is not a version" >&2; usage ;;
  esac
done
[ ${#versions[@]} -gt 0 ] || usage
for v in "${versions[@]}"; do
  if [ -n "$print" ]; then echo "$root/$v"; else fetch "$v"; fi
done
