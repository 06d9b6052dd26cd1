#!/bin/sh
# Runs inside the variant image's build: adds the variant's packages to the stand-in [extra]
# (/srv/archlinux/extra/os/x86_64) and rewrites its database with the image's repo-add.
# $1: prev or next (see build.sh).
set -eu
variant=$1
repo=/srv/archlinux/extra/os/x86_64
work=$(mktemp -d)

# pkg NAME VERSION DESC [PROVIDES...]: an x86_64 package file in $repo holding its .PKGINFO and
# whatever $work/NAME/usr holds.
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
  files=.PKGINFO
  [ -d "$work/$name/usr" ] && files=".PKGINFO usr"
  # shellcheck disable=SC2086 # two names at most, no spaces
  (cd "$work/$name" && bsdtar --zstd -cf "$repo/$name-$version-x86_64.pkg.tar.zst" $files)
}

# libstand SONAME_VERSION: a real shared library in $work/libstand/usr, as a C package links it
# (issue 26): usr/include/stand.h, usr/lib/libstand.so.N.0.0 whose DT_SONAME is libstand.so.N,
# and the links libstand.so.N and libstand.so (what `cc -lstand` finds). Built with the image's
# gcc, as Arch builds its libraries with its own.
libstand() {
  n=$1 dir=$work/libstand/usr
  mkdir -p "$dir/include" "$dir/lib"
  echo 'int stand_version(void);' > "$dir/include/stand.h"
  echo "int stand_version(void) { return $n; }" > "$work/stand.c"
  gcc -shared -fPIC -Wl,-soname,libstand.so.$n -o "$dir/lib/libstand.so.$n.0.0" "$work/stand.c"
  ln -s "libstand.so.$n.0.0" "$dir/lib/libstand.so.$n"
  ln -s "libstand.so.$n" "$dir/lib/libstand.so"
}

case $variant in
  prev)
    libstand 1
    pkg libstand 1-1 "A shared library (stand-in, soname 1)" libstand.so=1-64
    pkg oldtool 1.0-1 "An official package the next variant drops"
    ;;
  next)
    libstand 2
    pkg libstand 2-1 "A shared library (stand-in, soname 2)" libstand.so=2-64
    ;;
  *) echo "unknown variant $variant" >&2; exit 2 ;;
esac
cd "$repo"
rm -f extra.db* extra.files*
repo-add -q extra.db.tar.gz ./*.pkg.tar.zst
chmod -R a+rX /srv/archlinux
rm -rf "$work"
