#!/bin/sh
# Runs as the unprivileged user `builder`: makepkg, then the list of files it made.
# Usage: build.sh debug|nodebug [makepkg arguments, for example --nocheck]
#   nodebug: makepkg runs with OPTIONS+=(!debug), so no time goes into debug packages (a
#   PKGBUILD's own options=(debug) still wins, as it does on Arch; repoctl then leaves the
#   debug package out of the repository). debug: the image's makepkg.conf decides.
set -eu
mode=$1
shift
cd /repoctl/src
# SRCDEST: a volume per pkgbase, so a rebuild does not download (or clone) its sources again.
export PKGDEST=/repoctl/out PKGEXT=.pkg.tar.zst SRCDEST=/repoctl/srcdest
# makepkg reads $XDG_CONFIG_HOME/pacman/makepkg.conf after /etc/makepkg.conf (makepkg.conf(5));
# in OPTIONS the last mention of an option wins.
conf="${XDG_CONFIG_HOME:-$HOME/.config}/pacman/makepkg.conf"
mkdir -p "$(dirname "$conf")"
if [ "$mode" = nodebug ]; then
  echo 'OPTIONS+=(!debug)' > "$conf"
else
  : > "$conf"
fi
makepkg --noconfirm --nosign --force "$@"
# What makepkg made is collected by collect.sh, as root, once every process of this user is
# stopped; repoctl checks each file's .PKGINFO against the lock before it takes it.
