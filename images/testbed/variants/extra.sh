#!/bin/sh
# Runs inside the variant image's build: adds the variant's packages to the stand-in [extra]
# (/srv/archlinux/extra/os/x86_64) and rewrites its database with the image's repo-add.
# $1: prev or next (see build.sh).
set -eu
variant=$1
repo=/srv/archlinux/extra/os/x86_64
work=$(mktemp -d)

# pkg NAME VERSION DESC [PROVIDES...]: a .PKGINFO-only x86_64 package file in $repo.
pkg() {
  name=$1 version=$2 desc=$3
  shift 3
  mkdir -p "$work/$name"
  {
    echo "pkgname = $name"
    echo "pkgbase = $name"
    echo "pkgver = $version"
    echo "pkgdesc = $desc"
    echo "url = https://archlinux.org/"
    echo "builddate = 1764374400"
    echo "packager = repoctl testbed"
    echo "size = 0"
    echo "arch = x86_64"
    echo "license = GPL-2.0-or-later"
    for p in "$@"; do echo "provides = $p"; done
  } > "$work/$name/.PKGINFO"
  (cd "$work/$name" && bsdtar --zstd -cf "$repo/$name-$version-x86_64.pkg.tar.zst" .PKGINFO)
}

case $variant in
  prev)
    pkg libstand 1-1 "A shared library (stand-in, soname 1)" libstand.so=1-64
    pkg oldtool 1.0-1 "An official package the next variant drops"
    ;;
  next)
    pkg libstand 2-1 "A shared library (stand-in, soname 2)" libstand.so=2-64
    ;;
  *) echo "unknown variant $variant" >&2; exit 2 ;;
esac
cd "$repo"
rm -f extra.db* extra.files*
repo-add -q extra.db.tar.gz ./*.pkg.tar.zst
chmod -R a+rX /srv/archlinux
rm -rf "$work"
