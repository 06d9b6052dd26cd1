#!/usr/bin/env bash
# Builds two variants of the test image whose official repositories differ the way Arch's do from
# one week to the next (issue 26): `repoctl-testbed:prev` and `repoctl-testbed:next`, both made
# from repoctl-testbed:latest by adding stand-in packages to its file:// [extra]:
#   - prev: libstand 1-1 (a real shared library, DT_SONAME libstand.so.1, with stand.h; provides
#           libstand.so=1-64, a versioned soname as Arch writes them) and oldtool 1.0-1;
#   - next: libstand 2-1 (libstand.so.2, provides libstand.so=2-64: the library bumped) and no
#           oldtool (dropped).
# A test points one tag of its own at prev, then at next (`docker tag`): the image ID changes, the
# tag does not, as for a runner that pulls archlinux:base-devel every night.
#
# Each variant is labelled with a hash of this directory's files and of the base image's ID, so it
# is rebuilt when either changes and kept otherwise. Needs a Docker daemon and the base image;
# works offline (the packages are archives made with the image's bsdtar, libstand compiled with
# its gcc, and the databases, .files included, are written by its own repo-add 7.1, as
# images/testbed/standin.sh does).
#
# Usage: images/testbed/variants/build.sh [BASE_IMAGE]
set -euo pipefail
base=${1:-repoctl-testbed:latest}
here=$(cd "$(dirname "$0")" && pwd)
base_id=$(docker image inspect -f '{{.Id}}' "$base")
label=io.repoctl.testbed.inputs
for variant in prev next; do
  tag=repoctl-testbed:$variant
  inputs=$( (cat "$here/build.sh" "$here/extra.sh"; echo "$base_id $variant") | sha256sum | cut -c1-16)
  present=$(docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$tag" 2>/dev/null || true)
  if [ "$present" = "$inputs" ] && [ "${REBUILD:-0}" != 1 ]; then
    echo "testbed: $tag is up to date (REBUILD=1 to rebuild)"
    continue
  fi
  docker build --quiet --network none -t "$tag" --label "$label=$inputs" \
    --build-arg "BASE=$base" --build-arg "VARIANT=$variant" -f - "$here" > /dev/null <<'DOCKERFILE'
ARG BASE
FROM ${BASE}
ARG VARIANT
COPY extra.sh /tmp/extra.sh
RUN sh /tmp/extra.sh "$VARIANT" && rm /tmp/extra.sh
DOCKERFILE
  echo "testbed: built $tag"
done
