#!/bin/sh
# Runs as the unprivileged user `builder` for a VCS package: fetch the sources (into the
# pkgbase's source cache) and run pkgver(), build nothing; then print the .SRCINFO it now
# gives between markers. repoctl reads the version from it with alpm-srcinfo.
# Arguments go to makepkg: `--holdver` where the sources were fetched before (fetch.sh) into a
# source cache this container only reads.
set -eu
cd /repoctl/src
export SRCDEST=/repoctl/srcdest
makepkg --nobuild --nodeps --noconfirm "$@"
makepkg --printsrcinfo > /tmp/upstream.SRCINFO
echo "REPOCTL-SRCINFO-BEGIN"
cat /tmp/upstream.SRCINFO
echo "REPOCTL-SRCINFO-END"
