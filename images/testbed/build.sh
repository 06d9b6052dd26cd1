#!/usr/bin/env bash
# Builds the offline Arch-compatible test image `repoctl-testbed:latest` from Debian's own
# pacman and makepkg packages. There is no container registry in CI, so `archlinux:base-devel`
# cannot be pulled; this image stands in for it and repoctl drives it with the same code.
#
# Usage: images/testbed/build.sh [IMAGE_TAG]     (needs root, mmdebstrap and a Docker daemon)
set -euo pipefail
tag=${1:-repoctl-testbed:latest}
here=$(cd "$(dirname "$0")" && pwd)

# The image is labelled with a hash of its inputs (this script and customize.sh), so a change
# to either (a package added to --include) rebuilds it; an unchanged one is kept.
inputs=$(cat "$here/build.sh" "$here/customize.sh" | sha256sum | cut -c1-16)
label=io.repoctl.testbed.inputs
present=$(docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$tag" 2>/dev/null || true)
if [ "$present" = "$inputs" ] && [ "${REBUILD:-0}" != 1 ]; then
  echo "testbed: $tag is up to date (REBUILD=1 to rebuild)"
  exit 0
fi
[ -z "$present" ] || [ "$present" = "$inputs" ] || echo "testbed: $tag was made from other inputs; rebuilding"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mmdebstrap --quiet --variant=apt \
  --include=makepkg,pacman-package-manager,libarchive-tools,fakeroot,git,ca-certificates,file,xz-utils,zstd,binutils,gzip,bzip2,gnupg \
  --customize-hook="sh '$here/customize.sh' \"\$1\"" \
  bookworm "$work/rootfs.tar"

docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  --change "LABEL $label=$inputs" \
  "$work/rootfs.tar" "$tag" >/dev/null
echo "testbed: built $tag"
