#!/usr/bin/env bash
# release.sh — every release artefact from one command, into out/release/VERSION/:
#   libvirt-pci_VERSION-1_amd64.deb     dpkg-deb; /usr/bin, man page, bash and zsh completions, docs
#   libvirt-pci-VERSION-1.x86_64.rpm    rpmbuild from packaging/rpm/libvirt-pci.spec, the same files
#   libvirt-pci-VERSION-linux-x86_64.tar.gz   the bare binary with its man page and completions
#   libvirt_pci-fleet-VERSION.tar.gz    the Ansible collection (ansible-galaxy collection build)
#   fleet_migrate.yml                   its playbook, to run as a file of the user's own
#   SHA256SUMS                          over all of them (sha256sum -c SHA256SUMS)
#
#   tools/release.sh [--binary PATH] [--out DIR] [VERSION]
#     --binary   use this NativeAOT binary (default: build it with tools/publish-native.sh)
#     --out      where to put the artefacts (default out/release/VERSION)
#     VERSION    must be what the binary says (libvirt-pci --version): the version is set in
#                src/LibvirtPci.Cli/Commands.cs (Version, ReleaseDate) and the collection's galaxy.yml
# The man page and completions are made by the binary itself (libvirt-pci man, completion), from
# the definitions --help uses. Timestamps come from SOURCE_DATE_EPOCH (default: the last commit),
# so two runs give the same .deb and tarballs.
# Needs: dpkg-deb, rpmbuild (Debian's rpm package), ansible-galaxy (ansible-core), gzip, tar.
set -euo pipefail
cd "$(dirname "$0")/.."
binary= out= version=
while [ $# -gt 0 ]; do
  case $1 in
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "release.sh: unknown option $1" >&2; exit 2 ;;
    *) version=$1; shift ;;
  esac
done
for tool in dpkg-deb rpmbuild ansible-galaxy gzip tar sha256sum; do
  command -v "$tool" >/dev/null || { echo "release.sh: $tool is not installed (apt-get install dpkg rpm ansible-core)" >&2; exit 2; }
done
if [ -z "$binary" ]; then
  binary=$(bash tools/publish-native.sh out/release/build) || { echo "release.sh: the NativeAOT build failed" >&2; exit 1; }
fi
built=$("$binary" --version)
version=${version:-$built}
[ "$version" = "$built" ] || { echo "release.sh: $binary is $built, not $version: set Commands.Version first" >&2; exit 2; }
collection=$(sed -n 's/^version: *//p' src/ansible_collections/libvirt_pci/fleet/galaxy.yml)
[ "$collection" = "$version" ] || { echo "release.sh: the collection's galaxy.yml says $collection, not $version" >&2; exit 2; }
out=${out:-out/release/$version}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
rm -rf "$out"; mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# the files every artefact carries, made once
files=$work/files
mkdir -p "$files"
install -m 0755 "$binary" "$files/libvirt-pci"
"$binary" man | gzip -9n > "$files/libvirt-pci.1.gz"
"$binary" completion bash > "$files/libvirt-pci.bash"
"$binary" completion zsh > "$files/_libvirt-pci"
cp README.md LICENSE "$files/"

# .deb: Debian's own layout (zsh's vendor-completions, docs compressed, DEP-5 copyright)
deb=$work/deb
install -D -m 0755 "$files/libvirt-pci" "$deb/usr/bin/libvirt-pci"
install -D -m 0644 "$files/libvirt-pci.1.gz" "$deb/usr/share/man/man1/libvirt-pci.1.gz"
install -D -m 0644 "$files/libvirt-pci.bash" "$deb/usr/share/bash-completion/completions/libvirt-pci"
install -D -m 0644 "$files/_libvirt-pci" "$deb/usr/share/zsh/vendor-completions/_libvirt-pci"
install -D -m 0644 packaging/deb/copyright "$deb/usr/share/doc/libvirt-pci/copyright"
gzip -9n < README.md > "$deb/usr/share/doc/libvirt-pci/README.md.gz"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -u -R -d "@$SOURCE_DATE_EPOCH")/" packaging/deb/changelog | gzip -9n > "$deb/usr/share/doc/libvirt-pci/changelog.Debian.gz"
chmod 0644 "$deb"/usr/share/doc/libvirt-pci/*
mkdir -p "$deb/DEBIAN"
(cd "$deb" && find usr -type f | sort | xargs md5sum) > "$deb/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$deb" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" packaging/deb/control > "$deb/DEBIAN/control"
find "$deb" -type d -exec chmod 0755 {} +
find "$deb" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$deb" "$out/libvirt-pci_${version}-1_amd64.deb" >/dev/null

# .rpm: from the spec in the repository, over the same files
rpmbuild -bb --quiet --define "_topdir $work/rpmbuild" --define "stage $files" --define "pkgversion $version" \
  --define "_build_id_links none" --define "use_source_date_epoch_as_buildtime 1" --define "clamp_mtime_to_source_date_epoch 1" \
  packaging/rpm/libvirt-pci.spec >"$work/rpmbuild.log" 2>&1 || { cat "$work/rpmbuild.log" >&2; exit 1; }
cp "$work"/rpmbuild/RPMS/x86_64/libvirt-pci-"$version"-1.x86_64.rpm "$out/"

# the bare binary, for every other Linux (see README, Install)
tarball=libvirt-pci-$version-linux-x86_64
mkdir -p "$work/$tarball"
cp "$files"/* "$work/$tarball/"
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner -C "$work" -cf - "$tarball" | gzip -9n > "$out/$tarball.tar.gz"

# the Ansible collection, and its playbook as a file of the user's own (run from inside the
# collection, ansible-core warns "running playbook inside collection" on every run)
ansible-galaxy collection build src/ansible_collections/libvirt_pci/fleet --output-path "$out" >/dev/null
cp src/ansible_collections/libvirt_pci/fleet/playbooks/fleet_migrate.yml "$out/"

(cd "$out" && sha256sum -- *.deb *.rpm *.tar.gz fleet_migrate.yml > SHA256SUMS)
echo "$out"
