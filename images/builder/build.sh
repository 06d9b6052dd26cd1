#!/bin/sh
# Runs as the unprivileged user `builder`: makepkg, then the list of files it made.
# Arguments are passed to makepkg (for example --nocheck).
set -eu
cd /repoctl/src
export PKGDEST=/repoctl/out PKGEXT=.pkg.tar.zst
makepkg --noconfirm --nosign --force "$@"
makepkg --packagelist > /repoctl/out/.packagelist
