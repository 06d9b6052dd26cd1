#!/usr/bin/env bash
# Builds the offline Arch-compatible test image `repoctl-testbed:latest` from Debian's own
# pacman and makepkg packages. There is no container registry in CI, so `archlinux:base-devel`
# cannot be pulled; this image stands in for it and repoctl drives it with the same code.
#
# Usage: images/testbed/build.sh [IMAGE_TAG]     (needs root, mmdebstrap and a Docker daemon)
set -euo pipefail
tag=${1:-repoctl-testbed:latest}
here=$(cd "$(dirname "$0")" && pwd)

if docker image inspect "$tag" >/dev/null 2>&1 && [ "${REBUILD:-0}" != 1 ]; then
  echo "testbed: $tag already present (REBUILD=1 to rebuild)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mmdebstrap --quiet --variant=apt \
  --include=makepkg,pacman-package-manager,libarchive-tools,fakeroot,git,ca-certificates,file,xz-utils,zstd,binutils,gzip,bzip2 \
  --customize-hook="sh '$here/customize.sh' \"\$1\"" \
  bookworm "$work/rootfs.tar"

docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  "$work/rootfs.tar" "$tag" >/dev/null
echo "testbed: built $tag"
