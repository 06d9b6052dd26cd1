#!/bin/sh
# Runs as the unprivileged user `builder`, with the network, for `network: offline-build`:
# downloads the sources into the pkgbase's source cache (SRCDEST) and checks them (checksums,
# PGP signatures), building nothing. repoctl then cuts the container off every network, and
# build.sh runs makepkg with --holdver so VCS sources are used as fetched here, not updated.
set -eu
cd /repoctl/src
export SRCDEST=/repoctl/srcdest
makepkg --verifysource --noconfirm
