#!/bin/sh
# Runs as the unprivileged user `builder` for a VCS package: fetch the sources (into the
# pkgbase's source cache) and run pkgver(), build nothing; then print the resulting version.
set -eu
cd /repoctl/src
export SRCDEST=/repoctl/srcdest
makepkg --nobuild --nodeps --noconfirm
makepkg --printsrcinfo > /tmp/upstream.SRCINFO
field() { sed -n "s/^[[:space:]]*$1 = //p" /tmp/upstream.SRCINFO | head -n 1; }
epoch=$(field epoch)
echo "REPOCTL-UPSTREAM-VERSION ${epoch:+$epoch:}$(field pkgver)-$(field pkgrel)"
