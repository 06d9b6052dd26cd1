#!/bin/sh
# Writes the stand-ins for Arch's [core] and [extra] into $1/srv/archlinux, laid out as a mirror
# ($repo/os/$arch). Packages are made here with bsdtar (a .PKGINFO is all pacman and repo-add
# read), and the databases with the image's own repo-add 7.1.
#  - core/debian-base: provides what dpkg installed, so `pacman -T base-devel git` and makepkg's
#    dependency checks see those tools as installed;
#  - core/archlinux-keyring: Arch refreshes it before the rest of an upgrade; repoctl does too;
#  - extra/: empty: an official repository that a dependency can be looked up in and not found.
set -eu
root=$1
mirror="$root/srv/archlinux"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# pkg NAME VERSION ARCH DESC [PROVIDES...]: a package file in $work/pkgs.
pkg() {
  name=$1 version=$2 arch=$3 desc=$4
  shift 4
  dir="$work/build/$name"
  mkdir -p "$dir" "$work/pkgs"
  {
    echo "pkgname = $name"
    echo "pkgbase = $name"
    echo "pkgver = $version"
    echo "pkgdesc = $desc"
    echo "url = https://archlinux.org/"
    echo "builddate = 1764374400"
    echo "packager = repoctl testbed"
    echo "size = 0"
    echo "arch = $arch"
    echo "license = GPL-2.0-or-later"
    for p in "$@"; do echo "provides = $p"; done
  } > "$dir/.PKGINFO"
  (cd "$dir" && bsdtar --zstd -cf "$work/pkgs/$name-$version-$arch.pkg.tar.zst" .PKGINFO)
}

pkg debian-base 1-1 any "What dpkg installed, as pacman sees it" \
  base base-devel glibc gcc gcc-libs make binutils bash sh coreutils git sudo fakeroot file gzip bzip2 \
  xz zstd tar libarchive pacman patch sed grep gawk findutils diffutils gnupg which util-linux \
  ca-certificates curl debugedit
pkg archlinux-keyring 20261101-1 any "Arch Linux PGP keyring (stand-in: no keys)"

for repo in core extra; do
  mkdir -p "$mirror/$repo/os/x86_64"
done
cp "$work"/pkgs/*.pkg.tar.zst "$mirror/core/os/x86_64/"
# repo-add runs in the new root: the databases are what pacman 7.1's own tools write.
chroot "$root" sh -c 'cd /srv/archlinux/core/os/x86_64 && repo-add -q core.db.tar.gz *.pkg.tar.zst'
# [extra] starts empty: repo-add then warns "No packages remain, creating empty database", which
# is what is meant here (issue 29: noise in the demo's first run). That line is dropped; anything
# else repo-add says is shown, and all of it when it fails.
said=$(chroot "$root" sh -c 'cd /srv/archlinux/extra/os/x86_64 && repo-add -q extra.db.tar.gz' 2>&1) \
  || { printf '%s\n' "$said" >&2; exit 1; }
printf '%s\n' "$said" | grep -v 'No packages remain, creating empty database' >&2 || true
# Readable by the download user, as a mirror is.
chmod -R a+rX "$mirror"
