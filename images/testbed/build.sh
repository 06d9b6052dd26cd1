#!/usr/bin/env bash
# Builds the offline test image `repoctl-testbed:latest`: archlinux:base-devel in every way that
# matters to repoctl, made from Debian's own pacman and makepkg 7.1 packages (suite sid) and
# configured with Arch's settings (SETTINGS.md lists each one and where it comes from). There is
# no container registry in CI, so `archlinux:base-devel` cannot be pulled; repoctl drives this
# image with the same code.
#
# Usage: images/testbed/build.sh [IMAGE_TAG]     (needs root, mmdebstrap and a Docker daemon)
set -euo pipefail
tag=${1:-repoctl-testbed:latest}
here=$(cd "$(dirname "$0")" && pwd)

# The image is labelled with a hash of its inputs (every file in this directory but the notes),
# so a change to any of them rebuilds it; an unchanged one is kept.
inputs=$(cat "$here/build.sh" "$here/customize.sh" "$here/pacman.conf" "$here/makepkg.conf" "$here/standin.sh" \
  | sha256sum | cut -c1-16)
label=io.repoctl.testbed.inputs
present=$(docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$tag" 2>/dev/null || true)
if [ "$present" = "$inputs" ] && [ "${REBUILD:-0}" != 1 ]; then
  echo "testbed: $tag is up to date (REBUILD=1 to rebuild)"
  exit 0
fi
[ -z "$present" ] || [ "$present" = "$inputs" ] || echo "testbed: $tag was made from other inputs; rebuilding"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# sid has pacman 7.1 (trixie: 7.0). This mirror serves sid with a Release file past its
# Valid-Until date, so apt is told not to check it. The apt variant installs no Recommends:
# what archlinux:base-devel has that repoctl's builds use is listed by name. passwd gives
# useradd, login/util-linux give su, libc6-dev the C headers, debugedit makes debug packages.
mmdebstrap --quiet --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
  --include=makepkg,pacman-package-manager,libarchive-tools,fakeroot,git,ca-certificates,file,xz-utils,zstd,binutils,gzip,bzip2,gnupg,debugedit,gcc,libc6-dev,make,patch,curl,passwd,login,util-linux,iproute2 \
  --customize-hook="sh '$here/customize.sh' \"\$1\" '$here'" \
  sid "$work/rootfs.tar" http://deb.debian.org/debian

docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/usr/bin/bash"]' \
  --change "LABEL $label=$inputs" \
  "$work/rootfs.tar" "$tag" >/dev/null
echo "testbed: built $tag"
