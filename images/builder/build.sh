#!/bin/sh
# Runs as the unprivileged user `builder`: makepkg, then the list of files it made.
# Arguments are passed to makepkg (for example --nocheck).
set -eu
cd /repoctl/src
# SRCDEST: a volume per pkgbase, so a rebuild does not download (or clone) its sources again.
export PKGDEST=/repoctl/out PKGEXT=.pkg.tar.zst SRCDEST=/repoctl/srcdest
makepkg --noconfirm --nosign --force "$@"
# --packagelist names what makepkg *may* make: with Arch's default OPTIONS=(debug ...), a
# pkgname-debug package is listed even when there were no symbols to split off. Keep what exists.
# (`if`, not `[ ] &&`: a missing last file must not become the loop's exit status under set -e.)
makepkg --packagelist | while read -r f; do if [ -f "$f" ]; then echo "$f"; fi; done > /repoctl/out/.packagelist
