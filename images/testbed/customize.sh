#!/bin/sh
# Runs inside mmdebstrap's customize hook with the new root as $1. It makes the
# Debian root look like an Arch one to pacman and makepkg:
#  - /etc/mtab and /var/lib/pacman, which pacman expects and an Arch image has;
#  - a pacman local-database entry "debian-base" that provides what dpkg installed
#    (base-devel, git, ...), so `pacman -T`, makepkg's dependency check and
#    `pacman -S --needed base-devel` see them, as they would on Arch.
set -eu
root=$1
ln -sf /proc/self/mounts "$root/etc/mtab"
mkdir -p "$root/var/lib/pacman/local" "$root/var/cache/pacman/pkg"
echo 9 > "$root/var/lib/pacman/local/ALPM_DB_VERSION"
entry="$root/var/lib/pacman/local/debian-base-1-1"
mkdir -p "$entry"
{
  printf '%%NAME%%\ndebian-base\n\n%%VERSION%%\n1-1\n\n%%DESC%%\nWhat dpkg installed, as pacman sees it\n\n'
  printf '%%ARCH%%\nany\n\n%%BUILDDATE%%\n0\n\n%%INSTALLDATE%%\n0\n\n%%PACKAGER%%\nrepoctl testbed\n\n%%SIZE%%\n0\n\n%%REASON%%\n0\n\n'
  printf '%%PROVIDES%%\n'
  for p in base base-devel glibc gcc gcc-libs make binutils bash sh coreutils git sudo fakeroot \
           file gzip bzip2 xz zstd tar libarchive pacman patch sed grep gawk findutils diffutils gnupg \
           which util-linux ca-certificates; do
    echo "$p"
  done
  printf '\n'
} > "$entry/desc"
printf '%%FILES%%\n\n' > "$entry/files"
